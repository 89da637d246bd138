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
#define PYRO_MAX_USER_FRAMES 256
/* Python frames per sample; a deeper stack ends in a truncation frame. */
#define PYRO_MAX_PYTHON_FRAMES 1024
/* Threads of one interpreter searched for the sampled thread's state. */
#define PYRO_MAX_PYTHON_THREADS 1024

/* The ring buffer of records to the loader, and the fill level past which
 * a sample wakes the loader instead of waiting for its next poll. */
#define PYRO_RING_BYTES (16 << 20)
#define PYRO_RING_WAKEUP_BYTES (4 << 20)

/* First field of every ring-buffer record. */
enum pyro_event_kind {
	PYRO_EVENT_SAMPLE = 1,
	PYRO_EVENT_PROCESS_EXIT = 2,
	PYRO_EVENT_PROCESS_EXEC = 3,
	PYRO_EVENT_MAPPING_ADDED = 4,
	PYRO_EVENT_OFF_CPU_END = 5,
	PYRO_EVENT_PYTHON_STARTED = 6,
	PYRO_EVENT_CODE_CAPTURED = 7,
};

/* One Python frame as the walker found it. The loader names it from the
 * code object; `stamp` (co_firstlineno, or co_version on 3.12+) guards
 * against a freed code object's address being reused. A frame with code 0
 * marks where one eval-loop invocation's frames end (3.11+). */
struct pyro_python_frame {
	__u64 code;
	/* Instruction position: f_lasti up to 3.10 (bytes up to 3.9, code
	 * units on 3.10), the code-unit index of the instruction pointer from
	 * 3.11. */
	__s32 instruction;
	__u32 stamp;
};

/* A Python frame takes two words of a sample's stacks. */
#define PYRO_PYTHON_FRAME_WORDS 2
_Static_assert(sizeof(struct pyro_python_frame) == 8 * PYRO_PYTHON_FRAME_WORDS, "a Python frame is two stack words");

/* What the Python walk of a sample found. */
enum pyro_python_status {
	PYRO_PYTHON_NOT_PYTHON = 0,     /* no layout for this process */
	PYRO_PYTHON_OK = 1,
	PYRO_PYTHON_NO_THREAD_STATE = 2, /* thread not (yet) known to the interpreter */
	PYRO_PYTHON_READ_FAULT = 3,      /* interpreter memory unreadable mid-walk */
	PYRO_PYTHON_TRUNCATED = 4,       /* deeper than PYRO_MAX_PYTHON_FRAMES */
	/* The chain stopped making sense; the walk ended there, not at the limit. */
	PYRO_PYTHON_CHAIN_CYCLE = 5,     /* a frame the walk had already passed */
	PYRO_PYTHON_CHAIN_NOT_CODE = 6,  /* a frame whose code is not a code object */
	PYRO_PYTHON_CHAIN_MISALIGNED = 7, /* a frame pointer no interpreter could hold */
};

#define PYRO_NO_OFFSET 0xffff
/* In gil_locked: no `locked` field; the GIL is held while gil_last_holder
 * is set (2.7 and 3.6, where it is _PyThreadState_Current). */
#define PYRO_GIL_HELD_BY_HOLDER 0xfffe
/* Every frame field the walker reads lies in a frame's first bytes, which
 * it reads at once: one read per frame instead of four. */
#define PYRO_MAX_FRAME_WINDOW 128

/* How to walk one process's interpreter, filled by the loader per process
 * from per-version tables (up to 3.12) or _Py_DebugOffsets (3.13+). All
 * offsets are in bytes; PYRO_NO_OFFSET marks a field the version lacks. */
struct pyro_python_layout {
	/* Address of the pointer to the first interpreter: &interp_head (2.7,
	 * 3.6) or &_PyRuntime.interpreters.head. */
	__u64 interpreter_head_address;
	__u32 version_hex;
	__u16 interpreter_threads_head;
	__u16 thread_next;
	__u16 thread_id;             /* pthread_self() of the thread */
	__u16 thread_frame;          /* the top frame, or the cframe (3.11, 3.12) */
	__u16 cframe_current_frame;  /* PYRO_NO_OFFSET without a cframe */
	__u16 frame_previous;
	__u16 frame_code;
	__u16 frame_instruction;
	__u16 frame_is_entry;        /* 3.11: the byte is_entry */
	__u16 frame_owner;           /* 3.12+: the byte owner; 3 is a C-stack shim */
	__u16 code_stamp;
	__u16 code_adaptive;         /* 3.11+: offset of co_code_adaptive */
	__u8 instruction_is_pointer; /* 3.11+: the frame holds an instruction pointer */
	__u8 stamp_is_version;       /* the stamp is co_version, not co_firstlineno */
	__u16 frame_window;          /* bytes of a frame that hold its fields, <= PYRO_MAX_FRAME_WINDOW */
	__u8 executable_tag_bits;    /* 3.14+: low bits of a frame's executable that tag a _PyStackRef */
	__u8 object_type;            /* offset of ob_type in an object's header */
	/* Free-threaded 3.14+: the frame's int32 tlbc_index picks the copy of
	 * the bytecode its instr_ptr points into, co_tlbc->entries[index]
	 * (co_tlbc: a _PyCodeArray *, its size then the entries); copy 0 is
	 * co_code_adaptive. PYRO_NO_OFFSET on other builds. */
	__u16 frame_tlbc_index;
	__u16 code_tlbc;
	__u8 reserved2[6];
	/* The GIL, for `record --gil` (PYRO_NO_OFFSET in gil_locked when the
	 * build has none pyrograph can read). Up to 3.11 it lies in _PyRuntime
	 * at gil_address; from 3.12 each interpreter points to its own, at
	 * interpreter_gil in the first interpreter (gil_address 0). A thread
	 * holds it when `locked` is set and `last_holder` is its thread state
	 * (2.7 and 3.6: when _PyThreadState_Current, at gil_address, is it);
	 * it waits for it when it sleeps in a futex inside the GIL's gil_size
	 * bytes (its mutex and condition variables). */
	__u64 gil_address;
	__u16 interpreter_gil;
	__u16 gil_locked;       /* int */
	__u16 gil_last_holder;  /* PyThreadState * */
	__u16 gil_size;
	/* &PyCode_Type: a frame whose code's ob_type differs ends the walk
	 * (PYRO_PYTHON_CHAIN_NOT_CODE); 0 when the interpreter hides it. */
	__u64 code_type_address;
	/* What naming a code object reads (pyro_code_capture): its fields'
	 * offsets, and the bytes of it that hold them (0: no capture). */
	__u16 code_filename;
	__u16 code_name;
	__u16 code_line_table;
	__u16 code_capture_bytes;
};

/* How to find the caller's frame from one PC range, compiled by the loader
 * from a file's .eh_frame/.debug_frame CFI. Rows of one file are sorted by
 * pc; a row holds from its pc to the next row's. On x86_64 the return
 * address is always at CFA - 8. */
enum pyro_cfa_rule {
	PYRO_CFA_RSP = 0,      /* CFA = rsp + cfa_offset */
	PYRO_CFA_RBP = 1,      /* CFA = rbp + cfa_offset */
	PYRO_CFA_PLT = 2,      /* the PLT expression: rsp + 8, and 8 more from byte cfa_offset of a 16-byte stub */
	PYRO_CFA_END = 3,      /* outermost frame: the return address is undefined */
	PYRO_CFA_UNSUPPORTED = 4, /* a rule pyrograph cannot follow (other registers, expressions) */
	PYRO_CFA_NONE = 5,     /* no CFI covers this pc (a gap between functions) */
};

enum pyro_rbp_rule {
	PYRO_RBP_SAME = 0,     /* rbp keeps its value */
	PYRO_RBP_AT_CFA = 1,   /* rbp was saved at CFA + rbp_offset */
	PYRO_RBP_UNDEFINED = 2,
};

/* The row lies in a signal trampoline (its CIE has the `S` augmentation):
 * the caller's rip, rsp and rbp are in the ucontext the kernel pushed. */
#define PYRO_ROW_SIGNAL_FRAME 1

/* 16 bytes, which is what a BPF array stores per element anyway (values
 * are 8-byte aligned), so the offsets can be 32-bit. */
struct pyro_unwind_row {
	__u32 pc;          /* file virtual address (the ELF's own addresses) */
	__u8 cfa_rule;
	__u8 rbp_rule;
	__u16 flags;       /* PYRO_ROW_* */
	__s32 cfa_offset;
	__s32 rbp_offset;
};

/* A file's rows are also indexed by page of its code, so a lookup searches
 * only the few rows of one page instead of the whole table. */
#define PYRO_UNWIND_PAGE_SHIFT 10

/* How many rows of a file start before this page, and before the next one:
 * the row holding at a pc inside the page is the last row not past that pc
 * among rows first_row - 1 to end_row - 1. */
struct pyro_unwind_page {
	__u32 first_row;   /* relative to the file's table_start */
	__u32 end_row;
};

/* One executable mapping of a process, with where its file's table and page
 * index lie in the global unwind_rows and unwind_pages arrays. */
struct pyro_unwind_mapping {
	__u64 start;
	__u64 end;
	__u64 bias;        /* runtime address - file virtual address */
	__u32 table_start;
	__u32 table_count; /* 0: no CFI for this file; frame pointers only */
	__u32 pages_start;
	__u32 page_count;
	__u32 first_page_pc; /* file address where page 0 begins */
	__u32 reserved;
};

/* A process's executable mappings, sorted by start. */
#define PYRO_MAX_UNWIND_MAPPINGS 256
struct pyro_unwind_process {
	__u32 count;
	__u32 reserved;
	struct pyro_unwind_mapping mappings[PYRO_MAX_UNWIND_MAPPINGS];
};

/* How the native walk of a sample ended. */
enum pyro_native_status {
	PYRO_NATIVE_FRAME_POINTERS = 0, /* no tables for this process: bpf_get_stack */
	PYRO_NATIVE_COMPLETE = 1,       /* reached the outermost frame */
	PYRO_NATIVE_NO_MAPPING = 2,     /* a pc outside every known mapping (dlopen since?) */
	PYRO_NATIVE_NO_CFI = 3,         /* no row, and the frame-pointer fallback failed */
	PYRO_NATIVE_READ_FAULT = 4,     /* the stack could not be read */
	PYRO_NATIVE_DEPTH = 5,          /* deeper than PYRO_MAX_USER_FRAMES */
	PYRO_NATIVE_UNSUPPORTED_RULE = 6,
};

/* Sent when a process execs, so the loader can look for an interpreter. */
struct pyro_process_exec {
	__u32 kind;
	__u32 pid;
	__u64 timestamp_ns;
};

/* Sent when a process starts an interpreter the loader already knows (the
 * start probe fired): the kernel has already given it its layout. */
struct pyro_python_started {
	__u32 kind;
	__u32 pid;
	__u64 timestamp_ns;
};

/* One interpreter file's layout, for the start probe on that file to give
 * every process that starts it. Its addresses (interpreter_head_address,
 * code_type_address) are the file's own, before relocation; the probe
 * adds the load bias it reads from where it fired. */
struct pyro_python_template {
	struct pyro_python_layout layout;
	/* The probed function's address in the file. */
	__u64 probe_address;
};

/* Bytes of a code object and of the objects it names that a capture
 * holds: the code object's fields, then the start of its filename, name
 * and line table objects (headers and data; longer data is cut). */
#define PYRO_CAPTURE_CODE_BYTES 256
#define PYRO_CAPTURE_FILENAME_BYTES 192
#define PYRO_CAPTURE_NAME_BYTES 128
#define PYRO_CAPTURE_LINE_TABLE_BYTES 256
/* Fewer bytes to try when the full read crosses into unmapped memory. */
#define PYRO_CAPTURE_SHORT_BYTES 64
/* Captures one sample may send at most; later samples send the rest. */
#define PYRO_MAX_CAPTURES_PER_SAMPLE 8

/* What naming one code object needs, copied at sample time the first time
 * a process's sample holds it: the loader names the frame from this when
 * the code object is gone by the time it reads (a module body during
 * import, a function exec'd for 10 ms, a process that has exited). The
 * *_size fields say how many bytes of each part were read (0: none). */
struct pyro_code_capture {
	__u32 kind;
	__u32 pid;
	__u64 code;
	__u64 filename;
	__u64 name;
	__u64 line_table;
	__u32 stamp;
	__u16 code_size;
	__u16 filename_size;
	__u16 name_size;
	__u16 line_table_size;
	__u32 reserved;
	__u8 code_bytes[PYRO_CAPTURE_CODE_BYTES];
	__u8 filename_bytes[PYRO_CAPTURE_FILENAME_BYTES];
	__u8 name_bytes[PYRO_CAPTURE_NAME_BYTES];
	__u8 line_table_bytes[PYRO_CAPTURE_LINE_TABLE_BYTES];
};

/* Sent when a profiled process may have mapped new code (dlopen), so the
 * loader re-reads its mappings before samples land in it. */
struct pyro_mapping_added {
	__u32 kind;
	__u32 pid;
	__u64 timestamp_ns;
};

/* What a sample record stands for. */
enum pyro_sample_origin {
	PYRO_ORIGIN_ON_CPU = 1,  /* the cpu-clock sampler found the thread running */
	PYRO_ORIGIN_OFF_CPU = 2, /* the thread went off CPU for weight_ns */
};

/* Why an off-CPU record's thread left the CPU, from the task's state at
 * the switch (NONE for on-CPU samples). */
enum pyro_off_cpu_state {
	PYRO_OFF_CPU_NONE = 0,
	PYRO_OFF_CPU_SLEEPING = 1,      /* TASK_INTERRUPTIBLE: a wait it chose (sleep, poll, lock, read) */
	PYRO_OFF_CPU_UNINTERRUPTIBLE = 2, /* TASK_UNINTERRUPTIBLE: disk I/O, page faults, kernel locks */
	PYRO_OFF_CPU_PREEMPTED = 3,     /* still runnable: preempted or yielded */
};

/* Where a Python thread stood with the GIL when sampled or when it went
 * off CPU (`record --gil`; UNKNOWN otherwise, and for threads pyrograph
 * cannot tell about). */
enum pyro_gil_state {
	PYRO_GIL_UNKNOWN = 0,
	PYRO_GIL_HELD = 1,     /* locked, and last_holder is the thread's state */
	PYRO_GIL_RELEASED = 2, /* another thread holds it, or nobody */
	PYRO_GIL_WAITING = 3,  /* asleep in a futex of the GIL's mutex or conditions */
};

/* A sample's stacks, back to back in 8-byte words: the kernel pcs, then
 * the user pcs, then the Python frames (PYRO_PYTHON_FRAME_WORDS each),
 * each innermost first. Only the used words are sent. Where each starts
 * is defined once, below the record, for the BPF programs, the walkers and
 * the Swift decoder alike. */
#define PYRO_SAMPLE_WORDS (PYRO_MAX_KERNEL_FRAMES + PYRO_MAX_USER_FRAMES + \
			   PYRO_PYTHON_FRAME_WORDS * PYRO_MAX_PYTHON_FRAMES)

/* One record of a thread's stacks: a cpu-clock sample, or an interval off
 * CPU. Stack lengths are in bytes as bpf_get_stack returns them, or a
 * negative errno when the capture failed (then the stack takes no words). */
struct pyro_sample {
	__u32 kind;
	__u32 pid;  /* thread group id, as the host sees it */
	__u32 tid;
	__u32 cpu;
	__u64 timestamp_ns;
	/* The time the record stands for: the sampling period (1e9 / the
	 * frequency) for an on-CPU sample, the interval's length off CPU. */
	__u64 weight_ns;
	char process_comm[PYRO_COMM_LEN];
	char thread_comm[PYRO_COMM_LEN];
	__s32 kernel_stack_bytes;
	__s32 user_stack_bytes;
	__u32 native_status;
	__u32 python_status;
	__u32 python_frame_count;
	__u32 origin;  /* enum pyro_sample_origin */
	__u32 off_cpu_state; /* enum pyro_off_cpu_state */
	__u32 gil_state;     /* enum pyro_gil_state */
	__u64 stacks[PYRO_SAMPLE_WORDS];
};

/* Words of a stack from its recorded length: none for a failed capture. */
static inline __u32 pyro_stack_words(__s32 bytes)
{
	return bytes > 0 ? (__u32)bytes / 8 : 0;
}

/* Word of pyro_sample.stacks where the user pcs start. */
static inline __u32 pyro_user_stack_first_word(__s32 kernel_stack_bytes)
{
	__u32 words = pyro_stack_words(kernel_stack_bytes);

	return words < PYRO_MAX_KERNEL_FRAMES ? words : PYRO_MAX_KERNEL_FRAMES;
}

/* Word of pyro_sample.stacks where the Python frames start. */
static inline __u32 pyro_python_first_word(__s32 kernel_stack_bytes, __s32 user_stack_bytes)
{
	__u32 words = pyro_stack_words(user_stack_bytes);

	return pyro_user_stack_first_word(kernel_stack_bytes) +
	       (words < PYRO_MAX_USER_FRAMES ? words : PYRO_MAX_USER_FRAMES);
}

/* Words of pyro_sample.stacks a record with these stacks uses. */
static inline __u32 pyro_sample_used_words(__s32 kernel_stack_bytes, __s32 user_stack_bytes, __u32 python_frames)
{
	return pyro_python_first_word(kernel_stack_bytes, user_stack_bytes) +
	       PYRO_PYTHON_FRAME_WORDS * (python_frames < PYRO_MAX_PYTHON_FRAMES ? python_frames : PYRO_MAX_PYTHON_FRAMES);
}

/* An off-CPU interval is sent in two records: at switch-out, the thread's
 * stacks (a pyro_sample, origin OFF_CPU, weight_ns 0, timestamp_ns the
 * moment it left); at switch-in, this small record, which the loader joins
 * by tid to that thread's last pending sample and which gives it its
 * weight (end_ns - start_ns). Capturing at switch-out is necessary (the
 * user stack is only readable while the thread is current); sending the
 * length later keeps a per-tid copy of the 18 KB record out of the kernel. */
struct pyro_off_cpu_end {
	__u32 kind;
	__u32 tid;
	__u64 start_ns;
	__u64 end_ns;
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
	PYRO_STAT_PYTHON_NO_THREAD_STATE,
	PYRO_STAT_PYTHON_READ_FAULT,
	PYRO_STAT_PYTHON_TRUNCATED,
	PYRO_STAT_UNWIND_NO_MAPPING,
	PYRO_STAT_UNWIND_NO_CFI,
	PYRO_STAT_UNWIND_READ_FAULT,
	PYRO_STAT_UNWIND_DEPTH,
	PYRO_STAT_UNWIND_UNSUPPORTED_RULE,
	/* The off-CPU hook (--clock wall, --off-cpu): */
	PYRO_STAT_OFF_CPU_INTERVALS,     /* intervals whose end was sent */
	PYRO_STAT_OFF_CPU_LOST_RINGBUF,  /* ring buffer full at switch-out or switch-in: interval lost */
	PYRO_STAT_OFF_CPU_UNTRACKED,     /* the per-thread start map was full: interval lost */
	PYRO_STAT_OFF_CPU_SAMPLED_OUT,   /* switch-outs skipped by --off-cpu-sampling (the kept ones weigh more) */
	/* --gil: */
	PYRO_STAT_GIL_UNREADABLE,        /* the GIL's memory could not be read: state unknown */
	PYRO_STAT_PYTHON_CHAIN_BROKEN,   /* a Python frame chain cut where it stopped making sense */
	PYRO_STAT_COUNT,
};

#endif
