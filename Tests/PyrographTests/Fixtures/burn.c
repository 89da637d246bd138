/* Integration fixture: main -> outer -> inner, with all of the CPU time in
 * inner. Built with frame pointers. Usage: burn SECONDS */
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

volatile unsigned long sink;

__attribute__((noinline)) void inner(double until)
{
	while (now() < until)
		for (int i = 0; i < 100000; i++)
			sink += i;
}

__attribute__((noinline)) void outer(double until)
{
	inner(until);
	sink++;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;

	outer(now() + seconds);
	return 0;
}
