/// Why output could not be written.
public enum OutputError: Error, Sendable, CustomStringConvertible {
    /// The reader of a pipe went away (`flameconv … | head`): end quietly.
    case brokenPipe
    case failed(path: String, message: String)

    public var description: String {
        switch self {
        case .brokenPipe: return "output pipe closed"
        case .failed(let path, let message): return "\(path): \(message)"
        }
    }
}

/// Where an output's bytes go: a file, standard output, or a test's buffer.
public protocol ByteOutput: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError)
}

extension ByteOutput {
    public func write(_ bytes: [UInt8]) throws(OutputError) {
        try bytes.withUnsafeBytesTyped { (raw: UnsafeRawBufferPointer) throws(OutputError) in try write(raw) }
    }
}

/// Bytes kept in memory: for tests, and for outputs that are read back.
public final class MemoryOutput: ByteOutput {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        self.bytes.append(contentsOf: bytes)
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the body's error typed.
    func withUnsafeBytesTyped<E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        var failure: E?
        withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            do throws(E) { try body(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
