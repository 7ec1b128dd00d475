import CDeflate
import FlameFormats
#if canImport(Glibc)
import Glibc
#endif

/// gzip as a series of members, one per block of text (`OutputEncoding.gzipMembers`).
///
/// The text is cut every `CompressionSettings.gzipBlockSize` bytes, whatever
/// the sizes of the writes; each block is compressed by libdeflate, a
/// compressor that takes whole buffers, into a gzip member of its own, and the
/// members are written in the order of their blocks. So the file depends on
/// the text, the block size and the level only: not on the number of threads,
/// nor on which thread compressed which block.
///
/// Blocks are compressed on `threads` worker threads (`GzipWorkers`), started
/// when text comes past the first block: an output of one block never starts one. The
/// converting thread goes on filling the next block meanwhile, and writes each
/// member once its block and all before it are compressed. While it fills a
/// block, at most `threads` others are with the workers: handing over one
/// more, it waits for the oldest. Memory: `threads + 1` blocks of text and as
/// many members (each at most a little more than its block), so about
/// 2 × (threads + 1) × the block size.
final class GzipMemberEncoder: OutputEncoder {
    private let level: Int32
    private let blockSize: Int
    private let threads: Int
    private let name: String
    /// Compresses on the writing thread: a last block when no worker runs,
    /// every block when no worker thread could start. Its bound sizes the members.
    private let deflater: MemberDeflater
    private let memberCapacity: Int
    private var current: GzipBlock
    /// Handed to the workers, in file order.
    private var inFlight: [GzipBlock] = []
    private var spare: [GzipBlock] = []
    private var workers: GzipWorkers?
    private var workersUnavailable = false
    private(set) var membersWritten = 0
    /// True once a worker thread was started (for tests).
    private(set) var usedWorkers = false

    /// `memberCapacity`: room for each member; tests give less than
    /// libdeflate's bound to make compression fail.
    init(level: Int32, settings: CompressionSettings, name: String, memberCapacity: Int? = nil) throws(OutputError) {
        guard let deflater = MemberDeflater(level: level) else {
            throw .failed(path: name, message: "gzip compression could not start (libdeflate level \(level))")
        }
        self.level = level
        self.blockSize = settings.gzipBlockSize
        self.threads = settings.threads
        self.name = name
        self.deflater = deflater
        self.memberCapacity = memberCapacity ?? deflater.bound(settings.gzipBlockSize)
        current = GzipBlock(capacity: settings.gzipBlockSize, memberCapacity: self.memberCapacity)
    }

    deinit { stop() }

    func write(_ bytes: UnsafeRawBufferPointer, to out: DescriptorWriter) throws(OutputError) {
        var rest = bytes
        while !rest.isEmpty {
            // A full block is handed over when more text comes, not before:
            // a text of exactly one block is compressed by `finish`, here.
            if current.textCount == blockSize { try hand(current, to: out) }
            let n = min(rest.count, blockSize - current.textCount)
            (current.text.baseAddress! + current.textCount).copyMemory(from: rest.baseAddress!, byteCount: n)
            current.textCount += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
    }

    func finish(to out: DescriptorWriter) throws(OutputError) {
        // The last block, short or empty; an empty text is one empty member
        // (a file of no member is not gzip to `gzip -d`).
        if current.textCount > 0 || membersWritten + inFlight.count == 0 {
            if inFlight.isEmpty {
                try compressHere(current, to: out)
            } else {
                try hand(current, to: out)
            }
        }
        try writeFinished(to: out, keeping: 0)
        stop()
    }

    func stop() {
        workers?.stop()
        workers = nil
        inFlight.removeAll()
    }

    /// Gives a full block to the workers (or compresses it here when none can
    /// run), then takes an empty one to fill.
    private func hand(_ block: GzipBlock, to out: DescriptorWriter) throws(OutputError) {
        if workers == nil && !workersUnavailable {
            workers = GzipWorkers.start(count: threads, level: level)
            workersUnavailable = workers == nil
            usedWorkers = workers != nil
        }
        guard let workers else {
            try compressHere(block, to: out)
            return
        }
        workers.submit(block)
        inFlight.append(block)
        try writeFinished(to: out, keeping: threads)
        current = spare.popLast() ?? GzipBlock(capacity: blockSize, memberCapacity: memberCapacity)
    }

    /// Writes the members whose blocks are compressed, oldest first, stopping
    /// at the first not done; waits for the oldest while more than `keeping`
    /// blocks are in flight.
    private func writeFinished(to out: DescriptorWriter, keeping: Int) throws(OutputError) {
        while let oldest = inFlight.first, let workers {
            if inFlight.count > keeping {
                workers.wait(for: oldest)
            } else if !workers.isFinished(oldest) {
                return
            }
            inFlight.removeFirst()
            try writeMember(of: oldest, to: out)
            spare.append(oldest)
        }
    }

    private func compressHere(_ block: GzipBlock, to out: DescriptorWriter) throws(OutputError) {
        block.compress(with: deflater)
        try writeMember(of: block, to: out)
    }

    private func writeMember(of block: GzipBlock, to out: DescriptorWriter) throws(OutputError) {
        guard block.memberCount > 0 else {
            throw .failed(path: name, message: "gzip compression failed: libdeflate could not compress a block of \(block.textCount) bytes (level \(level))")
        }
        try out.write(UnsafeRawBufferPointer(rebasing: block.member[..<block.memberCount]))
        membersWritten += 1
        block.textCount = 0
        block.memberCount = 0
    }
}

/// libdeflate at one level, compressing a whole buffer into one gzip member.
/// One thread at a time: each worker has its own.
final class MemberDeflater: @unchecked Sendable {
    private let compressor: OpaquePointer

    /// nil when libdeflate refuses the level (it takes 0 to 12) or has no memory.
    init?(level: Int32) {
        guard let compressor = libdeflate_alloc_compressor(level) else { return nil }
        self.compressor = compressor
    }

    deinit { libdeflate_free_compressor(compressor) }

    /// The largest member a text of `count` bytes may become.
    func bound(_ count: Int) -> Int {
        libdeflate_gzip_compress_bound(compressor, count)
    }

    /// Compresses `text` into one member in `member`: its size, or 0 when it did not fit.
    func compress(_ text: UnsafeRawBufferPointer, into member: UnsafeMutableRawBufferPointer) -> Int {
        libdeflate_gzip_compress(compressor, text.baseAddress, text.count, member.baseAddress, member.count)
    }
}

/// One block of text and, once compressed, its member. While in flight it
/// belongs to the workers: the writing thread touches it again only after
/// `GzipWorkers` says it is finished (under their lock, which orders the
/// worker's writes before the writer's reads).
final class GzipBlock: @unchecked Sendable {
    let text: UnsafeMutableRawBufferPointer
    var textCount = 0
    let member: UnsafeMutableRawBufferPointer
    /// The member's size; 0 before compression and when it failed.
    var memberCount = 0
    /// Guarded by the lock of the `GzipWorkers` it was submitted to.
    var finished = false

    init(capacity: Int, memberCapacity: Int) {
        text = .allocate(byteCount: capacity, alignment: 16)
        member = .allocate(byteCount: max(memberCapacity, 1), alignment: 16)
    }

    deinit {
        text.deallocate()
        member.deallocate()
    }

    func compress(with deflater: MemberDeflater) {
        memberCount = deflater.compress(UnsafeRawBufferPointer(rebasing: text[..<textCount]), into: member)
    }
}
