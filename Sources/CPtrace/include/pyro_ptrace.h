/* ptrace(2) is variadic in glibc, which Swift cannot call: these fixed
 * signatures are all `pyrograph dump --lock` needs. Each returns 0 or a
 * negative errno. */
#ifndef PYRO_PTRACE_H
#define PYRO_PTRACE_H

#include <stdint.h>
#include <sys/types.h>

/* The registers a native unwind starts from. */
struct pyro_thread_registers {
	uint64_t pc;
	uint64_t sp;
	uint64_t fp;
};

/* PTRACE_SEIZE (no stop, no signal sent). */
int pyro_ptrace_seize(pid_t tid);
/* PTRACE_INTERRUPT, then waits until the thread reports a stop; returns
 * -ESRCH if the thread exited meanwhile. A signal that arrived first stops
 * the thread too: it is kept in *pending_signal (else 0), to be delivered
 * at detach, since a tracer that swallowed it would change the program. */
int pyro_ptrace_interrupt_and_wait(pid_t tid, int *pending_signal);
/* PTRACE_GETREGS, reduced to pc, sp and frame pointer. */
int pyro_ptrace_registers(pid_t tid, struct pyro_thread_registers *registers);
/* PTRACE_DETACH: the thread runs on, with `signal` (0: none) delivered. */
int pyro_ptrace_detach(pid_t tid, int signal);

#endif
