/* Mixed-stack fixture: a library built with -O2 -fomit-frame-pointer whose
 * outer -> middle -> inner chain burns CPU in inner. Called from Python
 * through ctypes. The stores after each call keep them from becoming tail
 * calls, so each function keeps a frame of its own. */
#include <time.h>

volatile unsigned long chain_sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void inner(double until)
{
	while (now() < until)
		for (int i = 0; i < 200000; i++)
			chain_sink += i;
}

__attribute__((noinline)) void middle(double until)
{
	inner(until);
	chain_sink++;
}

__attribute__((noinline)) void outer(double seconds)
{
	middle(now() + seconds);
	chain_sink++;
}
