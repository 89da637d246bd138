// SPDX-License-Identifier: GPL-2.0
/* Not part of pyrograph: proves that stack_capture.bpf.h builds and
 * verifies in a scheduler hook, the second program that will use it (a
 * thread's stacks as it goes off CPU). `make` compiles it; VerifierBudgetTests
 * loads it. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pyrograph_abi.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PYRO_RING_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pyro_sample);
} sample_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PYRO_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count_stat(__u32 which)
{
	__u64 *value = bpf_map_lookup_elem(&stats, &which);

	if (value)
		*value += 1;
}

#include "stack_capture.bpf.h"

/* The tracepoint runs in the thread being switched out, before the switch:
 * prev is the current thread. */
SEC("tp_btf/sched_switch")
int BPF_PROG(pyro_capture_check, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct pyro_sample *sample;
	__u32 zero = 0;
	__u64 size;

	if (!prev->pid)
		return 0;
	sample = bpf_map_lookup_elem(&sample_scratch, &zero);
	if (!sample)
		return 0;
	begin_sample(sample, prev, prev->tgid, prev->pid, PYRO_ORIGIN_OFF_CPU, 0);
	size = capture_stacks(ctx, prev, sample);
	bpf_ringbuf_output(&events, sample, size, BPF_RB_NO_WAKEUP);
	return 0;
}
