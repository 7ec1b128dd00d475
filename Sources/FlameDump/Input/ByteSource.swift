/// How a dump file's bytes are stored, detected from its first bytes, never its name.
public enum Compression: String, Sendable {
    case none, gzip, zstd

    /// The compression that `head` (a file's first 4 bytes, or fewer) starts.
    static func sniff(_ head: [UInt8]) -> Compression {
        if head.starts(with: [0x1F, 0x8B]) { return .gzip }
        if head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        // A skippable frame (magic 0x184D2A50 to 0x184D2A5F, little-endian) may
        // open a zstd file: zstd's decoder passes over it.
        if head.count == 4, head[0] & 0xF0 == 0x50, head[1] == 0x2A, head[2] == 0x4D, head[3] == 0x18 { return .zstd }
        return .none
    }
}

/// The decompressed bytes of one file, read as a stream.
///
/// A closed enum rather than a protocol: one switch per chunk, no existential.
public final class ByteSource {
    private enum Kind {
        case plain(FileInput)
        case gzip(GzipStream)
        case zstd(ZstdStream)
    }

    public let input: FileInput
    public var path: String { input.path }
    public let compression: Compression
    private let kind: Kind
    private var produced = 0

    public convenience init(path: String) throws(DumpError) {
        try self.init(input: FileInput(path: path))
    }

    /// Reads from `input`, which has not been read yet. The bytes sniffed for the
    /// format are pushed back, not read again: a pipe is read once.
    public init(input: FileInput) throws(DumpError) {
        self.input = input
        let probeBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { probeBuffer.deallocate() }
        var got = 0
        while got < 4 {
            let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: probeBuffer[got...]))
            if n == 0 { break }
            got += n
        }
        input.pushBack(Array(probeBuffer[..<got]))
        compression = Compression.sniff(Array(probeBuffer[..<got]))
        switch compression {
        case .gzip: kind = .gzip(try GzipStream(input: input))
        case .zstd: kind = .zstd(try ZstdStream(input: input))
        case .none: kind = .plain(input)
        }
    }

    /// Reads up to `buffer.count` decompressed bytes; 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) -> Int {
        let n: Int
        switch kind {
        case .plain(let file): n = try file.read(into: buffer)
        case .gzip(let stream): n = try stream.read(into: buffer, streamOffset: produced)
        case .zstd(let stream): n = try stream.read(into: buffer, streamOffset: produced)
        }
        produced += n
        return n
    }
}
