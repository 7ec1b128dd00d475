#include <archive.h>
#include <archive_entry.h>

/* The type of each libarchive function FlameBatch calls. FlameBatch loads
   libarchive when it first reads a tar (LibArchive.swift) and casts each
   symbol it looks up to one of these. They are taken from the declarations
   above, so they cannot drift from them. */
typedef __typeof__(&archive_read_new) flameconv_archive_read_new;
typedef __typeof__(&archive_read_support_filter_all) flameconv_archive_read_support_filter_all;
typedef __typeof__(&archive_read_support_format_tar) flameconv_archive_read_support_format_tar;
typedef __typeof__(&archive_read_support_format_gnutar) flameconv_archive_read_support_format_gnutar;
typedef __typeof__(&archive_read_open_fd) flameconv_archive_read_open_fd;
typedef __typeof__(&archive_read_free) flameconv_archive_read_free;
typedef __typeof__(&archive_read_next_header) flameconv_archive_read_next_header;
typedef __typeof__(&archive_read_header_position) flameconv_archive_read_header_position;
typedef __typeof__(&archive_read_data) flameconv_archive_read_data;
typedef __typeof__(&archive_error_string) flameconv_archive_error_string;
typedef __typeof__(&archive_entry_pathname) flameconv_archive_entry_pathname;
typedef __typeof__(&archive_entry_filetype) flameconv_archive_entry_filetype;
typedef __typeof__(&archive_entry_size_is_set) flameconv_archive_entry_size_is_set;
typedef __typeof__(&archive_entry_size) flameconv_archive_entry_size;
typedef __typeof__(&archive_entry_mtime) flameconv_archive_entry_mtime;
typedef __typeof__(&archive_entry_mtime_nsec) flameconv_archive_entry_mtime_nsec;
