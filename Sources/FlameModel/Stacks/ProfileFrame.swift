/// One frame of a profile stack, as every output shows it; each output spells
/// it in its own way.
public enum ProfileFrame: Hashable, Sendable {
    /// `current_function` was `undefined`: the process was in native code.
    case native
    /// `current_function`, when it is not also the innermost stack frame.
    case function(UInt32)
    /// A `current_stacktrace` frame: a `Symbols.frames` id (function, file, line).
    case code(UInt32)
    /// `initial_call`, when it is not the outermost frame already.
    case initialCall(UInt32)
    /// proc_lib's `'$initial_call'` from the dictionary.
    case procLibInitialCall(UInt32)

    /// The function this frame is in, or nil for native code.
    public func function(_ symbols: Symbols) -> UInt32? {
        switch self {
        case .native: return nil
        case .function(let id), .initialCall(let id), .procLibInitialCall(let id): return id
        case .code(let frame): return symbols.frames[Int(frame)].function
        }
    }

    /// The source line, when the node reported one.
    public func line(_ symbols: Symbols) -> Int32? {
        guard case .code(let frame) = self else { return nil }
        let line = symbols.frames[Int(frame)].line
        return line >= 0 ? line : nil
    }

    /// How people read the frame in a list of frames: `M:F/A`, `M:F/A:LINE`
    /// for a stack frame with a line, `(M:F/A)` for proc_lib's initial call,
    /// `native` for native code.
    public func displayName(_ symbols: Symbols) -> String {
        switch self {
        case .native:
            return "native"
        case .function(let id), .initialCall(let id):
            return String(decoding: symbols.functionText(id), as: UTF8.self)
        case .procLibInitialCall(let id):
            return "(" + String(decoding: symbols.functionText(id), as: UTF8.self) + ")"
        case .code(let frame):
            let name = String(decoding: symbols.functionText(symbols.frames[Int(frame)].function), as: UTF8.self)
            return line(symbols).map { "\(name):\($0)" } ?? name
        }
    }
}
