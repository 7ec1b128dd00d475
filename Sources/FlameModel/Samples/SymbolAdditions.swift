/// Entries one `Symbols` gained, in id order, for another `Symbols` that held
/// the same entries before them.
///
/// A run that reads on a thread of its own interns into the reader's tables
/// and hands these over with its ticks; the run's tables append them and so
/// give every entry the same id, since ids are dense and given in order.
/// Only new entries travel, never a copy of a whole table; a stack's frame
/// list is shared, not copied (arrays are copy-on-write, and neither side
/// changes one once made).
public struct SymbolAdditions: Sendable {
    /// The tables' counts before these entries.
    public internal(set) var base = Symbols.Counts()
    /// The new names' bytes, one after another.
    var nameBytes: [UInt8] = []
    /// Where each new name ends in `nameBytes`.
    var nameEnds: [Int] = []
    var functions: [Symbols.Function] = []
    var frames: [Symbols.Frame] = []
    var stacks: [[UInt32]] = []

    public init() {}

    /// The counts the tables reach with every entry here.
    public var end: Symbols.Counts {
        Symbols.Counts(names: base.names + nameEnds.count, functions: base.functions + functions.count,
                       frames: base.frames + frames.count, stacks: base.stacks + stacks.count)
    }

    /// Empties it for entries from `start` on, keeping its buffers unless
    /// they grew past what ordinary batches need (a dump of new names in
    /// every tick may fill one batch with many).
    mutating func reset(base start: Symbols.Counts) {
        base = start
        let keep = nameBytes.capacity <= Self.keptBytes && nameEnds.capacity + functions.capacity + frames.capacity + stacks.capacity <= Self.keptEntries
        nameBytes.removeAll(keepingCapacity: keep)
        nameEnds.removeAll(keepingCapacity: keep)
        functions.removeAll(keepingCapacity: keep)
        frames.removeAll(keepingCapacity: keep)
        stacks.removeAll(keepingCapacity: keep)
    }

    static let keptBytes = 1 << 20
    static let keptEntries = 1 << 16
}

extension Symbols {
    /// How many entries each table holds: the next id of each.
    public struct Counts: Sendable, Equatable {
        public var names = 0
        public var functions = 0
        public var frames = 0
        public var stacks = 0

        public init(names: Int = 0, functions: Int = 0, frames: Int = 0, stacks: Int = 0) {
            self.names = names
            self.functions = functions
            self.frames = frames
            self.stacks = stacks
        }
    }

    public var counts: Counts {
        Counts(names: names.count, functions: functions.count, frames: frames.count, stacks: stacks.count)
    }

    /// About how many bytes a mirror of these tables (filled by
    /// `append(_:upTo:)`) holds beside them: the names with their lookup
    /// table, the functions and frames, and a reference per stack (a stack's
    /// frame list is shared, not copied).
    public var mirrorByteEstimate: Int {
        names.byteCount + names.count * 32 + (functions.count + frames.count) * 12 + stacks.count * 8
    }

    /// Puts into `additions` (replacing what it held) every entry from `start`
    /// on: what a table that holds `start`'s entries lacks.
    public func collectAdditions(since start: Counts, into additions: inout SymbolAdditions) {
        additions.reset(base: start)
        for id in start.names..<names.count {
            additions.nameBytes.append(contentsOf: names.bytes(of: UInt32(id)))
            additions.nameEnds.append(additions.nameBytes.count)
        }
        additions.functions.append(contentsOf: functions[start.functions...])
        additions.frames.append(contentsOf: frames[start.frames...])
        additions.stacks.append(contentsOf: stacks[start.stacks...])
    }

    /// Appends `additions`' entries, from where these tables stand, until they
    /// hold `target`'s counts. The tables must hold the entries before
    /// `additions.base` that the tables the additions came from held.
    public mutating func append(_ additions: SymbolAdditions, upTo target: Counts) {
        let end = additions.end
        precondition(names.count >= additions.base.names && target.names <= end.names
            && functions.count >= additions.base.functions && target.functions <= end.functions
            && frames.count >= additions.base.frames && target.frames <= end.frames
            && stacks.count >= additions.base.stacks && target.stacks <= end.stacks,
            "symbol additions do not follow these tables")
        if names.count < target.names {
            additions.nameBytes.withUnsafeBytes { bytes in
                for index in (names.count - additions.base.names)..<(target.names - additions.base.names) {
                    let start = index == 0 ? 0 : additions.nameEnds[index - 1]
                    let (id, isNew) = names.intern(UnsafeRawBufferPointer(rebasing: bytes[start..<additions.nameEnds[index]]))
                    precondition(isNew && Int(id) == additions.base.names + index, "a mirrored name was not new")
                }
            }
        }
        if functions.count < target.functions {
            functions += additions.functions[(functions.count - additions.base.functions)..<(target.functions - additions.base.functions)]
        }
        if frames.count < target.frames {
            frames += additions.frames[(frames.count - additions.base.frames)..<(target.frames - additions.base.frames)]
        }
        if stacks.count < target.stacks {
            for stack in additions.stacks[(stacks.count - additions.base.stacks)..<(target.stacks - additions.base.stacks)] {
                stacks.append(stack)
                stackFrameCount += stack.count
            }
        }
    }
}
