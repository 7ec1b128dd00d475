import ETF

/// FuzzETFDecode's body, also run by Tests/HardeningTests (FuzzReplayTests) on
/// every saved fail case: decode arbitrary bytes as one external term and, when
/// that works, print it with both encodings. Any outcome is fine except a crash,
/// a hang or unbounded memory; errors must carry an offset inside the input.
public enum ETFHarness {
    public static let limits = ETFLimits(maxDecompressedBytes: 64 << 20, maxDepth: 100_000, maxNodes: 1_000_000)

    public static func run(_ bytes: UnsafeRawBufferPointer) {
        var decoder = TermDecoder(limits: limits)
        var term = Term()
        do throws(ETFError) {
            try decoder.decode(bytes, baseOffset: 0, into: &term)
        } catch {
            // Errors point into the input (a compressed term's inner offset is kept apart).
            precondition(error.offset >= 0 && error.offset <= bytes.count, "error offset \(error.offset) outside 0...\(bytes.count): \(error)")
            _ = error.description
            return
        }
        for encoding in TermPrinter.Encoding.allCases {
            let printer = TermPrinter(encoding: encoding, localNode: "fuzz@host")
            var out: [UInt8] = []
            var printed = 0
            printer.print(term, into: &out) { (chunk: inout [UInt8]) in
                printed += chunk.count
                chunk.removeAll(keepingCapacity: true)
            }
            _ = printed
        }
        // The measured extent of a decodable term is the whole input.
        if case .complete(let length)? = try? TermExtent.measure(bytes, baseOffset: 0, maxBytes: bytes.count, limits: limits) {
            precondition(length == bytes.count, "TermExtent says \(length) bytes, the decoder took \(bytes.count)")
        }
    }
}
