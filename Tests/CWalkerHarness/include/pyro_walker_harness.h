/* The BPF Python walker (bpf/python_walker.bpf.h), compiled for the host so
 * tests can run the very same code against a live process or a recorded
 * memory image, without root and without loading anything into a kernel. */
#ifndef PYRO_WALKER_HARNESS_H
#define PYRO_WALKER_HARNESS_H

#include <stdint.h>

struct pyro_python_layout;
struct pyro_sample;

/* Reads `size` bytes at `address` of the walked process into `destination`;
 * returns 0, or a negative errno as bpf_probe_read_user does. */
typedef long (*pyro_harness_reader)(void *context, void *destination, uint32_t size, uint64_t address);

/* Runs walk_python_stack for one thread. Returns the number of frames; the
 * status and frames are in `sample`. */
uint32_t pyro_harness_walk_python(const struct pyro_python_layout *layout, uint32_t tid, uint64_t thread_id,
				  struct pyro_sample *sample, pyro_harness_reader reader, void *context);

#endif
