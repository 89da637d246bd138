/* The BPF Python walker (bpf/python_walker.bpf.h) compiled for the host:
 * the very same code that walks a sampled thread in the kernel, run here
 * against a live process (/proc/PID/mem) or a recorded memory image. For
 * tests, and for commands that inspect a process from user space. */
#ifndef PYRO_PYTHON_WALKER_H
#define PYRO_PYTHON_WALKER_H

#include <stdbool.h>
#include <stdint.h>

struct pyro_python_layout;
struct pyro_sample;

/* Reads `size` bytes at `address` of the walked process into `destination`;
 * returns 0, or a negative errno as bpf_probe_read_user does. */
typedef long (*pyro_memory_reader)(void *context, void *destination, uint32_t size, uint64_t address);

/* What a walk needs: in the kernel, the python_layouts map and the current
 * process's memory. Nothing else is kept between calls. */
struct pyro_python_walker {
	/* How to walk this process's interpreter, as the loader encodes it. */
	const struct pyro_python_layout *layout;
	pyro_memory_reader read;
	void *read_context;
};

/* The thread state whose thread_id is `thread_id` (the thread's
 * pthread_self()), from the interpreter's list of threads; 0 if there is
 * none, with *fault set when the list could not be read. */
uint64_t pyro_python_find_thread_state(const struct pyro_python_walker *walker, uint64_t thread_id, bool *fault);

/* Walks the frames of a thread state into `sample`'s Python frames, placed
 * after the pcs its stack lengths announce. Sets python_status and
 * python_frame_count; returns the number of frames. */
uint32_t pyro_python_walk_thread_state(const struct pyro_python_walker *walker, uint64_t thread_state,
				       struct pyro_sample *sample);

/* Both, as the sampler does for the thread it samples. */
uint32_t pyro_python_walk_thread(const struct pyro_python_walker *walker, uint64_t thread_id,
				 struct pyro_sample *sample);

#endif
