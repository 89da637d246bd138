/* The one definition of every record and map value shared by the BPF
 * programs (bpf/) and the Swift loader. Only fixed-width __u/__s types and
 * #define limits, so both compilers see the same layout; LayoutTests checks
 * the offsets from the BPF object's BTF against Swift's view. */
#ifndef PYROGRAPH_ABI_H
#define PYROGRAPH_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PYRO_COMM_LEN 16
/* Matches the kernel's default perf_event_max_stack. */
#define PYRO_MAX_KERNEL_FRAMES 127
#define PYRO_MAX_USER_FRAMES 127

/* First field of every ring-buffer record. */
enum pyro_event_kind {
	PYRO_EVENT_SAMPLE = 1,
	PYRO_EVENT_PROCESS_EXIT = 2,
};

/* One cpu-clock sample of one thread. Stack lengths are in bytes as
 * bpf_get_stack returns them, or a negative errno when the capture failed. */
struct pyro_sample {
	__u32 kind;
	__u32 pid;  /* thread group id, as the host sees it */
	__u32 tid;
	__u32 cpu;
	__u64 timestamp_ns;
	char process_comm[PYRO_COMM_LEN];
	char thread_comm[PYRO_COMM_LEN];
	__s32 kernel_stack_bytes;
	__s32 user_stack_bytes;
	__u64 kernel_stack[PYRO_MAX_KERNEL_FRAMES];
	__u64 user_stack[PYRO_MAX_USER_FRAMES];
};

/* Sent when the last thread of a profiled process exits, so the loader can
 * retire its per-process state and guard against pid reuse. */
struct pyro_process_exit {
	__u32 kind;
	__u32 pid;
	__u64 timestamp_ns;
};

/* Indexes into the per-CPU `stats` array: every sample the sampler sees is
 * counted exactly once in SAMPLES, IDLE or FILTERED; the rest are reasons
 * a sample lost some or all of its data. */
enum pyro_stat {
	PYRO_STAT_SAMPLES = 0,        /* emitted to the ring buffer */
	PYRO_STAT_IDLE,               /* the CPU was idle (pid 0) */
	PYRO_STAT_FILTERED,           /* a process the user did not ask for */
	PYRO_STAT_LOST_RINGBUF,       /* ring buffer full: sample dropped */
	PYRO_STAT_KERNEL_STACK_ERROR, /* kernel stack could not be captured */
	PYRO_STAT_USER_STACK_ERROR,   /* user stack could not be captured */
	PYRO_STAT_COUNT,
};

#endif
