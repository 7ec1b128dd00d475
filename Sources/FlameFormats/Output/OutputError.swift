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
