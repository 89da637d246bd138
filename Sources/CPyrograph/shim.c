#define _GNU_SOURCE
#include "pyrograph_abi.h"
#include "pyrograph_shim.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "generated/pyrograph.skel.h"

struct pyrograph_bpf *pyro_bpf_open(int *error)
{
	struct pyrograph_bpf *skel = pyrograph_bpf__open();

	*error = skel ? 0 : -errno;
	return skel;
}

int pyro_bpf_configure(struct pyrograph_bpf *skel, bool filter_by_pid, uint64_t sample_period_ns,
		       uint32_t unwind_row_capacity, uint32_t unwind_page_capacity)
{
	int error;

	skel->rodata->filter_by_pid = filter_by_pid;
	skel->rodata->sample_period_ns = sample_period_ns;
	error = bpf_map__set_max_entries(skel->maps.unwind_rows, unwind_row_capacity ? unwind_row_capacity : 1);
	if (error)
		return error;
	return bpf_map__set_max_entries(skel->maps.unwind_pages, unwind_page_capacity ? unwind_page_capacity : 1);
}

void *pyro_bpf_map_array(struct pyrograph_bpf *skel, enum pyro_map which, size_t *stride)
{
	struct bpf_map *map = pyro_bpf_map(skel, which);
	size_t size;
	void *memory;

	if (!map)
		return NULL;
	/* The kernel lays array elements out 8-byte aligned. */
	*stride = ((size_t)bpf_map__value_size(map) + 7) & ~(size_t)7;
	size = (*stride * bpf_map__max_entries(map) + 4095) & ~(size_t)4095;
	memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
	return memory == MAP_FAILED ? NULL : memory;
}

/* Loads `return 0` as an fexit program on the function and unloads it.
 * BTF listing the function is not enough: some kernels refuse every
 * trampoline program (EPERM under some lockdown policies, ENOTSUPP where
 * the architecture has none), and one program the kernel refuses fails the
 * whole skeleton's load. */
static bool kernel_accepts_fexit(const char *function)
{
	const struct bpf_insn return_zero[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, options, .expected_attach_type = BPF_TRACE_FEXIT);
	int btf_id = libbpf_find_vmlinux_btf_id(function, BPF_TRACE_FEXIT);
	int fd;

	if (btf_id < 0)
		return false;
	options.attach_btf_id = btf_id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", return_zero, 2, &options);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void pyro_bpf_choose_mapping_events(struct pyrograph_bpf *skel)
{
	bool exact = kernel_accepts_fexit("vm_mmap_pgoff");
	bool fallback = !exact && libbpf_find_vmlinux_btf_id("mmap_lock_released", BPF_TRACE_RAW_TP) >= 0;

	bpf_program__set_autoload(skel->progs.pyro_mmap_exit, exact);
	bpf_program__set_autoload(skel->progs.pyro_mmap_lock_released, fallback);
	/* Only the fallback reads it, and an LRU map's entries are all
	 * allocated up front. */
	if (!fallback)
		bpf_map__set_max_entries(skel->maps.exec_pages_seen, 1);
}

void pyro_bpf_choose_off_cpu(struct pyrograph_bpf *skel, bool enabled)
{
	bpf_program__set_autoload(skel->progs.pyro_off_cpu_switch, enabled);
	if (!enabled)
		bpf_map__set_max_entries(skel->maps.off_cpu_starts, 1);
}

void pyro_bpf_sample_off_cpu(struct pyrograph_bpf *skel, uint32_t keep_below)
{
	skel->rodata->off_cpu_keep_below = keep_below;
}

void pyro_bpf_track_gil(struct pyrograph_bpf *skel, bool enabled)
{
	skel->rodata->track_gil = enabled;
}

int pyro_bpf_attach_off_cpu(struct pyrograph_bpf *skel)
{
	skel->links.pyro_off_cpu_switch = bpf_program__attach(skel->progs.pyro_off_cpu_switch);
	return skel->links.pyro_off_cpu_switch ? 0 : -errno;
}

/* From Linux 6.6's UAPI; Debian's headers are older. */
#define PYRO_BPF_TRACE_UPROBE_MULTI 48

int pyro_bpf_load(struct pyrograph_bpf *skel)
{
	bpf_program__set_expected_attach_type(skel->progs.pyro_python_start_multi, PYRO_BPF_TRACE_UPROBE_MULTI);
	return pyrograph_bpf__load(skel);
}

int pyro_bpf_attach_scheduler_hooks(struct pyrograph_bpf *skel)
{
	skel->links.pyro_follow_fork = bpf_program__attach(skel->progs.pyro_follow_fork);
	if (!skel->links.pyro_follow_fork)
		return -errno;
	skel->links.pyro_process_exit = bpf_program__attach(skel->progs.pyro_process_exit);
	if (!skel->links.pyro_process_exit)
		return -errno;
	skel->links.pyro_process_exec = bpf_program__attach(skel->progs.pyro_process_exec);
	if (!skel->links.pyro_process_exec)
		return -errno;
	return 0;
}

int pyro_bpf_attach_mapping_events(struct pyrograph_bpf *skel)
{
	if (bpf_program__autoload(skel->progs.pyro_mmap_exit)) {
		skel->links.pyro_mmap_exit = bpf_program__attach(skel->progs.pyro_mmap_exit);
		return skel->links.pyro_mmap_exit ? 0 : -errno;
	}
	if (bpf_program__autoload(skel->progs.pyro_mmap_lock_released)) {
		skel->links.pyro_mmap_lock_released = bpf_program__attach(skel->progs.pyro_mmap_lock_released);
		return skel->links.pyro_mmap_lock_released ? 0 : -errno;
	}
	return -EOPNOTSUPP;
}

struct bpf_link *pyro_bpf_attach_cpu_clock(struct pyrograph_bpf *skel, int cpu,
					   uint64_t frequency, int *error)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = frequency,
		.freq = 1,
	};
	struct bpf_link *link;
	int fd;

	fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		*error = -errno;
		return NULL;
	}
	link = bpf_program__attach_perf_event(skel->progs.pyro_sample_cpu, fd);
	if (!link) {
		*error = -errno;
		close(fd);
		return NULL;
	}
	*error = 0;
	return link;
}

struct bpf_map *pyro_bpf_map(struct pyrograph_bpf *skel, enum pyro_map which)
{
	switch (which) {
	case PYRO_MAP_EVENTS:
		return skel->maps.events;
	case PYRO_MAP_TARGET_PIDS:
		return skel->maps.target_pids;
	case PYRO_MAP_STATS:
		return skel->maps.stats;
	case PYRO_MAP_PYTHON_LAYOUTS:
		return skel->maps.python_layouts;
	case PYRO_MAP_UNWIND_ROWS:
		return skel->maps.unwind_rows;
	case PYRO_MAP_UNWIND_PAGES:
		return skel->maps.unwind_pages;
	case PYRO_MAP_UNWIND_PROCESSES:
		return skel->maps.unwind_processes;
	case PYRO_MAP_PYTHON_TEMPLATES:
		return skel->maps.python_templates;
	}
	return NULL;
}

void pyro_bpf_configure_python_starts(struct pyrograph_bpf *skel, bool targets)
{
	skel->rodata->python_starts_are_targets = targets;
}

struct bpf_link *pyro_bpf_attach_python_start(struct pyrograph_bpf *skel, const char *path, const char *function,
					      uint32_t cookie, int *error)
{
	LIBBPF_OPTS(bpf_uprobe_opts, options, .func_name = function, .bpf_cookie = cookie);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(skel->progs.pyro_python_start, -1, path, 0, &options);

	*error = link ? 0 : -errno;
	return link;
}

/* BPF_LINK_CREATE's attributes for a uprobe_multi link (Linux 6.6+). */
struct uprobe_multi_link_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__aligned_u64 path;
	__aligned_u64 offsets;
	__aligned_u64 ref_ctr_offsets;
	__aligned_u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
	__u32 padding;
};

/* The file offset of the code at `address` in the ELF file at `path`: what
 * a uprobe is placed by. */
static int code_file_offset(const char *path, uint64_t address, uint64_t *offset)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = -ENOENT;
	Elf *elf;
	size_t count;

	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_getphdrnum(elf, &count) == 0) {
		for (size_t i = 0; i < count; i++) {
			GElf_Phdr header;

			if (!gelf_getphdr(elf, (int)i, &header) || header.p_type != PT_LOAD || !(header.p_flags & PF_X))
				continue;
			if (address >= header.p_vaddr && address - header.p_vaddr < header.p_filesz) {
				*offset = address - header.p_vaddr + header.p_offset;
				err = 0;
				break;
			}
		}
	} else {
		err = -EINVAL;
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

int pyro_bpf_attach_python_start_multi(struct pyrograph_bpf *skel, const char *path, uint64_t address,
				       uint64_t cookie)
{
	struct uprobe_multi_link_attr attr;
	uint64_t offset;
	int err, fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	err = code_file_offset(path, address, &offset);
	if (err)
		return err;
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = bpf_program__fd(skel->progs.pyro_python_start_multi);
	attr.attach_type = PYRO_BPF_TRACE_UPROBE_MULTI;
	attr.path = (uintptr_t)path;
	attr.offsets = (uintptr_t)&offset;
	attr.cookies = (uintptr_t)&cookie;
	attr.cnt = 1;
	fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

void pyro_bpf_destroy(struct pyrograph_bpf *skel)
{
	pyrograph_bpf__destroy(skel);
}

/* The verifier's log can run to megabytes; its tail says why. */
static char log_buffer[1 << 16];
static size_t log_length;
static bool log_echo;

static void append_log(const char *text, size_t n)
{
	if (n >= sizeof(log_buffer)) {
		text += n - sizeof(log_buffer) / 2;
		n = sizeof(log_buffer) / 2;
	}
	if (log_length + n >= sizeof(log_buffer)) {
		/* Keep the newest part: the verifier's verdict is at the end. */
		size_t keep = sizeof(log_buffer) / 2 - n / 2;
		if (keep > log_length)
			keep = log_length;
		memmove(log_buffer, log_buffer + log_length - keep, keep);
		log_length = keep;
	}
	memcpy(log_buffer + log_length, text, n);
	log_length += n;
}

static int capture_libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	char *text = NULL;
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	/* One message can be the whole verifier log: no fixed-size line. */
	n = vasprintf(&text, format, args);
	if (n < 0)
		return n;
	if (log_echo)
		fputs(text, stderr);
	append_log(text, (size_t)n);
	free(text);
	return n;
}

void pyro_libbpf_capture_log(bool echo_to_stderr)
{
	log_echo = echo_to_stderr;
	libbpf_set_print(capture_libbpf_print);
}

size_t pyro_libbpf_log_copy(char *buffer, size_t capacity)
{
	size_t n = log_length < capacity ? log_length : capacity;

	memcpy(buffer, log_buffer + log_length - n, n);
	return n;
}

void pyro_libbpf_log_clear(void)
{
	log_length = 0;
}

void pyro_elf_init(void)
{
	elf_version(EV_CURRENT);
}

/* The handler only counts: the control loop reads the count between
 * batches. The first signal stops sampling and writes the profile; a
 * second one makes the loop give up draining and write at once. */
static volatile sig_atomic_t stop_count;
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t stop_from_process;

static void on_stop_signal(int signo, siginfo_t *info, void *context)
{
	(void)context;
	if (stop_count == 0) {
		stop_signal = signo;
		/* SI_USER/SI_QUEUE (<= 0): kill(2) from a process. A terminal's
		 * Ctrl-C or hangup comes from the kernel and already reached the
		 * whole foreground group, the command included. */
		stop_from_process = info && info->si_code <= 0;
	}
	if (stop_count < 1000)
		stop_count++;
}

void pyro_install_stop_handlers(void)
{
	struct sigaction action = { .sa_sigaction = on_stop_signal, .sa_flags = SA_SIGINFO };
	struct sigaction ignore = { .sa_handler = SIG_IGN };

	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGHUP, &action, NULL);
	/* A closed pipe or terminal makes write(2) fail with EPIPE, which the
	 * writer reports, instead of killing the process mid-recording. */
	sigemptyset(&ignore.sa_mask);
	sigaction(SIGPIPE, &ignore, NULL);
}

bool pyro_stop_requested(void)
{
	return stop_count != 0;
}

bool pyro_force_stop_requested(void)
{
	return stop_count >= 2;
}

int pyro_stop_signal(void)
{
	return stop_signal;
}

bool pyro_stop_signal_from_process(void)
{
	return stop_from_process != 0;
}

void pyro_request_stop(void)
{
	if (stop_count == 0)
		stop_count = 1;
}

int pyro_become_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

int pyro_own_nice(int *nice)
{
	errno = 0;
	*nice = getpriority(PRIO_PROCESS, 0);
	return errno ? -errno : 0;
}

int pyro_renice_own_threads(int nice)
{
	DIR *tasks = opendir("/proc/self/task");
	struct dirent *entry;
	int result = 0;

	if (!tasks)
		return -errno;
	while ((entry = readdir(tasks))) {
		int tid = atoi(entry->d_name);

		if (tid > 0 && setpriority(PRIO_PROCESS, tid, nice) && errno != ESRCH && !result)
			result = -errno;
	}
	closedir(tasks);
	return result;
}

int pyro_set_thread_nice(int nice)
{
	return setpriority(PRIO_PROCESS, 0, nice) ? -errno : 0;
}

pid_t pyro_spawn_suspended(char *const argv[], int nice, int *release_fd, int *exec_error_fd)
{
	int release[2], exec_error[2];
	pid_t pid;
	char go;

	if (pipe2(release, O_CLOEXEC) || pipe2(exec_error, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Only async-signal-safe calls until exec. */
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		close(release[1]);
		close(exec_error[0]);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		/* An ignored signal stays ignored across exec. */
		sigaction(SIGPIPE, &dfl, NULL);
		if (read(release[0], &go, 1) != 1)
			_exit(127);
		/* The command runs at the priority pyrograph was started with,
		 * not the one it raised itself to. */
		setpriority(PRIO_PROCESS, 0, nice);
		execvp(argv[0], argv);
		int err = errno;
		(void)!write(exec_error[1], &err, sizeof(err));
		_exit(127);
	}
	close(release[0]);
	close(exec_error[1]);
	*release_fd = release[1];
	*exec_error_fd = exec_error[0];
	return pid;
}

int pyro_spawn_release(int release_fd, int exec_error_fd)
{
	int err = 0;
	ssize_t n;

	(void)!write(release_fd, "g", 1);
	close(release_fd);
	do {
		n = read(exec_error_fd, &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(exec_error_fd);
	return n == sizeof(err) ? err : 0;
}

extern char *__cxa_demangle(const char *mangled, char *buffer, size_t *length, int *status);

char *pyro_demangle(const char *name)
{
	int status = 0;

	if (strncmp(name, "_Z", 2) != 0)
		return NULL;
	char *out = __cxa_demangle(name, NULL, NULL, &status);
	return status == 0 ? out : NULL;
}

void pyro_bpf_detach_hooks(struct pyrograph_bpf *skel)
{
	pyrograph_bpf__detach(skel);
}

struct doomed_link {
	struct bpf_link *link;
	int fd;
};

static void *destroy_link(void *argument)
{
	struct doomed_link *doomed = argument;

	if (doomed->link)
		bpf_link__destroy(doomed->link);
	else
		close(doomed->fd);
	return NULL;
}

/* Destroying a perf-event link waits in the kernel for RCU grace periods:
 * about 0.1 s each here. Waits that overlap share their grace periods, so
 * each link is destroyed on its own thread (perf-event uprobes still take
 * turns on a mutex, which is why the start probe prefers uprobe_multi
 * links, passed here as file descriptors). */
void pyro_bpf_destroy_links(struct bpf_link **links, size_t count, const int *fds, size_t fd_count)
{
	enum { batch_limit = 64 };
	struct doomed_link doomed[batch_limit];
	pthread_t threads[batch_limit];
	bool started[batch_limit];
	size_t total = count + fd_count;

	for (size_t done = 0; done < total;) {
		size_t batch = total - done < batch_limit ? total - done : batch_limit;

		for (size_t i = 0; i < batch; i++) {
			size_t at = done + i;

			doomed[i].link = at < count ? links[at] : NULL;
			doomed[i].fd = at < count ? -1 : fds[at - count];
			started[i] = pthread_create(&threads[i], NULL, destroy_link, &doomed[i]) == 0;
		}
		for (size_t i = 0; i < batch; i++) {
			if (started[i])
				pthread_join(threads[i], NULL);
			else
				destroy_link(&doomed[i]);
		}
		done += batch;
	}
}

static int compare_descriptors(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

pid_t pyro_release_in_background(const int *fds, size_t count, int *go_fd)
{
	int go[2], *kept;
	pid_t pid;

	*go_fd = -1;
	if (count == 0)
		return 0;
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	kept = malloc((count + 1) * sizeof(*kept));
	if (!kept) {
		close(go[0]);
		close(go[1]);
		return -ENOMEM;
	}
	memcpy(kept, fds, count * sizeof(*kept));
	kept[count] = go[0];
	qsort(kept, count + 1, sizeof(*kept), compare_descriptors);
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls: close every other descriptor
		 * (copies of pyrograph's files and maps), wait until pyrograph
		 * has closed its copies of the links (the write end's EOF), so
		 * that these are the last, then close them. */
		unsigned int from = 0;
		char byte;

		for (size_t i = 0; i <= count; i++) {
			if ((unsigned int)kept[i] > from)
				syscall(SYS_close_range, from, (unsigned int)kept[i] - 1, 0);
			from = (unsigned int)kept[i] + 1;
		}
		syscall(SYS_close_range, from, ~0U, 0);
		while (read(go[0], &byte, 1) < 0 && errno == EINTR)
			;
		for (size_t i = 0; i < count; i++)
			close(fds[i]);
		_exit(0);
	}
	free(kept);
	close(go[0]);
	if (pid < 0) {
		close(go[1]);
		return -errno;
	}
	*go_fd = go[1];
	return pid;
}

void pyro_reserve_descriptors(int count)
{
	struct rlimit limit;
	int top = count - 1, any, high;

	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && (rlim_t)top >= limit.rlim_cur)
		top = (int)limit.rlim_cur - 1;
	any = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (any < 0)
		return;
	high = fcntl(any, F_DUPFD_CLOEXEC, top);
	if (high >= 0)
		close(high);
	close(any);
}

void pyro_share_one_malloc_arena(void)
{
	mallopt(M_ARENA_MAX, 1);
}

void pyro_release_free_memory(void)
{
	malloc_trim(0);
}

size_t pyro_heap_bytes_in_use(void)
{
	struct mallinfo2 info = mallinfo2();

	return info.uordblks + info.hblkhd;
}
