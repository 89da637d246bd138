/* SPDX-License-Identifier: GPL-2.0 */
/* Capturing a thread's stacks into a sample record: the kernel stack, the
 * user stack (from CFI where the loader gave the process tables, else by
 * frame pointers) and the Python frames, packed as pyrograph_abi.h says.
 * Shared by every program that records stacks: the cpu-clock sampler, and
 * a scheduler hook recording a thread as it goes off CPU.
 *
 * What differs between those programs is passed in:
 * - ctx, the program's context: bpf_get_stack takes the current thread's
 *   stacks through a perf_event context and a tp_btf one alike (on a
 *   tracepoint, the kernel stack is the one that called it);
 * - task, the thread as a BTF pointer: bpf_get_current_task_btf(), or a
 *   tp_btf argument (sched_switch's prev). Its user registers
 *   (bpf_task_pt_regs) start the CFI unwind, its fsbase names its Python
 *   thread state;
 * - the record's origin and weight.
 * The thread must be the current one: its user stack and Python frames are
 * read from the current address space (bpf_probe_read_user).
 *
 * The includer defines count_stat() first. */
#ifndef PYROGRAPH_STACK_CAPTURE_H
#define PYROGRAPH_STACK_CAPTURE_H

#include "python_walker.bpf.h"
#include "native_unwinder.bpf.h"
#include "gil_state.bpf.h"
#include "python_code_capture.bpf.h"

/* Fills the record's identity for the current thread. */
static __always_inline void begin_sample(struct pyro_sample *sample, struct task_struct *task, __u32 tgid,
					 __u32 tid, enum pyro_sample_origin origin, __u64 weight_ns)
{
	sample->kind = PYRO_EVENT_SAMPLE;
	sample->pid = tgid;
	sample->tid = tid;
	sample->cpu = bpf_get_smp_processor_id();
	sample->timestamp_ns = bpf_ktime_get_ns();
	sample->weight_ns = weight_ns;
	sample->origin = origin;
	sample->off_cpu_state = PYRO_OFF_CPU_NONE;
	sample->gil_state = PYRO_GIL_UNKNOWN;
	BPF_CORE_READ_STR_INTO(&sample->process_comm, task, group_leader, comm);
	bpf_get_current_comm(&sample->thread_comm, sizeof(sample->thread_comm));
}

/* Fills the record's stacks and statuses for the current thread, counting
 * what it could not capture; returns the bytes of the record to send. */
static __always_inline __u64 capture_stacks(void *ctx, struct task_struct *task, struct pyro_sample *sample)
{
	__u32 tgid = sample->pid, tid = sample->tid, python_frames;
	__s32 kernel_bytes;
	__u64 size;

	kernel_bytes = bpf_get_stack(ctx, sample->stacks, PYRO_MAX_KERNEL_FRAMES * sizeof(__u64), 0);
	sample->kernel_stack_bytes = kernel_bytes;
	if (kernel_bytes < 0)
		count_stat(PYRO_STAT_KERNEL_STACK_ERROR);

	/* Kernel threads have no user half; that is not an error. */
	sample->native_status = PYRO_NATIVE_FRAME_POINTERS;
	if (!BPF_CORE_READ(task, mm)) {
		sample->user_stack_bytes = 0;
	} else if (!unwind_native_stack(sample, tgid, task)) {
		sample->user_stack_bytes = bpf_get_stack(ctx, &sample->stacks[pyro_user_stack_first_word(kernel_bytes)],
							 PYRO_MAX_USER_FRAMES * sizeof(__u64), BPF_F_USER_STACK);
		if (sample->user_stack_bytes < 0)
			count_stat(PYRO_STAT_USER_STACK_ERROR);
	}

	python_frames = walk_python_stack(sample, tgid, tid, BPF_CORE_READ(task, thread.fsbase));
	if (track_gil)
		sample->gil_state = read_gil_state(task, tgid, tid);
	capture_new_code_objects(sample);
	/* The lengths are read back from the sample: a length kept in a
	 * register through the walks doubles the verifier's work. */
	size = offsetof(struct pyro_sample, stacks) +
	       pyro_sample_used_words(sample->kernel_stack_bytes, sample->user_stack_bytes, python_frames) * sizeof(__u64);
	if (size > sizeof(*sample))
		size = sizeof(*sample);
	return size;
}

#endif
