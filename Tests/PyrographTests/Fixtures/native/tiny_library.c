/* A shared library with a little CFI, copied under many names by the
 * unwind-table tests: each copy is a distinct file to compile and free. */
int tiny_library_work(int n)
{
	int total = 0;

	for (int i = 0; i < n; i++)
		total += i * n;
	return total;
}

int tiny_library_more(int n)
{
	return tiny_library_work(n) + tiny_library_work(n + 1);
}
