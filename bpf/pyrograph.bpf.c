// SPDX-License-Identifier: GPL-2.0
/* The sampler: one perf_event program per online CPU on the software
 * cpu-clock event, plus the scheduler hooks that keep the pid filter in
 * step with forks and tell the loader about exits, and the mmap hooks that
 * tell it about code mapped since it read a process's mappings. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pyrograph_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader between open and load; when false, the verifier prunes
 * the filter and every process is sampled. */
const volatile bool filter_by_pid = false;
/* Set by the loader (`--off-cpu-sampling P`): a switch-out is recorded
 * when a random u32 falls below this, i.e. with probability P; the loader
 * weighs the kept intervals by 1/P, which keeps the totals unbiased. The
 * default, ~0, records every switch-out and draws no random number. */
const volatile __u32 off_cpu_keep_below = ~0u;
/* Set by the loader: the cpu-clock event's period, 1e9 / frequency, which
 * is the time each sample stands for. */
const volatile __u64 sample_period_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PYRO_RING_BYTES);
} events SEC(".maps");

/* Waking the reader takes an interrupt, which in a VM cost about 5 us per
 * sample, more than the whole unwind. The reader polls on its own; samples
 * wake it only when the buffer is filling up faster than it polls. */
static __always_inline __u64 sample_wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= PYRO_RING_WAKEUP_BYTES ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* pyro_sample is too large for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pyro_sample);
} sample_scratch SEC(".maps");

/* Thread group ids to sample when filter_by_pid is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} target_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PYRO_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* tgid -> the process's count of executable pages when last seen, for
 * pyro_mmap_lock_released. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} exec_pages_seen SEC(".maps");

/* Records built only through pointers leave no type in BTF; these anchors
 * keep them there so LayoutTests can check both sides of the ABI. */
const struct pyro_python_frame *pyro_abi_python_frame __attribute__((unused));
const struct pyro_process_exit *pyro_abi_process_exit __attribute__((unused));
const struct pyro_process_exec *pyro_abi_process_exec __attribute__((unused));
const struct pyro_mapping_added *pyro_abi_mapping_added __attribute__((unused));
const struct pyro_off_cpu_end *pyro_abi_off_cpu_end __attribute__((unused));
const struct pyro_python_layout *pyro_abi_python_layout __attribute__((unused));
const struct pyro_python_template *pyro_abi_python_template __attribute__((unused));
const struct pyro_python_started *pyro_abi_python_started __attribute__((unused));
const struct pyro_code_capture *pyro_abi_code_capture __attribute__((unused));
const struct pyro_unwind_process *pyro_abi_unwind_process __attribute__((unused));

static __always_inline void count_stat(__u32 which)
{
	__u64 *value = bpf_map_lookup_elem(&stats, &which);

	if (value)
		*value += 1;
}

#include "stack_capture.bpf.h"

static __always_inline bool is_wanted(__u32 tgid)
{
	return !filter_by_pid || bpf_map_lookup_elem(&target_pids, &tgid);
}

#include "python_start.bpf.h"

SEC("perf_event")
int pyro_sample_cpu(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid, zero = 0;
	struct task_struct *task;
	struct pyro_sample *sample;
	__u64 size;

	if (tid == 0) {
		count_stat(PYRO_STAT_IDLE);
		return 0;
	}
	if (!is_wanted(tgid)) {
		count_stat(PYRO_STAT_FILTERED);
		return 0;
	}
	sample = bpf_map_lookup_elem(&sample_scratch, &zero);
	if (!sample)
		return 0;

	task = bpf_get_current_task_btf();
	begin_sample(sample, task, tgid, tid, PYRO_ORIGIN_ON_CPU, sample_period_ns);
	size = capture_stacks(ctx, task, sample);
	if (bpf_ringbuf_output(&events, sample, size, sample_wakeup_flag()))
		count_stat(PYRO_STAT_LOST_RINGBUF);
	else
		count_stat(PYRO_STAT_SAMPLES);
	return 0;
}

/* tid -> when the thread went off CPU (its stacks already sent), for the
 * off-CPU hook. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} off_cpu_starts SEC(".maps");

/* Not in vmlinux.h: task states and flags from linux/sched.h. */
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_NOLOAD 0x0400
#define PF_KTHREAD 0x00200000

static __always_inline __u32 off_cpu_state(bool preempt, struct task_struct *task)
{
	unsigned int state = BPF_CORE_READ(task, __state);

	if (preempt || state == 0)
		return PYRO_OFF_CPU_PREEMPTED;
	/* TASK_IDLE (uninterruptible, not counted as load) is a chosen wait. */
	if ((state & TASK_UNINTERRUPTIBLE) && !(state & TASK_NOLOAD))
		return PYRO_OFF_CPU_UNINTERRUPTIBLE;
	return PYRO_OFF_CPU_SLEEPING;
}

/* The off-CPU hook (`record --clock wall`, `--off-cpu`; not loaded
 * otherwise). Runs in prev's context, before the switch: prev is current,
 * so its stacks are captured here and sent at once, and its start time
 * kept by tid. When a thread with a start time is switched in, a small
 * pyro_off_cpu_end gives the loader the interval's length. */
SEC("tp_btf/sched_switch")
int BPF_PROG(pyro_off_cpu_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tid = next->pid, tgid, zero = 0;
	struct pyro_off_cpu_end *end;
	struct pyro_sample *sample;
	__u64 *start, now;

	start = bpf_map_lookup_elem(&off_cpu_starts, &tid);
	if (start) {
		now = bpf_ktime_get_ns();
		end = bpf_ringbuf_reserve(&events, sizeof(*end), 0);
		if (end) {
			end->kind = PYRO_EVENT_OFF_CPU_END;
			end->tid = tid;
			end->start_ns = *start;
			end->end_ns = now;
			bpf_ringbuf_submit(end, sample_wakeup_flag());
			count_stat(PYRO_STAT_OFF_CPU_INTERVALS);
		} else {
			count_stat(PYRO_STAT_OFF_CPU_LOST_RINGBUF);
		}
		bpf_map_delete_elem(&off_cpu_starts, &tid);
	}

	tid = prev->pid;
	tgid = prev->tgid;
	/* The idle task, kernel threads and exiting threads have no wait to show. */
	if (!tid || (prev->flags & PF_KTHREAD) || prev->exit_state || !is_wanted(tgid))
		return 0;
	/* The capture is the cost of a switch; sampling makes most short
	 * blocks free. Skipped switch-outs leave no start, so their switch-in
	 * costs one lookup. */
	if (off_cpu_keep_below != ~0u && bpf_get_prandom_u32() >= off_cpu_keep_below) {
		count_stat(PYRO_STAT_OFF_CPU_SAMPLED_OUT);
		return 0;
	}
	sample = bpf_map_lookup_elem(&sample_scratch, &zero);
	if (!sample)
		return 0;
	begin_sample(sample, prev, tgid, tid, PYRO_ORIGIN_OFF_CPU, 0);
	sample->off_cpu_state = off_cpu_state(preempt, prev);
	now = sample->timestamp_ns;
	if (bpf_ringbuf_output(&events, sample, capture_stacks(ctx, prev, sample), sample_wakeup_flag())) {
		count_stat(PYRO_STAT_OFF_CPU_LOST_RINGBUF);
		return 0;
	}
	if (bpf_map_update_elem(&off_cpu_starts, &tid, &now, BPF_ANY))
		count_stat(PYRO_STAT_OFF_CPU_UNTRACKED);
	return 0;
}

/* Children of a profiled process are profiled too (`record -- COMMAND`). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(pyro_follow_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	struct pyro_python_layout *layout;

	if (parent_tgid == child_tgid)
		return 0;
	/* A forked interpreter has its parent's memory layout. */
	layout = bpf_map_lookup_elem(&python_layouts, &parent_tgid);
	if (layout)
		bpf_map_update_elem(&python_layouts, &child_tgid, layout, BPF_ANY);
	if (filter_by_pid && bpf_map_lookup_elem(&target_pids, &parent_tgid))
		bpf_map_update_elem(&target_pids, &child_tgid, &one, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pyro_process_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid), tid = BPF_CORE_READ(task, pid);
	struct pyro_process_exit *event;

	bpf_map_delete_elem(&python_thread_states, &tid);
	bpf_map_delete_elem(&off_cpu_starts, &tid);
	/* Only the last thread's exit ends the process. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	bpf_map_delete_elem(&python_layouts, &tgid);
	bpf_map_delete_elem(&unwind_processes, &tgid);
	bpf_map_delete_elem(&exec_pages_seen, &tgid);
	if (!is_wanted(tgid))
		return 0;
	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		return 0;
	event->kind = PYRO_EVENT_PROCESS_EXIT;
	event->pid = tgid;
	event->timestamp_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(event, 0);
	if (filter_by_pid)
		bpf_map_delete_elem(&target_pids, &tgid);
	return 0;
}

/* New programs may be interpreters: the loader inspects them. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(pyro_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *binprm)
{
	struct pyro_process_exec *event;

	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		return 0;
	event->kind = PYRO_EVENT_PROCESS_EXEC;
	event->pid = BPF_CORE_READ(task, tgid);
	event->timestamp_ns = bpf_ktime_get_ns();
	/* Woken at once, not at the reader's next timeout: an interpreter
	 * found 50 ms late had forked its early workers before it had a layout
	 * to pass on, and they lost their first Python frames. */
	bpf_ringbuf_submit(event, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* New code in a profiled process, from whichever of the two hooks below
 * the loader kept: fexit on vm_mmap_pgoff where the kernel allows BPF
 * trampolines, else the mmap_lock tracepoint. Without either, the loader
 * finds new code when a sample's pc falls outside the known mappings. */
static __always_inline void send_mapping_added(__u32 tgid)
{
	struct pyro_mapping_added *event;

	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		return;
	event->kind = PYRO_EVENT_MAPPING_ADDED;
	event->pid = tgid;
	event->timestamp_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(event, 0);
}

/* Not in vmlinux.h: it holds types, not the uapi's #defines. */
#define PROT_EXEC 0x4
#define MAX_ERRNO 4095

/* What mmap(2) calls. On its return the mapping exists and the mmap lock
 * is released, so the loader's read of /proc/PID/maps sees it. */
SEC("fexit/vm_mmap_pgoff")
int BPF_PROG(pyro_mmap_exit, struct file *file, unsigned long addr, unsigned long len,
	     unsigned long prot, unsigned long flag, unsigned long pgoff, unsigned long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!file || !(prot & PROT_EXEC) || ret >= (unsigned long)-MAX_ERRNO)
		return 0;
	if (is_wanted(tgid))
		send_mapping_added(tgid);
	return 0;
}

/* Every change to a process's mappings ends by releasing its mmap lock, and
 * mm->exec_vm counts its executable pages: a change in that count is new
 * (or removed) code. Only the first argument is read: the others changed
 * across kernel versions. The first release seen only sets the baseline,
 * or every process would send one event for nothing; a dlopen takes the
 * lock several times, its first mmap reserving the range without code. */
SEC("tp_btf/mmap_lock_released")
int BPF_PROG(pyro_mmap_lock_released, struct mm_struct *mm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid;
	__u64 exec_pages, *seen;

	/* Readers of /proc/PID/maps, the loader among them, take that
	 * process's lock: only a process's own releases count. */
	if (task->mm != mm || !is_wanted(tgid))
		return 0;
	exec_pages = BPF_CORE_READ(mm, exec_vm);
	seen = bpf_map_lookup_elem(&exec_pages_seen, &tgid);
	if (!seen) {
		bpf_map_update_elem(&exec_pages_seen, &tgid, &exec_pages, BPF_NOEXIST);
		return 0;
	}
	if (*seen == exec_pages)
		return 0;
	*seen = exec_pages;
	send_mapping_added(tgid);
	return 0;
}
