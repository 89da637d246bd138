/* Thin, prefixed shims over what Swift cannot import or call safely: the
 * generated skeleton's inline functions, perf_event_open(2), fork before
 * exec, async-signal-safe stop flags, libbpf's printf-style log hook and
 * the C++ demangler. Everything else Swift calls directly. */
#ifndef PYROGRAPH_SHIM_H
#define PYROGRAPH_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gelf.h>
#include <libelf.h>

struct pyrograph_bpf;

enum pyro_map {
	PYRO_MAP_EVENTS,
	PYRO_MAP_TARGET_PIDS,
	PYRO_MAP_STATS,
	PYRO_MAP_PYTHON_LAYOUTS,
	PYRO_MAP_UNWIND_ROWS,
	PYRO_MAP_UNWIND_PAGES,
	PYRO_MAP_UNWIND_PROCESSES,
	PYRO_MAP_PYTHON_TEMPLATES,
};

/* Skeleton lifecycle: open, configure, load, attach, destroy. Functions
 * returning int give 0 or a negative errno. */
struct pyrograph_bpf *pyro_bpf_open(int *error);
/* Between open and load: the pid filter, the time each cpu-clock sample
 * stands for, and the unwind tables' capacities. */
int pyro_bpf_configure(struct pyrograph_bpf *skel, bool filter_by_pid, uint64_t sample_period_ns,
		       uint32_t unwind_row_capacity, uint32_t unwind_page_capacity);
/* Between open and load: keeps the better of the two hooks that report new
 * code mappings that this kernel accepts, or neither. */
void pyro_bpf_choose_mapping_events(struct pyrograph_bpf *skel);
/* Between open and load: loads the off-CPU hook (sched_switch) only when
 * enabled, so a CPU-only recording costs the scheduler nothing. */
void pyro_bpf_choose_off_cpu(struct pyrograph_bpf *skel, bool enabled);
/* Between open and load: records a switch-out when a random u32 is below
 * keep_below (UINT32_MAX: every one). */
void pyro_bpf_sample_off_cpu(struct pyrograph_bpf *skel, uint32_t keep_below);
/* Between open and load: reads each Python record's GIL state (`--gil`). */
void pyro_bpf_track_gil(struct pyrograph_bpf *skel, bool enabled);
int pyro_bpf_load(struct pyrograph_bpf *skel);
/* After load, when chosen: attaches the off-CPU hook. */
int pyro_bpf_attach_off_cpu(struct pyrograph_bpf *skel);
int pyro_bpf_attach_scheduler_hooks(struct pyrograph_bpf *skel);
/* Optional: -EOPNOTSUPP when neither hook was kept, or why the kernel
 * refused the one that was. */
int pyro_bpf_attach_mapping_events(struct pyrograph_bpf *skel);
/* Detaches the scheduler and mapping hooks; the cpu-clock links are the
 * caller's. */
void pyro_bpf_detach_hooks(struct pyrograph_bpf *skel);
/* Releasing a uprobe waits in the kernel for RCU and SRCU grace periods,
 * whose work runs on kernel threads at normal priority: on a host whose
 * CPUs were saturated it took up to 17 s, and pyrograph could not exit
 * before it ended. A child process takes references to these links
 * (descriptors); once the caller has closed its own and then *go_fd, the
 * child's are the last, and it waits out the release in its own time.
 * Returns the child's pid, 0 for no descriptors, or -errno (then nothing
 * was handed over). */
pid_t pyro_release_in_background(const int *fds, size_t count, int *go_fd);
/* Destroys the links (and the links held as bare descriptors) side by
 * side; see shim.c for why. */
void pyro_bpf_destroy_links(struct bpf_link **links, size_t count, const int *fds, size_t fd_count);
/* Opens a cpu-clock event on `cpu` sampling at `frequency` Hz and attaches
 * the sampler to it. The link owns the perf event fd. */
struct bpf_link *pyro_bpf_attach_cpu_clock(struct pyrograph_bpf *skel, int cpu,
					   uint64_t frequency, int *error);
struct bpf_map *pyro_bpf_map(struct pyrograph_bpf *skel, enum pyro_map which);
/* Between open and load: whether processes the interpreter start probe
 * finds are sampled (a whole-host Python-only recording). */
void pyro_bpf_configure_python_starts(struct pyrograph_bpf *skel, bool targets);
/* After load: the interpreter start probe on `function` of the ELF file at
 * `path`, in every process; `cookie` picks its python_templates entry. */
struct bpf_link *pyro_bpf_attach_python_start(struct pyrograph_bpf *skel, const char *path, const char *function,
					      uint32_t cookie, int *error);
/* The start probe as a uprobe_multi link on the code at `address` (the
 * file's own virtual address): its descriptor, or -errno (EINVAL before
 * Linux 6.6). */
int pyro_bpf_attach_python_start_multi(struct pyrograph_bpf *skel, const char *path, uint64_t address,
				       uint64_t cookie);
void pyro_bpf_destroy(struct pyrograph_bpf *skel);
/* A BPF_F_MMAPABLE array mapped into this process, or NULL; `stride` is
 * the distance between its elements. */
void *pyro_bpf_map_array(struct pyrograph_bpf *skel, enum pyro_map which, size_t *stride);

/* libbpf's log (including the verifier's) goes to a buffer instead of
 * stderr, so errors can quote its tail. */
void pyro_libbpf_capture_log(bool echo_to_stderr);
size_t pyro_libbpf_log_copy(char *buffer, size_t capacity);
void pyro_libbpf_log_clear(void);

void pyro_elf_init(void);

/* SIGINT, SIGTERM and SIGHUP are counted instead of killing the process;
 * SIGPIPE is ignored, so writes to a closed pipe fail with EPIPE. */
void pyro_install_stop_handlers(void);
bool pyro_stop_requested(void);
/* A second stop signal: write what is aggregated and exit at once. */
bool pyro_force_stop_requested(void);
/* The first stop signal, 0 if none (pyro_request_stop). */
int pyro_stop_signal(void);
/* Whether the first came from kill(2) rather than from the terminal. */
bool pyro_stop_signal_from_process(void);
void pyro_request_stop(void);

/* Orphaned descendants are re-parented to this process instead of init,
 * so a command's workers can still be found once the command has died. */
int pyro_become_subreaper(void);

/* This thread's nice value (getpriority's -1 is a real value, hence the
 * out-parameter); 0 or -errno. */
int pyro_own_nice(int *nice);

/* Sets every thread of this process to `nice` (threads created later
 * inherit it from their creator); 0 or -errno of the first refusal. */
int pyro_renice_own_threads(int nice);
/* Sets the calling thread's nice value; 0 or -errno. */
int pyro_set_thread_nice(int nice);

/* Forks a child that waits, then execs argv[0] from PATH at the given nice
 * value. The caller adds the pid to the filter before pyro_spawn_release
 * lets it run, so not one instruction of the program goes unsampled. */
pid_t pyro_spawn_suspended(char *const argv[], int nice, int *release_fd, int *exec_error_fd);
/* Returns 0 once the child has exec'd, or the errno of its failed exec. */
int pyro_spawn_release(int release_fd, int exec_error_fd);

/* Returns a malloc'd demangled name, or NULL if `name` is not mangled. */
char *pyro_demangle(const char *name);

/* Grows the descriptor table to hold `count` (within RLIMIT_NOFILE) now.
 * Growing it later, with several threads sharing it, waits for an RCU
 * grace period (expand_files): 1.5 s inside an open() at stop on a
 * saturated host. */
void pyro_reserve_descriptors(int count);
/* One malloc arena for every thread: a thread's own arena keeps what it
 * freed resident (kallsyms parsed on another thread left 16 MB). pyrograph's
 * few threads rarely allocate at once. */
void pyro_share_one_malloc_arena(void);
/* Returns the heap's free pages to the kernel (malloc_trim). */
void pyro_release_free_memory(void);
/* Bytes malloc has handed out and not had back, mapped blocks included
 * (mallinfo2): what the tests weigh a data structure with. */
size_t pyro_heap_bytes_in_use(void);

#endif
