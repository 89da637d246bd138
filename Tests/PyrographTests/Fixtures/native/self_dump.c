/* Unwinder-step fixture: built with -O2 -fomit-frame-pointer, its
 * main -> outer -> middle -> inner chain stops in inner, which writes its
 * own registers, the stack above them and /proc/self/maps to a file. The
 * test then unwinds that recorded stack with the BPF unwinder's code.
 * With a second argument, inner raises SIGUSR1 and the handler records the
 * stack instead, so the walk must cross the kernel's signal frame. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile unsigned long dump_sink;

static uint64_t stack_end(void)
{
	char line[512];
	uint64_t start, end, found = 0;
	FILE *maps = fopen("/proc/self/maps", "r");

	while (maps && fgets(line, sizeof(line), maps)) {
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &start, &end) == 2)
			found = end;
	}
	if (maps)
		fclose(maps);
	return found;
}

__attribute__((noinline)) static void dump(const char *path, uint64_t pc, uint64_t sp, uint64_t bp)
{
	uint64_t end = stack_end(), header[5];
	FILE *out = fopen(path, "wb"), *maps = fopen("/proc/self/maps", "r");
	char buffer[4096];
	size_t n;

	if (!out || !maps || !end)
		exit(2);
	header[0] = pc;
	header[1] = sp;
	header[2] = bp;
	header[3] = sp;
	header[4] = end - sp;
	fwrite(header, sizeof(header), 1, out);
	fwrite((const void *)(uintptr_t)sp, 1, end - sp, out);
	while ((n = fread(buffer, 1, sizeof(buffer), maps)) > 0)
		fwrite(buffer, 1, n, out);
	fclose(maps);
	fclose(out);
}

static const char *dump_path;
static int through_signal;

__attribute__((noinline)) void record_here(void)
{
	uint64_t pc, sp, bp;

	/* pc and sp from the same instant: the CFI row for pc describes sp. */
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
			 : "=r"(pc), "=r"(sp), "=r"(bp));
	dump(dump_path, pc, sp, bp);
	dump_sink++;
}

__attribute__((noinline)) void on_signal(int signo)
{
	(void)signo;
	record_here();
	dump_sink++;
}

__attribute__((noinline)) void inner(const char *path)
{
	dump_path = path;
	if (through_signal)
		raise(SIGUSR1);
	else
		record_here();
	dump_sink++;
}

__attribute__((noinline)) void middle(const char *path)
{
	inner(path);
	dump_sink++;
}

__attribute__((noinline)) void outer(const char *path)
{
	middle(path);
	dump_sink++;
}

int main(int argc, char **argv)
{
	struct sigaction action = { .sa_handler = on_signal };

	if (argc < 2)
		return 2;
	through_signal = argc > 2;
	sigemptyset(&action.sa_mask);
	sigaction(SIGUSR1, &action, NULL);
	outer(argv[1]);
	return 0;
}
