import FlameDump

/// Reads a ByteSource to its end in chunks of `chunk` bytes.
public func readAll(_ source: ByteSource, chunk: Int = 4096) throws(DumpError) -> [UInt8] {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 1)
    defer { buffer.deallocate() }
    var out: [UInt8] = []
    while true {
        let n = try source.read(into: buffer)
        if n == 0 { return out }
        out.append(contentsOf: buffer[..<n])
    }
}

/// A file's bytes as the dump reader sees them: decompressed when the file is gzip or zstd.
public func readDecompressed(_ path: String) throws(DumpError) -> [UInt8] {
    try readAll(try ByteSource(path: path), chunk: 1 << 16)
}
