/* SPDX-License-Identifier: GPL-2.0 */
/* A new interpreter gets its layout the moment it starts, in the kernel:
 * once the loader has read an interpreter file, a uprobe on that file's
 * initialization function (run once per process, before any Python code,
 * never on a per-call path) copies the file's layout to every process
 * that starts it, relocated by the load bias read from where the probe
 * fired. So a process that lives 50 ms is walked from its first Python
 * frame, without waiting for the loader to notice the exec. Included by
 * pyrograph.bpf.c after the walker's maps. */
#ifndef PYROGRAPH_PYTHON_START_H
#define PYROGRAPH_PYTHON_START_H

/* Set by the loader: whole-host Python-only recordings sample the
 * processes the probe finds (others only follow the pid filter). */
const volatile bool python_starts_are_targets = false;

/* Attach cookie (one per probed interpreter file) -> that file's layout. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct pyro_python_template);
} python_templates SEC(".maps");

static __always_inline int python_started(struct pt_regs *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, cookie = (__u32)bpf_get_attach_cookie(ctx);
	struct pyro_python_template *template = bpf_map_lookup_elem(&python_templates, &cookie);
	struct pyro_python_layout layout;
	struct pyro_python_started *event;
	__u64 bias;
	__u8 one = 1;

	if (!template)
		return 0;
	if (filter_by_pid && !python_starts_are_targets && !bpf_map_lookup_elem(&target_pids, &tgid))
		return 0;
	/* The bias is whole pages; the pc may be a byte past the probe. */
	bias = (PT_REGS_IP(ctx) - template->probe_address) & ~0xfffULL;
	layout = template->layout;
	layout.interpreter_head_address += bias;
	if (layout.code_type_address)
		layout.code_type_address += bias;
	bpf_map_update_elem(&python_layouts, &tgid, &layout, BPF_ANY);
	if (filter_by_pid && python_starts_are_targets)
		bpf_map_update_elem(&target_pids, &tgid, &one, BPF_ANY);
	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event)
		return 0;
	event->kind = PYRO_EVENT_PYTHON_STARTED;
	event->pid = tgid;
	event->timestamp_ns = bpf_ktime_get_ns();
	/* The loader names this process's frames while it is alive. */
	bpf_ringbuf_submit(event, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* Attached through a perf-event uprobe: any kernel. */
SEC("uprobe")
int pyro_python_start(struct pt_regs *ctx)
{
	return python_started(ctx);
}

/* The same, attached as a uprobe_multi link (Linux 6.6+; the loader sets
 * its expected attach type). Detaching a perf-event uprobe waits for RCU
 * grace periods under a global mutex, about 0.1 s per interpreter file one
 * after the other; these links detach side by side in one. */
SEC("uprobe")
int pyro_python_start_multi(struct pt_regs *ctx)
{
	return python_started(ctx);
}

#endif
