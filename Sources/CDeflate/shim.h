// libdeflate: whole-buffer DEFLATE/gzip, faster than zlib at every level.
// Used for .gz outputs, each block of text compressed as one gzip member.
#include <libdeflate.h>
