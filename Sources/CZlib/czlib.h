// zlib for Swift: the init macros that Swift cannot import, as functions.
#ifndef PYROGRAPH_CZLIB_H
#define PYROGRAPH_CZLIB_H

#include <zlib.h>

// windowBits 15 + 16: write a gzip header and trailer, not a zlib one.
static inline int czlib_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

// windowBits 15 + 16: read gzip only (a zlib or raw stream is an error).
static inline int czlib_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
