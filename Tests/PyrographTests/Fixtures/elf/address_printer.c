/* Executable fixture (built both -pie and -no-pie): prints the run-time
 * address of pyro_target, then sleeps so its map can be read.
 * Usage: address_printer SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile unsigned long sink;

__attribute__((noinline)) int pyro_target(int n)
{
	for (int i = 0; i < n; i++)
		sink += (unsigned long)i * 7;
	return n;
}

int main(int argc, char **argv)
{
	printf("%p\n", (void *)&pyro_target);
	fflush(stdout);
	pyro_target(3);
	sleep(argc > 1 ? (unsigned)atoi(argv[1]) : 30);
	return 0;
}
