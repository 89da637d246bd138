/* SPDX-License-Identifier: GPL-2.0 */
/* Where a sampled Python thread stands with the GIL (`record --gil`), read
 * from the interpreter's memory as the stacks are captured, for samples on
 * CPU and threads going off CPU alike:
 * - it holds the GIL when the GIL is locked and its last_holder is the
 *   thread's own state (the thread state the Python walk just found); 2.7
 *   and 3.6 have no struct to read, but _PyThreadState_Current is set
 *   right after taking the GIL and cleared right before dropping it;
 * - it waits for the GIL when it is off CPU (or sampled) inside a futex(2)
 *   call on an address inside the GIL's struct: take_gil waits on the GIL's
 *   condition variable and mutex, a thread that dropped it on request waits
 *   on its switch condition until another takes it, and one handing it
 *   over wakes the waiters there (then preempted, on a busy host, on its
 *   way back from the wake). The futex address is the syscall's first
 *   argument, in the user registers saved at syscall entry; no symbols are
 *   needed, so stripped interpreters (Debian's) are covered too;
 * - otherwise it runs (or sleeps) with the GIL released.
 * Four reads of user memory and two map lookups per record, only when the
 * loader set track_gil. Included by stack_capture.bpf.h after the walker. */
#ifndef PYROGRAPH_GIL_STATE_H
#define PYROGRAPH_GIL_STATE_H

/* Set by the loader between open and load (`record --gil`). */
const volatile bool track_gil = false;

/* Not in vmlinux.h: x86_64's futex(2) number. */
#define PYRO_NR_FUTEX 202

/* The address of the process's GIL, 0 if unreadable. */
static __always_inline __u64 gil_address(const struct pyro_python_layout *layout)
{
	__u64 interpreter, gil;

	if (layout->gil_address)
		return layout->gil_address;
	if (layout->interpreter_gil == PYRO_NO_OFFSET ||
	    bpf_probe_read_user(&interpreter, sizeof(interpreter), (const void *)layout->interpreter_head_address) ||
	    !interpreter ||
	    bpf_probe_read_user(&gil, sizeof(gil), (const void *)(interpreter + layout->interpreter_gil)))
		return 0;
	return gil;
}

/* The thread's GIL state; the Python walk of this sample has run (it left
 * the thread's state in python_thread_states). */
static __always_inline __u32 read_gil_state(struct task_struct *task, __u32 tgid, __u32 tid)
{
	const struct pyro_python_layout *layout;
	__u64 *thread_state, gil, holder = 0, futex;
	struct pt_regs *regs;
	__s32 locked = 0;

	layout = bpf_map_lookup_elem(&python_layouts, &tgid);
	if (!layout || layout->gil_locked == PYRO_NO_OFFSET)
		return PYRO_GIL_UNKNOWN;
	thread_state = bpf_map_lookup_elem(&python_thread_states, &tid);
	if (!thread_state)
		return PYRO_GIL_UNKNOWN;
	gil = gil_address(layout);
	/* Before the runtime is initialized, and after it is finalized, there
	 * is no GIL to read. */
	if (!gil)
		return PYRO_GIL_UNKNOWN;
	if ((layout->gil_locked != PYRO_GIL_HELD_BY_HOLDER &&
	     bpf_probe_read_user(&locked, sizeof(locked), (const void *)(gil + layout->gil_locked))) ||
	    bpf_probe_read_user(&holder, sizeof(holder), (const void *)(gil + layout->gil_last_holder))) {
		count_stat(PYRO_STAT_GIL_UNREADABLE);
		return PYRO_GIL_UNKNOWN;
	}
	/* 2.7 and 3.6: the holder pointer is set only while it is held. */
	if (layout->gil_locked == PYRO_GIL_HELD_BY_HOLDER)
		locked = holder != 0;
	if (locked && holder == *thread_state)
		return PYRO_GIL_HELD;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (regs && BPF_CORE_READ(regs, orig_ax) == PYRO_NR_FUTEX) {
		futex = BPF_CORE_READ(regs, di);
		if (futex >= gil && futex < gil + layout->gil_size)
			return PYRO_GIL_WAITING;
	}
	return PYRO_GIL_RELEASED;
}

#endif
