/// The names a run's samples refer to, each stored once: atoms, functions
/// (module, function, arity), stack frames and whole stack traces.
///
/// Samples hold small ids into these tables, so a sample is a flat struct and
/// an output can cache what it makes for each id. Ids are stable for the whole
/// run, across files and captures; the tables grow with distinct names only,
/// and the reader bounds them (`DumpLimits.maxSymbolBytes`).
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
    /// Per stack trace, its frame ids, innermost first. Ids are stable for the
    /// whole run: the same trace always has the same id.
    public internal(set) var stacks: [[UInt32]] = []
    /// Frame ids held in `stacks`.
    public internal(set) var stackFrameCount = 0

    // Lookup tables for interning. A table that only mirrors another's
    // additions (`append(_:upTo:)`) leaves them behind its arrays; the first
    // intern into it brings them up to date (the arrays grow only at the end,
    // so each covers a prefix of its array).
    private var functionIDs: [Function: UInt32] = [:]
    private var frameIDs: [Frame: UInt32] = [:]
    private var stackIDs: [[UInt32]: UInt32] = [:]

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
        if functionIDs.count < functions.count { indexFunctions() }
        if let id = functionIDs[function] { return id }
        let id = UInt32(functions.count)
        functions.append(function)
        functionIDs[function] = id
        return id
    }

    public mutating func internFrame(_ frame: Frame) -> UInt32 {
        if frameIDs.count < frames.count { indexFrames() }
        if let id = frameIDs[frame] { return id }
        let id = UInt32(frames.count)
        frames.append(frame)
        frameIDs[frame] = id
        return id
    }

    /// The id of the stack trace with these frames, made on first sight.
    public mutating func internStack(_ frames: [UInt32]) -> UInt32 {
        if stackIDs.count < stacks.count { indexStacks() }
        if let id = stackIDs[frames] { return id }
        let id = UInt32(stacks.count)
        stacks.append(frames)
        stackIDs[frames] = id
        stackFrameCount += frames.count
        return id
    }

    private mutating func indexFunctions() {
        for id in functionIDs.count..<functions.count { functionIDs[functions[id]] = UInt32(id) }
    }

    private mutating func indexFrames() {
        for id in frameIDs.count..<frames.count { frameIDs[frames[id]] = UInt32(id) }
    }

    private mutating func indexStacks() {
        for id in stackIDs.count..<stacks.count { stackIDs[stacks[id]] = UInt32(id) }
    }

    /// About how many bytes the tables hold: what `DumpLimits`' symbol budget bounds.
    public var byteEstimate: Int {
        // Per entry: the value, its copy as a dictionary key, and the
        // dictionary's slot; a stack also holds an array of its own, twice shared.
        names.byteCount + names.count * 24 + (functions.count + frames.count) * 48 + stacks.count * 96 + stackFrameCount * 4
    }
}
