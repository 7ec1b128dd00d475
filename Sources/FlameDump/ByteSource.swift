/// How a dump file's bytes are stored, detected from its first bytes, never its name.
public enum Compression: String, Sendable {
    case none, gzip, zstd
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

    public let path: String
    public let compression: Compression
    private let kind: Kind
    /// Bytes the first read already took, handed out before reading on.
    private var sniffed: [UInt8]
    private var produced = 0

    public init(path: String) throws(DumpError) {
        self.path = path
        let probe = try FileInput(path: path)
        let probeBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { probeBuffer.deallocate() }
        var got = 0
        while got < 4 {
            let n = try probe.read(into: UnsafeMutableRawBufferPointer(rebasing: probeBuffer[got...]))
            if n == 0 { break }
            got += n
        }
        let head = Array(probeBuffer[..<got])
        if head.starts(with: [0x1F, 0x8B]) {
            compression = .gzip
            kind = .gzip(try GzipStream(input: try FileInput(path: path)))
            sniffed = []
        } else if head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) {
            compression = .zstd
            kind = .zstd(try ZstdStream(input: try FileInput(path: path)))
            sniffed = []
        } else {
            compression = .none
            kind = .plain(probe)
            sniffed = head
        }
    }

    /// Reads up to `buffer.count` decompressed bytes; 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) -> Int {
        if !sniffed.isEmpty {
            let n = min(sniffed.count, buffer.count)
            buffer.copyBytes(from: sniffed[..<n])
            sniffed.removeFirst(n)
            produced += n
            return n
        }
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
