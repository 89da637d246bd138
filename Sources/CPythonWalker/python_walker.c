/* Stand-ins for the BPF helpers the Python walker uses, then the walker's
 * own code, included unchanged. Every call's state is in its
 * pyro_python_walker; nothing is kept here. */
#define PYRO_HOST_BUILD 1
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "pyrograph_abi.h"
#include "pyro_python_walker.h"

#undef __always_inline
#define __always_inline inline __attribute__((always_inline))

/* bpf_probe_read_user: on failure the destination is zeroed, as there. */
static long pyro_python_walker_read(const struct pyro_python_walker *walker, void *destination, __u32 size,
				    __u64 address)
{
	long result = walker->read(walker->read_context, destination, size, address);

	if (result)
		memset(destination, 0, size);
	return result;
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

#include "../../bpf/python_walker.bpf.h"

uint64_t pyro_python_find_thread_state(const struct pyro_python_walker *walker, uint64_t thread_id, bool *fault)
{
	struct thread_search search = { .env = walker, .thread_id = thread_id };
	__u64 found = find_thread_state(&search, walker->layout);

	*fault = search.fault;
	return found;
}

uint32_t pyro_python_walk_thread_state(const struct pyro_python_walker *walker, uint64_t thread_state,
				       struct pyro_sample *sample)
{
	struct frame_walk walk = { .env = walker, .layout = walker->layout, .sample = sample };

	sample->python_frame_count = 0;
	sample->python_status = walk_thread_state(&walk, thread_state);
	return sample->python_frame_count;
}

uint32_t pyro_python_walk_thread(const struct pyro_python_walker *walker, uint64_t thread_id,
				 struct pyro_sample *sample)
{
	bool fault = false;
	uint64_t thread_state = pyro_python_find_thread_state(walker, thread_id, &fault);

	if (!thread_state) {
		sample->python_frame_count = 0;
		sample->python_status = fault ? PYRO_PYTHON_READ_FAULT : PYRO_PYTHON_NO_THREAD_STATE;
		return 0;
	}
	return pyro_python_walk_thread_state(walker, thread_state, sample);
}
