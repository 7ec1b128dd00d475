#include <zlib.h>

// zlib's init functions are macros; Swift cannot call macros, so wrap them.
static inline int czlib_inflateInit(z_streamp strm) { return inflateInit(strm); }
static inline int czlib_inflateInit2(z_streamp strm, int windowBits) { return inflateInit2(strm, windowBits); }
static inline int czlib_deflateInit2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
