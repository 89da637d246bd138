/* SPDX-License-Identifier: GPL-2.0 */
/* The Python part of a sample, in two steps: find a thread's PyThreadState
 * (find_thread_state), then walk its frame chain (walk_thread_state),
 * emitting (code object, instruction) per frame. The loader fills
 * python_layouts with each interpreter's offsets; names and lines are
 * resolved in user space.
 *
 * The two steps take no kernel types and no maps, so Sources/CPythonWalker
 * compiles them unchanged for the host, where they run against a live
 * process or a recorded memory image. The kernel's glue at the end
 * (walk_python_stack) adds the maps and the counters. Included by
 * stack_capture.bpf.h. */
#ifndef PYROGRAPH_PYTHON_WALKER_H
#define PYROGRAPH_PYTHON_WALKER_H

/* Frames the interpreter owns, not Python functions: the eval loop's shim
 * (3.12, 3.13: FRAME_OWNED_BY_CSTACK = 3), its entry frame and 3.15's base
 * frame in the thread state (3.14+: FRAME_OWNED_BY_INTERPRETER = 3) and
 * 3.14's FRAME_OWNED_BY_CSTACK = 4. CPython's own readers test >= 3. */
#define PYRO_FRAME_OWNED_BY_INTERPRETER 3
/* Free-threaded: more copies of a code object's bytecode than this are
 * taken as garbage (one per thread that specialized it). */
#define PYRO_MAX_BYTECODE_COPIES (1 << 20)

/* Where the walker reads the interpreter's memory. In the kernel it is the
 * current process's, and the walk's structs carry nothing for it; on the
 * host they carry the walker (a reader callback and its context). */
#ifdef PYRO_HOST_BUILD
#define WALKER_ENV const struct pyro_python_walker *env;
#define walker_read(holder, destination, size, address) \
	pyro_python_walker_read((holder)->env, destination, size, address)
#else
#define WALKER_ENV
#define walker_read(holder, destination, size, address) \
	bpf_probe_read_user(destination, size, (const void *)(address))
#endif

/* In the kernel, scalars only: bpf_loop callbacks see their context
 * through the stack. */
struct thread_search {
	WALKER_ENV
	__u64 thread_state;
	__u64 thread_id;
	__u64 found;
	__u16 offset_thread_id;
	__u16 offset_next;
	bool fault;
};

static long search_thread(__u32 index, struct thread_search *search)
{
	__u64 id;

	if (!search->thread_state)
		return 1;
	if (walker_read(search, &id, sizeof(id), search->thread_state + search->offset_thread_id)) {
		search->fault = true;
		return 1;
	}
	if (id == search->thread_id) {
		search->found = search->thread_state;
		return 1;
	}
	if (walker_read(search, &search->thread_state, sizeof(search->thread_state),
			search->thread_state + search->offset_next)) {
		search->fault = true;
		return 1;
	}
	return 0;
}

/* Step one: the thread state whose thread_id (pthread_self(), which is the
 * thread pointer in fsbase) is search->thread_id, from the interpreter's
 * list of threads; 0 if none, with search->fault set when the list could
 * not be read. The interpreter's "current thread" pointers name the GIL
 * holder, not the thread on this CPU. */
static __always_inline __u64 find_thread_state(struct thread_search *search, const struct pyro_python_layout *layout)
{
	__u64 interpreter;

	search->offset_thread_id = layout->thread_id;
	search->offset_next = layout->thread_next;
	if (walker_read(search, &interpreter, sizeof(interpreter), layout->interpreter_head_address) || !interpreter)
		return 0;
	if (walker_read(search, &search->thread_state, sizeof(search->thread_state),
			interpreter + layout->interpreter_threads_head)) {
		search->fault = true;
		return 0;
	}
	bpf_loop(PYRO_MAX_PYTHON_THREADS, search_thread, search, 0);
	return search->found;
}

/* Map values reach the callback as pointers kept in the caller's stack,
 * which the verifier tracks; looking them up again per frame costs more. */
struct frame_walk {
	WALKER_ENV
	const struct pyro_python_layout *layout;
	struct pyro_sample *sample;
	__u64 frame;
	/* A frame seen earlier in this walk: at each power-of-two step the
	 * walk remembers where it is, and meeting that frame again is a cycle
	 * (Brent's), found within three times the cycle's reach. */
	__u64 checkpoint;
	/* Where the Python frames start in sample->stacks: after the pcs. */
	__u32 first_word;
	/* Why the chain stopped making sense (a pyro_python_status), or 0. */
	__u32 broken;
	bool fault;
	bool truncated;
};

/* The count lives in the sample, a map value, not in the walk: the verifier
 * knows a counter on the stack exactly, so each iteration would be a new
 * state and it would verify the loop body once per possible frame. */
static __always_inline bool emit_python_frame(struct frame_walk *walk, __u64 code,
					      __s32 instruction, __u32 stamp)
{
	struct pyro_sample *sample = walk->sample;
	__u32 count = sample->python_frame_count, word;
	struct pyro_python_frame *out;

	if (count >= PYRO_MAX_PYTHON_FRAMES) {
		walk->truncated = true;
		return false;
	}
	word = walk->first_word + PYRO_PYTHON_FRAME_WORDS * count;
	if (word > PYRO_SAMPLE_WORDS - PYRO_PYTHON_FRAME_WORDS) {
		walk->truncated = true;
		return false;
	}
	out = (struct pyro_python_frame *)&sample->stacks[word];
	out->code = code;
	out->instruction = instruction;
	out->stamp = stamp;
	sample->python_frame_count = count + 1;
	return true;
}

/* Fields of a frame read into words: pointers are 8-aligned, f_lasti
 * 4-aligned, and x86_64 is little-endian. */
#define PYRO_WINDOW_WORDS (PYRO_MAX_FRAME_WINDOW / 8)

static __always_inline __u64 window_u64(const __u64 *window, __u16 offset)
{
	return window[(offset / 8) & (PYRO_WINDOW_WORDS - 1)];
}

static __always_inline __u32 window_u32(const __u64 *window, __u16 offset)
{
	return (__u32)(window_u64(window, offset) >> ((offset & 4) * 8));
}

static __always_inline __u8 window_u8(const __u64 *window, __u16 offset)
{
	return (__u8)(window_u64(window, offset) >> ((offset & 7) * 8));
}

/* Whether code is a code object: its type is PyCode_Type. A frame whose
 * code is anything else is garbage, and so is every frame it leads to. */
static __always_inline bool is_code_object(struct frame_walk *walk, __u64 code)
{
	__u64 type = 0;

	if (code & 7 || walker_read(walk, &type, sizeof(type), code + walk->layout->object_type) ||
	    type != walk->layout->code_type_address) {
		walk->broken = PYRO_PYTHON_CHAIN_NOT_CODE;
		return false;
	}
	return true;
}

static long walk_one_frame(__u32 index, struct frame_walk *walk)
{
	const struct pyro_python_layout *layout = walk->layout;
	__u64 window[PYRO_WINDOW_WORDS] = {};
	__u64 frame = walk->frame, code, previous, pointer;
	__u32 size = layout->frame_window, stamp = 0;
	__s32 instruction;

	if (!frame)
		return 1;
	/* Interpreters allocate frames 8-aligned. */
	if (frame & 7) {
		walk->broken = PYRO_PYTHON_CHAIN_MISALIGNED;
		return 1;
	}
	if (index > 0 && frame == walk->checkpoint) {
		walk->broken = PYRO_PYTHON_CHAIN_CYCLE;
		return 1;
	}
	if ((index & (index - 1)) == 0)
		walk->checkpoint = frame;
	if (size > PYRO_MAX_FRAME_WINDOW)
		size = PYRO_MAX_FRAME_WINDOW;
	if (walker_read(walk, window, size, frame))
		goto fault;
	previous = window_u64(window, layout->frame_previous);

	/* 3.12+: the eval loop's shim (entry) frame marks where its frames end. */
	if (layout->frame_owner != PYRO_NO_OFFSET &&
	    window_u8(window, layout->frame_owner) >= PYRO_FRAME_OWNED_BY_INTERPRETER) {
		if (!emit_python_frame(walk, 0, 0, 0))
			return 1;
		walk->frame = previous;
		return 0;
	}

	/* 3.14+: a _PyStackRef, whose low bits are tags. */
	code = window_u64(window, layout->frame_code) & ~(__u64)layout->executable_tag_bits;
	if (layout->instruction_is_pointer) {
		__u64 base = code + layout->code_adaptive, copies;
		__s32 copy;

		pointer = window_u64(window, layout->frame_instruction);
		/* Free-threaded: this thread's copy of the bytecode. */
		if (layout->frame_tlbc_index != PYRO_NO_OFFSET) {
			copy = (__s32)window_u32(window, layout->frame_tlbc_index);
			if (copy > 0 && copy < PYRO_MAX_BYTECODE_COPIES &&
			    !walker_read(walk, &copies, sizeof(copies), code + layout->code_tlbc) && copies)
				walker_read(walk, &base, sizeof(base), copies + 8 * (__u64)(copy + 1));
		}
		instruction = (__s32)(((__s64)pointer - (__s64)base) / 2);
	} else {
		instruction = (__s32)window_u32(window, layout->frame_instruction);
	}
	if (layout->code_type_address && !is_code_object(walk, code))
		return 1;
	walker_read(walk, &stamp, sizeof(stamp), code + layout->code_stamp);
	if (!emit_python_frame(walk, code, instruction, stamp))
		return 1;

	/* 3.11: the oldest frame of each eval-loop invocation. */
	if (layout->frame_is_entry != PYRO_NO_OFFSET && window_u8(window, layout->frame_is_entry)) {
		if (!emit_python_frame(walk, 0, 0, 0))
			return 1;
	}
	walk->frame = previous;
	return 0;
fault:
	walk->fault = true;
	return 1;
}

/* Step two: walks the frame chain of a thread state into the sample's
 * Python frames, after its pcs. walk->layout and walk->sample are set and
 * the sample's frame count is 0; returns the walk's pyro_python_status. */
static __always_inline __u32 walk_thread_state(struct frame_walk *walk, __u64 thread_state)
{
	const struct pyro_python_layout *layout = walk->layout;
	struct pyro_sample *sample = walk->sample;
	__u64 frame;

	if (walker_read(walk, &frame, sizeof(frame), thread_state + layout->thread_frame))
		return PYRO_PYTHON_READ_FAULT;
	if (layout->cframe_current_frame != PYRO_NO_OFFSET && frame &&
	    walker_read(walk, &frame, sizeof(frame), frame + layout->cframe_current_frame))
		return PYRO_PYTHON_READ_FAULT;

	walk->frame = frame;
	walk->first_word = pyro_python_first_word(sample->kernel_stack_bytes, sample->user_stack_bytes);
	bpf_loop(PYRO_MAX_PYTHON_FRAMES + 1, walk_one_frame, walk, 0);
	if (walk->broken)
		return walk->broken;
	if (walk->fault)
		return PYRO_PYTHON_READ_FAULT;
	if (walk->truncated || walk->frame)
		return PYRO_PYTHON_TRUNCATED;
	return PYRO_PYTHON_OK;
}

#ifndef PYRO_HOST_BUILD
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pyro_python_layout);
} python_layouts SEC(".maps");

/* tid -> PyThreadState*, filled by the thread search and checked on every
 * use, so a stale entry costs one read, never a wrong stack. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} python_thread_states SEC(".maps");

/* find_thread_state through the cache of each thread's state. */
static __always_inline __u64 lookup_thread_state(const struct pyro_python_layout *layout, __u32 tid, __u64 fsbase,
						 bool *fault)
{
	struct thread_search search = { .thread_id = fsbase };
	__u64 *cached = bpf_map_lookup_elem(&python_thread_states, &tid);
	__u64 found, id;

	if (cached) {
		__u64 candidate = *cached;

		if (!bpf_probe_read_user(&id, sizeof(id), (const void *)(candidate + layout->thread_id)) && id == fsbase)
			return candidate;
		bpf_map_delete_elem(&python_thread_states, &tid);
	}
	found = find_thread_state(&search, layout);
	*fault = search.fault;
	if (found)
		bpf_map_update_elem(&python_thread_states, &tid, &found, BPF_ANY);
	return found;
}

/* Fills the sample's Python fields; returns the number of frames. fsbase is
 * the thread's pthread_self(). */
static __always_inline __u32 walk_python_stack(struct pyro_sample *sample, __u32 tgid, __u32 tid, __u64 fsbase)
{
	const struct pyro_python_layout *layout = bpf_map_lookup_elem(&python_layouts, &tgid);
	struct frame_walk walk = { .sample = sample };
	__u64 thread_state;
	bool fault = false;
	__u32 status;

	sample->python_frame_count = 0;
	if (!layout) {
		sample->python_status = PYRO_PYTHON_NOT_PYTHON;
		return 0;
	}
	thread_state = lookup_thread_state(layout, tid, fsbase, &fault);
	if (thread_state) {
		walk.layout = layout;
		status = walk_thread_state(&walk, thread_state);
	} else {
		status = fault ? PYRO_PYTHON_READ_FAULT : PYRO_PYTHON_NO_THREAD_STATE;
	}
	sample->python_status = status;
	switch (status) {
	case PYRO_PYTHON_NO_THREAD_STATE:
		count_stat(PYRO_STAT_PYTHON_NO_THREAD_STATE);
		break;
	case PYRO_PYTHON_READ_FAULT:
		count_stat(PYRO_STAT_PYTHON_READ_FAULT);
		break;
	case PYRO_PYTHON_TRUNCATED:
		count_stat(PYRO_STAT_PYTHON_TRUNCATED);
		break;
	case PYRO_PYTHON_CHAIN_CYCLE:
	case PYRO_PYTHON_CHAIN_NOT_CODE:
	case PYRO_PYTHON_CHAIN_MISALIGNED:
		count_stat(PYRO_STAT_PYTHON_CHAIN_BROKEN);
		break;
	}
	return sample->python_frame_count;
}
#endif

#endif
