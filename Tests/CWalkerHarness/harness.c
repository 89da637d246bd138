/* Stand-ins for the few BPF helpers and map operations the native unwinder
 * uses; its own code is included unchanged. The Python walker's host build
 * is a product target (Sources/CPythonWalker). */
#define PYRO_HOST_BUILD 1
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/bpf.h>

#include "pyrograph_abi.h"
#include "pyro_walker_harness.h"

#define SEC(name)
#undef __always_inline
#define __always_inline inline __attribute__((always_inline))
#define __uint(name, value) int(*name)[value]
#define __type(name, value) __typeof__(value) *name

static pyro_harness_reader harness_reader;
static void *harness_context;
static const struct pyro_unwind_row *harness_rows;
static __u32 harness_row_count;
static const struct pyro_unwind_page *harness_pages;
static __u32 harness_page_count;

static long bpf_probe_read_user(void *destination, __u32 size, const void *source)
{
	long result = harness_reader(harness_context, destination, size, (uint64_t)(uintptr_t)source);

	if (result)
		memset(destination, 0, size);
	return result;
}

static void count_stat(__u32 which)
{
	(void)which;
}

static long bpf_loop(__u32 iterations, void *callback, void *context, __u64 flags)
{
	long (*step)(__u32, void *) = (long (*)(__u32, void *))callback;
	__u32 index;

	(void)flags;
	for (index = 0; index < iterations; index++) {
		if (step(index, context))
			return index + 1;
	}
	return iterations;
}

/* Map operations: the unwind arrays answer from the harness's tables.
 * Declared before the unwinder's maps, which only need their addresses. */
static void *bpf_map_lookup_elem(void *map, const void *key);

#include "../../bpf/native_unwinder.bpf.h"

static struct row_cache harness_row_cache;

static void *bpf_map_lookup_elem(void *map, const void *key)
{
	if (map == (void *)&unwind_rows) {
		__u32 index = *(const __u32 *)key;
		return index < harness_row_count ? (void *)&harness_rows[index] : NULL;
	}
	if (map == (void *)&unwind_pages) {
		__u32 index = *(const __u32 *)key;
		return index < harness_page_count ? (void *)&harness_pages[index] : NULL;
	}
	return NULL;
}

static void harness_use_tables(const struct pyro_unwind_row *rows, uint32_t row_count,
			       const struct pyro_unwind_page *pages, uint32_t page_count)
{
	harness_rows = rows;
	harness_row_count = row_count;
	harness_pages = pages;
	harness_page_count = page_count;
}

uint32_t pyro_harness_unwind_native(const struct pyro_unwind_process *process, const struct pyro_unwind_row *rows,
				    uint32_t row_count, const struct pyro_unwind_page *pages, uint32_t page_count,
				    uint64_t pc, uint64_t sp, uint64_t bp, struct pyro_sample *sample,
				    pyro_harness_reader reader, void *context, bool keep_row_cache)
{
	harness_reader = reader;
	harness_context = context;
	harness_use_tables(rows, row_count, pages, page_count);
	/* The cache is keyed by table position, which each test reuses. */
	if (!keep_row_cache)
		memset(&harness_row_cache, 0, sizeof(harness_row_cache));
	unwind_native_from(sample, process, &harness_row_cache, pc, sp, bp);
	return sample->user_stack_bytes / 8;
}

int64_t pyro_harness_find_row(const struct pyro_unwind_mapping *mapping, const struct pyro_unwind_row *rows,
			      uint32_t row_count, const struct pyro_unwind_page *pages, uint32_t page_count, uint32_t pc)
{
	const struct pyro_unwind_row *row;

	harness_use_tables(rows, row_count, pages, page_count);
	row = find_row(mapping, pc);
	return row ? row - rows : -1;
}
