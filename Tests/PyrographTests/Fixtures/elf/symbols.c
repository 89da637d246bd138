/* ELF symbolization fixture, built as a shared library together with
 * widget.cpp. Every function is large enough that an address a few bytes
 * in is still inside it. */
volatile unsigned long pyro_fixture_sink;

__attribute__((noinline)) int pyro_fixture_add(int a, int b)
{
	for (int i = 0; i < a; i++)
		pyro_fixture_sink += (unsigned long)(i * b);
	return a + b;
}

/* A second name for pyro_fixture_add, at the same address. */
int pyro_fixture_add_alias(int a, int b) __attribute__((alias("pyro_fixture_add")));

/* Only in .symtab: found through pyro_fixture_static_address. */
static __attribute__((noinline)) int fixture_static_worker(int n)
{
	for (int i = 0; i < n; i++)
		pyro_fixture_sink ^= (unsigned long)i << 3;
	return n * 3;
}

void *pyro_fixture_static_address(void)
{
	return (void *)&fixture_static_worker;
}

int pyro_fixture_call_static(int n)
{
	return fixture_static_worker(n) + 1;
}

/* A function symbol without a size, as hand-written assembly often has:
 * it extends to the next symbol. */
__asm__(".text\n"
	".globl pyro_fixture_unsized\n"
	".type pyro_fixture_unsized, @function\n"
	"pyro_fixture_unsized:\n"
	"\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n"
	"\tret\n");
