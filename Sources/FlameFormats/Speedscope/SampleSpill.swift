#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The speedscope sink's samples, kept per profile in arrival order within a
/// memory budget: what does not fit goes to one temporary file.
///
/// A speedscope file holds each profile's samples together, but a run's
/// profiles interleave in time, so the sink cannot write as it reads. Each
/// record is three `UInt32`s: a path id and a weight's two halves. Records sit
/// in fixed-size blocks taken from one pool of `budget` bytes; when the pool
/// is empty, every profile's blocks are written to the file, one segment per
/// profile, and the pool starts over. The file is unlinked as soon as it is
/// made, so nothing is left behind however the run ends.
///
/// Memory: the pool, plus 16 bytes per profile per spill for the segment list
/// (with the default 32 MiB, one spill per 2.8 million records).
final class SampleSpill {
    /// Records per block.
    let blockRecords: Int
    /// Blocks the pool holds at most.
    let maxBlocks: Int

    /// The pool: block `b` holds words `b * blockWords ..< (b + 1) * blockWords`.
    // One thread reads and writes these, one access at a time.
    @exclusivity(unchecked) private var arena: [UInt32] = []
    @exclusivity(unchecked) private var freeBlocks: [Int32] = []
    /// Per profile: its blocks in the pool, in order; records in its last one;
    /// records in all (pool and file); segments in the file (first record, records).
    @exclusivity(unchecked) private var blocks: [[Int32]] = []
    @exclusivity(unchecked) private var lastBlock: [Int32] = []
    @exclusivity(unchecked) private var lastFill: [Int] = []
    @exclusivity(unchecked) private var counts: [Int] = []
    @exclusivity(unchecked) private var segments: [[(start: Int, count: Int)]] = []

    private var fd: Int32 = -1
    /// Records written to the file.
    private var fileRecords = 0
    /// Times the pool was written out.
    private(set) var spills = 0
    private static let recordWords = 3
    private var blockWords: Int { blockRecords * Self.recordWords }

    /// Where the file goes: nil for `$TMPDIR`, else /tmp.
    let directory: String?

    /// `budget`: bytes of records kept in memory (at least one block).
    init(budget: Int, blockRecords: Int = 256, directory: String? = nil) {
        self.directory = directory
        self.blockRecords = max(1, blockRecords)
        maxBlocks = max(1, budget / (self.blockRecords * Self.recordWords * 4))
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// A new, empty profile; its index.
    func addProfile() -> Int {
        blocks.append([])
        lastBlock.append(-1)
        lastFill.append(0)
        counts.append(0)
        segments.append([])
        return blocks.count - 1
    }

    var profileCount: Int { blocks.count }

    /// Bytes the pool holds now (at most the budget, rounded down to blocks, or one block).
    var pooledBytes: Int { arena.count * 4 }

    /// Records of `profile`.
    func count(_ profile: Int) -> Int { counts[profile] }

    @inline(__always)
    func append(_ profile: Int, path: UInt32, weight: UInt64) throws(OutputError) {
        var fill = lastFill[profile]
        if lastBlock[profile] < 0 || fill == blockRecords {
            try newBlock(profile)
            fill = 0
        }
        let at = Int(lastBlock[profile]) * blockWords + fill * Self.recordWords
        arena.withUnsafeMutableBufferPointer { words in
            words[at] = path
            words[at + 1] = UInt32(truncatingIfNeeded: weight)
            words[at + 2] = UInt32(truncatingIfNeeded: weight >> 32)
        }
        lastFill[profile] = fill + 1
        counts[profile] += 1
    }

    private func newBlock(_ profile: Int) throws(OutputError) {
        if freeBlocks.isEmpty {
            let made = arena.count / blockWords
            if made < maxBlocks {
                arena.append(contentsOf: repeatElement(0, count: blockWords))
                freeBlocks.append(Int32(made))
            } else {
                try spill()
            }
        }
        let block = freeBlocks.removeLast()
        blocks[profile].append(block)
        lastBlock[profile] = block
        lastFill[profile] = 0
    }

    /// Writes every profile's blocks to the file, one segment each, and frees them.
    private func spill() throws(OutputError) {
        if fd < 0 { fd = try Self.makeTemporaryFile(in: directory) }
        for profile in blocks.indices where !blocks[profile].isEmpty {
            let start = fileRecords
            var records = 0
            for (index, block) in blocks[profile].enumerated() {
                let n = index == blocks[profile].count - 1 ? lastFill[profile] : blockRecords
                let from = Int(block) * blockWords
                try arena.withUnsafeBufferPointer { (words) throws(OutputError) in
                    try Self.writeAll(fd, UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: words[from..<(from + n * Self.recordWords)])))
                }
                records += n
                freeBlocks.append(block)
            }
            fileRecords += records
            segments[profile].append((start, records))
            blocks[profile].removeAll()
            lastBlock[profile] = -1
            lastFill[profile] = 0
        }
        // Low block ids first: the next profiles fill the pool from its start.
        freeBlocks.sort(by: >)
        spills += 1
    }

    /// Calls `body` with `profile`'s records in order, a run of whole records
    /// (three words each) at a time: from the file first, then the pool.
    func forEachRun(_ profile: Int, _ body: (UnsafeBufferPointer<UInt32>) throws(OutputError) -> Void) throws(OutputError) {
        if !segments[profile].isEmpty {
            let runRecords = 1 << 16
            let scratch = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: runRecords * Self.recordWords)
            defer { scratch.deallocate() }
            for segment in segments[profile] {
                var done = 0
                while done < segment.count {
                    let n = min(runRecords, segment.count - done)
                    let bytes = n * Self.recordWords * 4
                    let offset = (segment.start + done) * Self.recordWords * 4
                    try Self.readAll(fd, UnsafeMutableRawBufferPointer(start: scratch.baseAddress, count: bytes), at: offset)
                    try body(UnsafeBufferPointer(rebasing: scratch[..<(n * Self.recordWords)]))
                    done += n
                }
            }
        }
        for (index, block) in blocks[profile].enumerated() {
            let n = index == blocks[profile].count - 1 ? lastFill[profile] : blockRecords
            let from = Int(block) * blockWords
            try arena.withUnsafeBufferPointer { (words) throws(OutputError) in
                try body(UnsafeBufferPointer(rebasing: words[from..<(from + n * Self.recordWords)]))
            }
        }
    }

    // MARK: The file

    private static let fileDescription = "speedscope temporary file"

    private static func failure(_ what: String) -> OutputError {
        .failed(path: fileDescription, message: "\(what): \(String(cString: strerror(errno)))")
    }

    /// A new file in `chosen`, else `$TMPDIR`, else /tmp, already unlinked.
    private static func makeTemporaryFile(in chosen: String?) throws(OutputError) -> Int32 {
        var directory = chosen ?? getenv("TMPDIR").map { String(cString: $0) } ?? ""
        if directory.isEmpty { directory = "/tmp" }
        if directory.hasSuffix("/") { directory.removeLast() }
        var template = Array("\(directory)/flameconv-speedscope-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure("cannot create a temporary file in \(directory)") }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        unlink(path)
        return fd
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write")
            }
            done += n
        }
    }

    private static func readAll(_ fd: Int32, _ bytes: UnsafeMutableRawBufferPointer, at offset: Int) throws(OutputError) {
        var done = 0
        while done < bytes.count {
            let n = pread(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read back")
            }
            if n == 0 { throw .failed(path: fileDescription, message: "shorter than written") }
            done += n
        }
    }
}
