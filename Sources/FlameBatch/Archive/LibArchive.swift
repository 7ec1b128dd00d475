import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// The libarchive functions `ArchiveReader` calls, looked up in the library
/// when a run first reads a tar.
///
/// Why it is not linked: libarchive needs libxml2, ICU, nettle, lzma, lz4,
/// bzip2 and acl, and loading them at start took about 1.8 ms of every run
/// (BENCHMARKS.md, "Start-up"), a fifth of converting a small capture,
/// though only `batch` reads tar files. Each function's type comes from the
/// header (`CArchive/shim.h`), so the casts cannot drift from it.
struct LibArchive: @unchecked Sendable {  // immutable C function pointers
    /// The library's file name: its ABI version, as Debian's libarchive13 installs it.
    static let fileName = "libarchive.so.13"

    let readNew: flameconv_archive_read_new
    let readSupportFilterAll: flameconv_archive_read_support_filter_all
    let readSupportFormatTar: flameconv_archive_read_support_format_tar
    let readSupportFormatGnutar: flameconv_archive_read_support_format_gnutar
    let readOpenFd: flameconv_archive_read_open_fd
    let readFree: flameconv_archive_read_free
    let readNextHeader: flameconv_archive_read_next_header
    let readHeaderPosition: flameconv_archive_read_header_position
    let readData: flameconv_archive_read_data
    let errorString: flameconv_archive_error_string
    let entryPathname: flameconv_archive_entry_pathname
    let entryFiletype: flameconv_archive_entry_filetype
    let entrySizeIsSet: flameconv_archive_entry_size_is_set
    let entrySize: flameconv_archive_entry_size
    let entryMtime: flameconv_archive_entry_mtime
    let entryMtimeNsec: flameconv_archive_entry_mtime_nsec

    /// The library, loaded once for the process (threads share it); or why
    /// it could not be.
    static let loaded: Result<LibArchive, LoadError> = load()

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    private static func load() -> Result<LibArchive, LoadError> {
        guard let library = dlopen(fileName, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown error"
            return .failure(LoadError(description: "cannot load \(fileName) (install libarchive13): \(why)"))
        }
        func symbol<F>(_ name: String, as type: F.Type) throws(LoadError) -> F {
            guard let address = dlsym(library, name) else { throw LoadError(description: "\(fileName) lacks \(name)") }
            return unsafeBitCast(address, to: type)
        }
        do throws(LoadError) {
            return .success(LibArchive(
                readNew: try symbol("archive_read_new", as: flameconv_archive_read_new.self),
                readSupportFilterAll: try symbol("archive_read_support_filter_all", as: flameconv_archive_read_support_filter_all.self),
                readSupportFormatTar: try symbol("archive_read_support_format_tar", as: flameconv_archive_read_support_format_tar.self),
                readSupportFormatGnutar: try symbol("archive_read_support_format_gnutar", as: flameconv_archive_read_support_format_gnutar.self),
                readOpenFd: try symbol("archive_read_open_fd", as: flameconv_archive_read_open_fd.self),
                readFree: try symbol("archive_read_free", as: flameconv_archive_read_free.self),
                readNextHeader: try symbol("archive_read_next_header", as: flameconv_archive_read_next_header.self),
                readHeaderPosition: try symbol("archive_read_header_position", as: flameconv_archive_read_header_position.self),
                readData: try symbol("archive_read_data", as: flameconv_archive_read_data.self),
                errorString: try symbol("archive_error_string", as: flameconv_archive_error_string.self),
                entryPathname: try symbol("archive_entry_pathname", as: flameconv_archive_entry_pathname.self),
                entryFiletype: try symbol("archive_entry_filetype", as: flameconv_archive_entry_filetype.self),
                entrySizeIsSet: try symbol("archive_entry_size_is_set", as: flameconv_archive_entry_size_is_set.self),
                entrySize: try symbol("archive_entry_size", as: flameconv_archive_entry_size.self),
                entryMtime: try symbol("archive_entry_mtime", as: flameconv_archive_entry_mtime.self),
                entryMtimeNsec: try symbol("archive_entry_mtime_nsec", as: flameconv_archive_entry_mtime_nsec.self)))
        } catch {
            return .failure(error)
        }
    }
}
