/// The names a capture's samples refer to, each stored once: atoms, functions
/// (module, function, arity), stack frames and whole stack traces.
///
/// Samples hold small ids into these tables, so a sample is a flat struct and
/// an emitter can cache the text it makes for each id.
public struct Symbols: Sendable {
    /// A function: `M:F/A`.
    public struct Function: Hashable, Sendable {
        public var module: UInt32
        public var name: UInt32
        public var arity: Int32

        public init(module: UInt32, name: UInt32, arity: Int32) {
            self.module = module
            self.name = name
            self.arity = arity
        }
    }

    /// One stack frame: a function and where in it, if the node said.
    public struct Frame: Hashable, Sendable {
        public var function: UInt32
        /// Interned file name (UTF-8), or `Symbols.none`.
        public var file: UInt32
        /// Line number, or -1.
        public var line: Int32

        public init(function: UInt32, file: UInt32, line: Int32) {
            self.function = function
            self.file = file
            self.line = line
        }
    }

    /// No such thing: a missing item, or `current_function` of `undefined`.
    public static let none = UInt32.max

    /// Atom texts (and file names), UTF-8.
    public internal(set) var names = ByteInterner()
    public internal(set) var functions: [Function] = []
    public internal(set) var frames: [Frame] = []
    /// Per stack trace, its frame ids, innermost first.
    public internal(set) var stacks: [[UInt32]] = []
    /// Bumped each time `stacks` is emptied to bound memory; stack ids from
    /// an earlier epoch mean nothing after it, so caches keyed by them clear.
    public internal(set) var stackEpoch = 0
    /// Frame ids held in `stacks`.
    public internal(set) var stackFrameCount = 0

    private var functionIDs: [Function: UInt32] = [:]
    private var frameIDs: [Frame: UInt32] = [:]

    public init() {}

    public func name(_ id: UInt32) -> ArraySlice<UInt8> { names.bytes(of: id) }

    public func nameText(_ id: UInt32) -> String { String(decoding: names.bytes(of: id), as: UTF8.self) }

    /// `M:F/A`, atom texts as they are (flame_prof does not quote them).
    public func functionText(_ function: UInt32) -> [UInt8] {
        let f = functions[Int(function)]
        var out = Array(name(f.module))
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: name(f.name))
        out.append(UInt8(ascii: "/"))
        out.append(contentsOf: Array(String(f.arity).utf8))
        return out
    }

    public mutating func internName(_ utf8: UnsafeRawBufferPointer) -> UInt32 {
        names.intern(utf8).id
    }

    public mutating func internName(_ text: String) -> UInt32 {
        var text = text
        return text.withUTF8 { internName(UnsafeRawBufferPointer($0)) }
    }

    public mutating func internFunction(_ function: Function) -> UInt32 {
        if let id = functionIDs[function] { return id }
        let id = UInt32(functions.count)
        functions.append(function)
        functionIDs[function] = id
        return id
    }

    public mutating func internFrame(_ frame: Frame) -> UInt32 {
        if let id = frameIDs[frame] { return id }
        let id = UInt32(frames.count)
        frames.append(frame)
        frameIDs[frame] = id
        return id
    }

    public mutating func addStack(_ frames: [UInt32]) -> UInt32 {
        stacks.append(frames)
        stackFrameCount += frames.count
        return UInt32(stacks.count - 1)
    }

    /// Forgets every stack trace (only between ticks, when no sample holds a stack id).
    public mutating func startNewStackEpoch() {
        stacks.removeAll(keepingCapacity: false)
        stackFrameCount = 0
        stackEpoch += 1
    }
}
