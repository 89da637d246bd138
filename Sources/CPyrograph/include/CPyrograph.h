/* Umbrella header of the C target: the shared ABI, libbpf, libelf, and the
 * prefixed shims for what Swift cannot call directly. */
#include "pyrograph_abi.h"
#include "pyrograph_shim.h"
