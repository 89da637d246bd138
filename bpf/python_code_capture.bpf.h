/* SPDX-License-Identifier: GPL-2.0 */
/* The loader names a Python frame by reading its code object, after the
 * sample: a code object freed by then (a module body that finished
 * importing, a function exec'd for 10 ms, any code of a process that has
 * exited) could not be named. So the first time a process's sample holds
 * a code object, the bytes naming needs (the code object's fields, its
 * filename, name and line table) are copied here, at sample time, into a
 * pyro_code_capture record; later samples only look the code object up.
 * Included by stack_capture.bpf.h after the walker. */
#ifndef PYROGRAPH_PYTHON_CODE_CAPTURE_H
#define PYROGRAPH_PYTHON_CODE_CAPTURE_H

struct code_seen_key {
	__u64 code;
	__u32 tgid;
	__u32 stamp;
};

/* Code objects already captured, per process; evicted least recently
 * used, which only costs a capture again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct code_seen_key);
	__type(value, __u8);
} python_codes_seen SEC(".maps");

struct code_capture_walk {
	const struct pyro_python_layout *layout;
	struct pyro_sample *sample;
	__u32 first_word;
	__u32 captures;
};

/* Reads `size` bytes, or the first PYRO_CAPTURE_SHORT_BYTES when the whole
 * read crosses into unmapped memory; returns the bytes read. */
static __always_inline __u16 capture_read(void *destination, __u32 size, __u64 address)
{
	if (!address)
		return 0;
	if (!bpf_probe_read_user(destination, size, (const void *)address))
		return size;
	if (size > PYRO_CAPTURE_SHORT_BYTES &&
	    !bpf_probe_read_user(destination, PYRO_CAPTURE_SHORT_BYTES, (const void *)address))
		return PYRO_CAPTURE_SHORT_BYTES;
	return 0;
}

static __always_inline __u64 capture_pointer(struct pyro_code_capture *capture, __u16 offset)
{
	return *(__u64 *)&capture->code_bytes[offset & (PYRO_CAPTURE_CODE_BYTES - 8)];
}

static long capture_one_code(__u32 index, struct code_capture_walk *walk)
{
	const struct pyro_python_layout *layout = walk->layout;
	struct pyro_sample *sample = walk->sample;
	struct code_seen_key key = { .tgid = sample->pid };
	struct pyro_code_capture *capture;
	struct pyro_python_frame *frame;
	__u32 word = walk->first_word + PYRO_PYTHON_FRAME_WORDS * index;
	__u32 code_bytes = layout->code_capture_bytes;
	__u8 one = 1;

	if (index >= sample->python_frame_count || word > PYRO_SAMPLE_WORDS - PYRO_PYTHON_FRAME_WORDS)
		return 1;
	frame = (struct pyro_python_frame *)&sample->stacks[word];
	key.code = frame->code;
	key.stamp = frame->stamp;
	if (!key.code || bpf_map_lookup_elem(&python_codes_seen, &key))
		return 0;
	if (walk->captures >= PYRO_MAX_CAPTURES_PER_SAMPLE)
		return 1;
	capture = bpf_ringbuf_reserve(&events, sizeof(*capture), 0);
	if (!capture)
		return 1;
	walk->captures++;
	capture->kind = PYRO_EVENT_CODE_CAPTURED;
	capture->pid = sample->pid;
	capture->code = key.code;
	capture->stamp = key.stamp;
	capture->reserved = 0;
	if (code_bytes > PYRO_CAPTURE_CODE_BYTES)
		code_bytes = PYRO_CAPTURE_CODE_BYTES;
	capture->code_size = 0;
	if (code_bytes >= 8 && !bpf_probe_read_user(capture->code_bytes, code_bytes, (const void *)key.code))
		capture->code_size = code_bytes;
	if (capture->code_size) {
		capture->filename = capture_pointer(capture, layout->code_filename);
		capture->name = capture_pointer(capture, layout->code_name);
		capture->line_table = capture_pointer(capture, layout->code_line_table);
	} else {
		capture->filename = capture->name = capture->line_table = 0;
	}
	capture->filename_size = capture_read(capture->filename_bytes, PYRO_CAPTURE_FILENAME_BYTES, capture->filename);
	capture->name_size = capture_read(capture->name_bytes, PYRO_CAPTURE_NAME_BYTES, capture->name);
	capture->line_table_size = capture_read(capture->line_table_bytes, PYRO_CAPTURE_LINE_TABLE_BYTES,
						capture->line_table);
	bpf_ringbuf_submit(capture, BPF_RB_NO_WAKEUP);
	bpf_map_update_elem(&python_codes_seen, &key, &one, BPF_ANY);
	return 0;
}

/* After the walk: captures the sample's code objects this process has not
 * sent yet, at most PYRO_MAX_CAPTURES_PER_SAMPLE. */
static __always_inline void capture_new_code_objects(struct pyro_sample *sample)
{
	struct code_capture_walk walk = { .sample = sample };
	__u32 tgid = sample->pid;

	if (!sample->python_frame_count)
		return;
	walk.layout = bpf_map_lookup_elem(&python_layouts, &tgid);
	if (!walk.layout || !walk.layout->code_capture_bytes)
		return;
	walk.first_word = pyro_python_first_word(sample->kernel_stack_bytes, sample->user_stack_bytes);
	bpf_loop(PYRO_MAX_PYTHON_FRAMES, capture_one_code, &walk, 0);
}

#endif
