#include "pyro_ptrace.h"

#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

int pyro_ptrace_seize(pid_t tid)
{
	return ptrace(PTRACE_SEIZE, tid, 0, 0) ? -errno : 0;
}

int pyro_ptrace_interrupt_and_wait(pid_t tid, int *pending_signal)
{
	int status;

	*pending_signal = 0;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0))
		return -errno;
	for (;;) {
		pid_t waited = waitpid(tid, &status, __WALL);

		if (waited < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (WIFSTOPPED(status)) {
			/* A group or interrupt stop carries an event in the high
			 * bits; a bare stop is a signal on its way to the thread. */
			if ((status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP)
				*pending_signal = WSTOPSIG(status);
			return 0;
		}
	}
}

int pyro_ptrace_registers(pid_t tid, struct pyro_thread_registers *registers)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, tid, 0, &regs))
		return -errno;
	registers->pc = regs.rip;
	registers->sp = regs.rsp;
	registers->fp = regs.rbp;
	return 0;
}

int pyro_ptrace_detach(pid_t tid, int signal)
{
	return ptrace(PTRACE_DETACH, tid, 0, (void *)(long)signal) ? -errno : 0;
}
