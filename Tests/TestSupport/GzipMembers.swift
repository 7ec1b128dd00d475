import CZlib

/// A gzip file read whole through zlib's `gzread`, which goes on from one
/// member to the next; nil when zlib reports an error.
public func gzreadAll(_ path: String) -> [UInt8]? {
    guard let file = gzopen(path, "rb") else { return nil }
    defer { gzclose(file) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if n < 0 { return nil }
        if n == 0 { return out }
        out += chunk[..<Int(n)]
    }
}

/// The gzip members of `bytes`, each inflated by zlib to its end and checked
/// (CRC and length); nil when any is damaged or the bytes end inside one.
public func gzipMembers(_ bytes: [UInt8]) -> [[UInt8]]? {
    var members: [[UInt8]] = []
    var stream = z_stream()
    guard czlib_inflateInit2(&stream, 16 + 15) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    return bytes.withUnsafeBytes { (input: UnsafeRawBufferPointer) -> [[UInt8]]? in
        var offset = 0
        while offset < input.count {
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self) + offset)
            stream.avail_in = UInt32(input.count - offset)
            var member: [UInt8] = []
            var status = Z_OK
            while status == Z_OK {
                status = chunk.withUnsafeMutableBytes { out in
                    stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = UInt32(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                member += chunk[..<(chunk.count - Int(stream.avail_out))]
                if status == Z_BUF_ERROR && stream.avail_in == 0 { return nil }  // cut short
            }
            guard status == Z_STREAM_END else { return nil }
            members.append(member)
            offset = input.count - Int(stream.avail_in)
            inflateReset(&stream)
        }
        return members
    }
}
