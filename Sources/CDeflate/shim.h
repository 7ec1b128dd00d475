// libdeflate: whole-buffer DEFLATE/gzip, faster than zlib at every level.
// Used for .gz outputs (each block of text one gzip member) and to inflate
// compressed terms of a dump (ETF/BoundedInflate).
#include <libdeflate.h>
