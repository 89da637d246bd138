/* The BPF native unwinder (bpf/native_unwinder.bpf.h), compiled for the
 * host so tests can run the very same code against a recorded stack,
 * without root and without loading anything into a kernel. (The Python
 * walker's host build is the product's CPythonWalker.) */
#ifndef PYRO_WALKER_HARNESS_H
#define PYRO_WALKER_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

struct pyro_sample;
struct pyro_unwind_process;
struct pyro_unwind_row;
struct pyro_unwind_page;
struct pyro_unwind_mapping;

/* Reads `size` bytes at `address` of the walked process into `destination`;
 * returns 0, or a negative errno as bpf_probe_read_user does. */
typedef long (*pyro_harness_reader)(void *context, void *destination, uint32_t size, uint64_t address);

/* Runs the CFI unwinder from these registers over `rows` and `pages` (the
 * process's mappings index into them). Returns the number of frames; the
 * status and pcs are in `sample`. The row cache starts empty unless
 * `keep_row_cache`, when it holds what the previous call left. */
uint32_t pyro_harness_unwind_native(const struct pyro_unwind_process *process, const struct pyro_unwind_row *rows,
				    uint32_t row_count, const struct pyro_unwind_page *pages, uint32_t page_count,
				    uint64_t pc, uint64_t sp, uint64_t bp, struct pyro_sample *sample,
				    pyro_harness_reader reader, void *context, bool keep_row_cache);

/* The unwinder's row lookup for a file address of one mapping: the index of
 * the row it finds in `rows`, or -1. */
int64_t pyro_harness_find_row(const struct pyro_unwind_mapping *mapping, const struct pyro_unwind_row *rows,
			      uint32_t row_count, const struct pyro_unwind_page *pages, uint32_t page_count, uint32_t pc);

#endif
