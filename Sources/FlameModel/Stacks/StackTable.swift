/// The stacks a run's outputs show, each a list of `ProfileFrame` ids with an
/// id of its own, stable for the whole run.
///
/// A sample's stack follows flame_prof's rules: `current_function`, then the
/// `current_stacktrace` frames, with runs of one `M:F/A` written once as their
/// outermost member (the one holding the caller's line); then `initial_call`,
/// left out when it is the outermost frame already, then proc_lib's
/// `'$initial_call'`, left out likewise unless `initial_call` was written.
/// Every output shows these same frames, so totals agree across formats.
public struct StackTable: Sendable {
    /// What a stack depends on: two samples with the same key have the same stack.
    public struct Key: Hashable, Sendable {
        public var currentFunction: UInt32
        public var stack: UInt32
        public var initialCall: UInt32
        public var dictionaryInitialCall: UInt32

        public init(_ sample: ProcessSample) {
            currentFunction = sample.currentFunction
            stack = sample.stack
            initialCall = sample.initialCall
            dictionaryInitialCall = sample.dictionaryInitialCall
        }
    }

    public private(set) var frames: [ProfileFrame] = []
    /// Per stack, its frame ids, innermost first.
    public private(set) var stacks: [[UInt32]] = []
    public private(set) var frameCount = 0

    private var frameIDs: [ProfileFrame: UInt32] = [:]
    private var stackIDs: [[UInt32]: UInt32] = [:]
    private var keyIDs: [Key: UInt32] = [:]
    private var lastKey: Key?
    private var lastID: UInt32 = 0
    /// Per place in a tick's samples list, the key last seen there and its stack.
    private var placeKeys = PlaceMemo<(key: Key, id: UInt32)>()
    private var scratch: [(function: UInt32, frame: ProfileFrame)] = []

    public init() {}

    /// The stack of `sample`, made on first sight of its key.
    @inline(__always)
    public mutating func stack(of sample: ProcessSample, symbols: Symbols) -> UInt32 {
        let key = Key(sample)
        // Consecutive samples often share a stack (one process's runs, idle processes).
        if key == lastKey { return lastID }
        let id = keyIDs[key] ?? add(key, symbols)
        lastKey = key
        lastID = id
        return id
    }

    /// The stack of `sample`, found at `place` in its tick's samples: the
    /// stack last found at that place when the key is the same, else
    /// `stack(of:symbols:)`.
    @inline(__always)
    public mutating func stack(of sample: ProcessSample, at place: Int, symbols: Symbols) -> UInt32 {
        let key = Key(sample)
        if let noted = placeKeys[place], noted.key == key { return noted.id }
        let id = stack(of: sample, symbols: symbols)
        placeKeys.note((key, id), at: place)
        return id
    }

    /// About how many bytes the table holds.
    public var byteEstimate: Int { (frames.count) * 48 + stacks.count * 160 + frameCount * 4 + keyIDs.count * 40 }

    private mutating func add(_ key: Key, _ symbols: Symbols) -> UInt32 {
        var ids: [UInt32] = []
        for (_, frame) in Self.frames(of: key, symbols, &scratch) {
            if let known = frameIDs[frame] {
                ids.append(known)
            } else {
                let id = UInt32(frames.count)
                frames.append(frame)
                frameIDs[frame] = id
                ids.append(id)
            }
        }
        let id: UInt32
        if let known = stackIDs[ids] {
            id = known
        } else {
            id = UInt32(stacks.count)
            stacks.append(ids)
            stackIDs[ids] = id
            frameCount += ids.count
        }
        keyIDs[key] = id
        return id
    }

    /// flame_prof's frames of a key, innermost first.
    private static func frames(of key: Key, _ symbols: Symbols, _ lines: inout [(function: UInt32, frame: ProfileFrame)]) -> [(function: UInt32, frame: ProfileFrame)] {
        lines.removeAll(keepingCapacity: true)
        lines.append(key.currentFunction == Symbols.none ? (Symbols.none, .native) : (key.currentFunction, .function(key.currentFunction)))
        if key.stack != Symbols.none {
            for frame in symbols.stacks[Int(key.stack)] {
                lines.append((symbols.frames[Int(frame)].function, .code(frame)))
            }
        }
        // Runs of one M:F/A become their outermost member (the one with the caller's line).
        var flattened: [(function: UInt32, frame: ProfileFrame)] = []
        for (i, line) in lines.enumerated() {
            if i + 1 < lines.count, lines[i + 1].function == line.function { continue }
            flattened.append(line)
        }
        // flame_prof compares both initial calls with the outermost frame, and
        // the dictionary's only once `initial_call` itself was left out: after
        // a written `initial_call`, `'$initial_call'` is always written.
        let outermost = flattened.last?.function
        var wroteInitialCall = false
        if key.initialCall != Symbols.none, key.initialCall != outermost {
            flattened.append((key.initialCall, .initialCall(key.initialCall)))
            wroteInitialCall = true
        }
        if key.dictionaryInitialCall != Symbols.none, wroteInitialCall || key.dictionaryInitialCall != outermost {
            flattened.append((key.dictionaryInitialCall, .procLibInitialCall(key.dictionaryInitialCall)))
        }
        return flattened
    }
}
