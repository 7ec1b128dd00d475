import FlameDump

/// The files of one capture, each hashed (XXH64 of its bytes as stored)
/// while the run reads it: the manifest's content hashes cost no second pass
/// over what the run reads. What the run does not read (a damaged tail, a
/// file it never opened) is read on to the end afterwards, by `finish`.
///
/// Used by one job's thread only; `@unchecked Sendable` because the capture's
/// reopen closures, which must be `@Sendable`, hold it.
final class HashedInputs: @unchecked Sendable {
    /// One file's bytes on their way to the reader.
    private final class Tap: StreamedInput {
        let inner: FileInput
        let hash = ContentHash()

        init(_ inner: FileInput) { self.inner = inner }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) -> Int {
            let n = try inner.read(into: buffer)
            hash.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            return n
        }

        /// Reads what is left, for the hash.
        func drain() throws(DumpError) -> String {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
            defer { buffer.deallocate() }
            while try read(into: buffer) > 0 {}
            return hash.finishHex()
        }
    }

    private let original: [CaptureFile]
    private let locations: [InputLocation]
    private let cursor: ArchiveCursor
    private var taps: [Tap?]
    private var digests: [Result<String, DumpError>?]

    /// The capture as the run reads it: every file through a tap.
    private(set) var capture: CaptureFiles

    init(_ files: CaptureFiles, locations: [InputLocation], cursor: ArchiveCursor) {
        original = files.files
        self.locations = locations
        self.cursor = cursor
        taps = Array(repeating: nil, count: files.files.count)
        digests = Array(repeating: nil, count: files.files.count)
        capture = files
        capture.files = []
        for (index, file) in files.files.enumerated() {
            capture.files.append(CaptureFile(path: file.path, header: file.header, identity: file.identity) { [unowned self] () throws(DumpError) -> FileInput in
                try open(index)
            })
        }
    }

    /// Opens file `index` for the run. The run reads files in order, so every
    /// earlier one is done with: each is hashed to its end and closed, and a
    /// capture of many files holds one open at a time.
    private func open(_ index: Int) throws(DumpError) -> FileInput {
        for earlier in 0..<index where digests[earlier] == nil { finish(earlier) }
        let tap = Tap(try locations[index].open(cursor: cursor))
        taps[index] = tap
        return FileInput(path: original[index].path, identity: original[index].identity, streaming: tap)
    }

    /// Hashes file `index` to its end (opening it if the run did not). A file
    /// that cannot be read to its end (a damaged archive) gets no hash, and
    /// says why: the run already converted what could be read, as convert does.
    private func finish(_ index: Int) {
        defer { taps[index] = nil }
        do throws(DumpError) {
            if taps[index] == nil { taps[index] = Tap(try locations[index].open(cursor: cursor)) }
            digests[index] = .success(try taps[index]!.drain())
        } catch {
            digests[index] = .failure(error)
        }
    }

    /// Every file's hash after the run, or why it has none.
    func finishAll() -> [Result<String, DumpError>] {
        for index in original.indices where digests[index] == nil { finish(index) }
        return digests.map { $0! }
    }
}
