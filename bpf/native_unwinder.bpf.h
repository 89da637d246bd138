/* SPDX-License-Identifier: GPL-2.0 */
/* Native user-stack unwinding from DWARF CFI. The loader compiles each
 * file's .eh_frame into sorted rows (unwind_rows) with a page index
 * (unwind_pages) and lists each process's executable mappings
 * (unwind_processes); here every frame finds its mapping and row and
 * recovers the caller's pc, sp and rbp. Frame pointers are the
 * fallback where no row covers a pc. Included by stack_capture.bpf.h. */
#ifndef PYROGRAPH_NATIVE_UNWINDER_H
#define PYROGRAPH_NATIVE_UNWINDER_H

/* Sized by the loader before load; mmapped so tables are copied in place. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pyro_unwind_row);
} unwind_rows SEC(".maps");

/* Sized and filled like unwind_rows: each file's page index. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pyro_unwind_page);
} unwind_pages SEC(".maps");

/* Not preallocated: an entry is 12 KiB, and few processes have one. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pyro_unwind_process);
} unwind_processes SEC(".maps");

/* Rows of recently unwound pcs, per CPU. The same return addresses recur
 * sample after sample, and one warm slot here costs less than the page
 * index and a search over cold rows. Rows never change once written, so a
 * slot keyed by (file table, pc) stays right as long as the tables exist. */
#define ROW_CACHE_SLOTS 1024

struct row_cache_slot {
	__u64 key;
	struct pyro_unwind_row row;
	__u64 reserved;
};

struct row_cache {
	struct row_cache_slot slots[ROW_CACHE_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct row_cache);
} row_caches SEC(".maps");

struct native_walk {
	const struct pyro_unwind_process *process;
	struct row_cache *cache;
	struct pyro_sample *sample;
	/* Where the user pcs start in sample->stacks: after the kernel's. */
	__u32 first_word;
	__u64 pc;
	__u64 sp;
	__u64 bp;
	__u32 count;
	__u32 status;
	/* The mapping of the previous frame: most callers are in the same file. */
	__u32 mapping;
	bool done;
	/* The pc came from a signal frame: the interrupted instruction itself,
	 * not a return address, so it is looked up as it is. */
	bool exact_pc;
};

/* Binary searches run as bpf_loop callbacks: written as plain loops, their
 * branches multiply the verifier's states past its limit. */
struct mapping_search {
	const struct pyro_unwind_process *process;
	__u64 pc;
	__u32 low;
	__u32 high;
};

static long mapping_search_step(__u32 index, struct mapping_search *search)
{
	__u32 mid;

	if (search->low >= search->high)
		return 1;
	mid = (search->low + search->high) / 2;
	if (search->process->mappings[mid & (PYRO_MAX_UNWIND_MAPPINGS - 1)].start <= search->pc)
		search->low = mid + 1;
	else
		search->high = mid;
	return 0;
}

/* Index of the last mapping starting at or before pc, or -1. */
static __always_inline int find_mapping(const struct pyro_unwind_process *process, __u64 pc)
{
	struct mapping_search search = { .process = process, .pc = pc, .high = process->count };

	if (search.high > PYRO_MAX_UNWIND_MAPPINGS)
		search.high = PYRO_MAX_UNWIND_MAPPINGS;
	bpf_loop(10, mapping_search_step, &search, 0);
	return search.low == 0 ? -1 : (int)search.low - 1;
}

struct row_search {
	__u32 pc;
	__u32 low;
	__u32 high;
};

static long row_search_step(__u32 index, struct row_search *search)
{
	const struct pyro_unwind_row *row;
	__u32 mid;

	if (search->low >= search->high)
		return 1;
	mid = search->low + (search->high - search->low) / 2;
	row = bpf_map_lookup_elem(&unwind_rows, &mid);
	if (!row)
		return 1;
	if (row->pc <= search->pc)
		search->low = mid + 1;
	else
		search->high = mid;
	return 0;
}

/* The mapping's last row whose pc is at or before pc (a file address). The
 * page index narrows the search to the rows that start in pc's page. */
static __always_inline const struct pyro_unwind_row *find_row(const struct pyro_unwind_mapping *mapping, __u32 pc)
{
	struct row_search search = { .pc = pc };
	const struct pyro_unwind_page *page;
	__u32 index;

	if (pc < mapping->first_page_pc)
		return NULL;
	index = (pc - mapping->first_page_pc) >> PYRO_UNWIND_PAGE_SHIFT;
	if (index < mapping->page_count) {
		index += mapping->pages_start;
		page = bpf_map_lookup_elem(&unwind_pages, &index);
		if (!page)
			return NULL;
		search.low = mapping->table_start + page->first_row;
		search.high = mapping->table_start + page->end_row;
		if (search.low < search.high)
			bpf_loop(32, row_search_step, &search, 0);
	} else {
		/* Past the last page: the last row holds. */
		search.low = mapping->table_start + mapping->table_count;
	}
	if (search.low == mapping->table_start)
		return NULL;
	index = search.low - 1;
	return bpf_map_lookup_elem(&unwind_rows, &index);
}

/* find_row through the CPU's row cache. */
static __always_inline const struct pyro_unwind_row *lookup_row(struct native_walk *walk,
								 const struct pyro_unwind_mapping *mapping, __u32 pc)
{
	__u64 key = ((__u64)(mapping->table_start + 1) << 32) | pc;
	const struct pyro_unwind_row *row;
	struct row_cache_slot *slot;

	if (!walk->cache)
		return find_row(mapping, pc);
	slot = &walk->cache->slots[((key * 0x9E3779B97F4A7C15ULL) >> 54) & (ROW_CACHE_SLOTS - 1)];
	if (slot->key == key)
		return &slot->row;
	row = find_row(mapping, pc);
	if (row) {
		slot->row = *row;
		slot->key = key;
	}
	return row;
}

/* The slot is the loop's own index, not a count kept in the context: a
 * counter the verifier can track exactly makes every iteration a new state. */
static __always_inline bool push_native_frame(struct native_walk *walk, __u32 index)
{
	__u32 word = walk->first_word + index;

	if (index >= PYRO_MAX_USER_FRAMES || word >= PYRO_SAMPLE_WORDS) {
		walk->status = PYRO_NATIVE_DEPTH;
		return false;
	}
	walk->sample->stacks[word] = walk->pc;
	walk->count = index + 1;
	return true;
}

/* Frame-pointer step: for code with no CFI row (JIT, gaps). */
static __always_inline bool frame_pointer_step(struct native_walk *walk)
{
	__u64 saved[2];

	if (!walk->bp || bpf_probe_read_user(saved, sizeof(saved), (const void *)walk->bp))
		return false;
	walk->sp = walk->bp + 16;
	walk->bp = saved[0];
	walk->pc = saved[1];
	return true;
}

/* Words just below the CFA read at once: the return address, and rbp when
 * the prologue pushed it among them, as it nearly always does. */
#define PYRO_SAVED_WORDS 8

/* Reads the return address at cfa - 8 and, if the row says rbp was saved,
 * rbp: with one read when it lies within the words below the CFA. */
static __always_inline bool read_return_address(struct native_walk *walk, const struct pyro_unwind_row *row,
						__u64 cfa, __u64 *return_address)
{
	/* Twice the words used: the size mask below is what the verifier sees. */
	__u64 saved[2 * PYRO_SAVED_WORDS] = {};
	__s32 offset = row->rbp_offset;
	__u32 size;

	if (row->rbp_rule != PYRO_RBP_AT_CFA)
		return !bpf_probe_read_user(return_address, sizeof(*return_address), (const void *)(cfa - 8));
	if (offset < 0 && offset >= -8 * PYRO_SAVED_WORDS && !(offset & 7)) {
		size = (__u32)(-offset);
		/* Hide what the test above proved, or clang drops the mask the
		 * verifier needs to bound the read. */
		asm volatile("" : "+r"(size));
		size &= 16 * PYRO_SAVED_WORDS - 8;
		if (bpf_probe_read_user(saved, size, (const void *)(cfa + offset)))
			return false;
		walk->bp = saved[0];
		*return_address = saved[(size / 8 - 1) & (2 * PYRO_SAVED_WORDS - 1)];
		return true;
	}
	return !bpf_probe_read_user(return_address, sizeof(*return_address), (const void *)(cfa - 8)) &&
	       !bpf_probe_read_user(&walk->bp, sizeof(walk->bp), (const void *)(cfa + offset));
}

static long unwind_one_frame(__u32 index, struct native_walk *walk)
{
	const struct pyro_unwind_process *process;
	const struct pyro_unwind_mapping *mapping;
	const struct pyro_unwind_row *row;
	__u64 cfa, lookup_pc, return_address;
	int found;

	if (!push_native_frame(walk, index))
		return 1;
	process = walk->process;
	mapping = &process->mappings[walk->mapping & (PYRO_MAX_UNWIND_MAPPINGS - 1)];
	if (walk->mapping >= process->count || walk->pc < mapping->start || walk->pc >= mapping->end) {
		found = find_mapping(process, walk->pc);
		if (found < 0)
			goto no_mapping;
		walk->mapping = found;
		mapping = &process->mappings[found & (PYRO_MAX_UNWIND_MAPPINGS - 1)];
		if (walk->pc >= mapping->end)
			goto no_mapping;
	}

	/* A return address can point just past a call at a function's end. */
	lookup_pc = index == 0 || walk->exact_pc ? walk->pc : walk->pc - 1;
	walk->exact_pc = false;
	row = mapping->table_count ? lookup_row(walk, mapping, (__u32)(lookup_pc - mapping->bias)) : NULL;
	if (!row || row->cfa_rule == PYRO_CFA_NONE) {
		/* A zero pc read through rbp says nothing about reaching the
		 * outermost frame: only CFI marks that. */
		if (!frame_pointer_step(walk) || !walk->pc) {
			walk->status = PYRO_NATIVE_NO_CFI;
			goto stop;
		}
		goto next;
	}
	if (row->flags & PYRO_ROW_SIGNAL_FRAME) {
		/* sp is the ucontext: uc_mcontext at 40, then the kernel's
		 * sigcontext, whose words 10, 15 and 16 are rbp, rsp and rip. */
		__u64 saved[7];

		if (bpf_probe_read_user(saved, sizeof(saved), (const void *)(walk->sp + 120))) {
			walk->status = PYRO_NATIVE_READ_FAULT;
			goto stop;
		}
		walk->bp = saved[0];
		walk->sp = saved[5];
		walk->pc = saved[6];
		walk->exact_pc = true;
		goto next;
	}
	switch (row->cfa_rule) {
	case PYRO_CFA_RSP:
		cfa = walk->sp + row->cfa_offset;
		break;
	case PYRO_CFA_RBP:
		cfa = walk->bp + row->cfa_offset;
		break;
	case PYRO_CFA_PLT:
		/* cfa_offset holds the stub byte past which 8 more was pushed. */
		cfa = walk->sp + 8 + ((walk->pc & 15) >= (__u64)row->cfa_offset ? 8 : 0);
		break;
	case PYRO_CFA_END:
		walk->status = PYRO_NATIVE_COMPLETE;
		goto stop;
	default:
		walk->status = PYRO_NATIVE_UNSUPPORTED_RULE;
		goto stop;
	}
	if (!read_return_address(walk, row, cfa, &return_address)) {
		walk->status = PYRO_NATIVE_READ_FAULT;
		goto stop;
	}
	walk->sp = cfa;
	walk->pc = return_address;
next:
	if (!walk->pc) {
		walk->status = PYRO_NATIVE_COMPLETE;
		goto stop;
	}
	return 0;
no_mapping:
	walk->status = PYRO_NATIVE_NO_MAPPING;
stop:
	walk->done = true;
	return 1;
}

/* Walks the user stack from these registers with the process's tables,
 * filling the sample's user pcs and native_status. Free of kernel types, so
 * the host test harness runs it too. */
static __always_inline void unwind_native_from(struct pyro_sample *sample,
					       const struct pyro_unwind_process *process, struct row_cache *cache,
					       __u64 pc, __u64 sp, __u64 bp)
{
	struct native_walk walk = {
		.process = process, .cache = cache, .sample = sample, .pc = pc, .sp = sp, .bp = bp,
		.status = PYRO_NATIVE_NO_CFI, .mapping = PYRO_MAX_UNWIND_MAPPINGS,
		.first_word = pyro_user_stack_first_word(sample->kernel_stack_bytes),
	};

	bpf_loop(PYRO_MAX_USER_FRAMES, unwind_one_frame, &walk, 0);
	if (!walk.done && walk.status != PYRO_NATIVE_DEPTH)
		walk.status = PYRO_NATIVE_DEPTH;
	sample->user_stack_bytes = walk.count * sizeof(__u64);
	sample->native_status = walk.status;
	switch (walk.status) {
	case PYRO_NATIVE_NO_MAPPING:
		count_stat(PYRO_STAT_UNWIND_NO_MAPPING);
		break;
	case PYRO_NATIVE_NO_CFI:
		count_stat(PYRO_STAT_UNWIND_NO_CFI);
		break;
	case PYRO_NATIVE_READ_FAULT:
		count_stat(PYRO_STAT_UNWIND_READ_FAULT);
		break;
	case PYRO_NATIVE_DEPTH:
		count_stat(PYRO_STAT_UNWIND_DEPTH);
		break;
	case PYRO_NATIVE_UNSUPPORTED_RULE:
		count_stat(PYRO_STAT_UNWIND_UNSUPPORTED_RULE);
		break;
	}
}

#ifndef PYRO_HOST_BUILD
/* Fills the sample's user pcs from CFI if the loader gave this process tables;
 * returns false to let the caller fall back to bpf_get_stack. `task` is the
 * current thread as a BTF pointer. */
static __always_inline bool unwind_native_stack(struct pyro_sample *sample, __u32 tgid, struct task_struct *task)
{
	const struct pyro_unwind_process *process = bpf_map_lookup_elem(&unwind_processes, &tgid);
	__u32 zero = 0;
	struct pt_regs *regs;

	if (!process)
		return false;
	/* The user registers, also when the thread is in the kernel (a sample
	 * that interrupted a system call, a thread going off CPU). */
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return false;
	unwind_native_from(sample, process, bpf_map_lookup_elem(&row_caches, &zero), BPF_CORE_READ(regs, ip),
			   BPF_CORE_READ(regs, sp), BPF_CORE_READ(regs, bp));
	return true;
}
#endif

#endif
