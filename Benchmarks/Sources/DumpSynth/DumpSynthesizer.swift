/// Writes deterministic, realistic flame dumps: what `agent/flame_agent.erl`
/// writes on a busy node, with `processes` processes sampled every tick.
///
/// Every term has exactly the shape of the real captures in Fixtures/captures
/// (see docs/dump-format.md): a header `{flame_dump, 1, Meta}`,
/// then per tick `{samples, Ts, [{Pid, Items}]}` where `Items` is the 14-item
/// list `erlang:process_info/2` returns, a `{system, Ts, Info}` once a
/// simulated second, and a trailer `{flame_dump_end, Stats}`. The bytes are
/// what OTP 25's `term_to_binary/1` writes for those terms (or OTP 26's with
/// `minorVersion: 2`). The output is a function of the options alone.
/// How much the sampled stacks vary from tick to tick.
public enum StackVariety: String, Sendable, Equatable, CaseIterable {
    /// As real captures: each process moves among a few fixed stack paths
    /// (2 to 8, shared by the processes of one role: kind and module), a
    /// Zipf-like choice that sticks for a while; a fraction of a percent of
    /// the samples bring a stack not seen before.
    case realistic
    /// dumpsynth 1's behaviour: every tick cuts the process's path at a
    /// jittered depth, so about a quarter of the samples have a new stack.
    case high
}

public struct SynthOptions: Sendable, Equatable {
    /// Processes sampled per tick.
    public var processes: Int
    public var seed: UInt64
    /// The agent's `interval_ms`: ticks are this far apart in `Ts`.
    public var intervalMs: Int
    /// 1: atoms as OTP 25 writes them (Latin-1 ATOM_EXT); 2: as OTP 26+ (SMALL_ATOM_UTF8_EXT).
    public var minorVersion: Int
    public var node: String
    public var stackVariety: StackVariety

    public init(processes: Int = 500, seed: UInt64 = 1, intervalMs: Int = 10, minorVersion: Int = 1,
                node: String = "shop@10.0.3.17", stackVariety: StackVariety = .realistic) {
        self.stackVariety = stackVariety
        self.processes = processes
        self.seed = seed
        self.intervalMs = intervalMs
        self.minorVersion = minorVersion
        self.node = node
    }
}

public final class DumpSynthesizer {
    public let options: SynthOptions
    public private(set) var ticks = 0
    public private(set) var samples = 0

    private var rng: SplitMix64
    private var encoder: ETFEncoder
    private let atoms: AtomTable
    private let catalog: SiteCatalog
    private let app: Application
    private var population: [SimProcess] = []
    private var nextPidId: UInt32 = 412
    private let nodeAtom: [UInt8]
    private let creation: UInt32
    private let startedAt: Int64
    private let monotonicStart: Int64
    private let agentPid: UInt32
    private var totalMemory: Int64 = 1_900_000_000

    public init(options: SynthOptions = SynthOptions()) {
        precondition(options.processes >= 1 && options.intervalMs >= 1)
        self.options = options
        var rng = SplitMix64(seed: options.seed)
        self.encoder = ETFEncoder(minorVersion: options.minorVersion, capacity: 4 << 20)
        let atoms = AtomTable(minorVersion: options.minorVersion)
        self.atoms = atoms
        self.catalog = SiteCatalog(atoms: atoms)
        self.nodeAtom = atoms[options.node]
        self.creation = UInt32(truncatingIfNeeded: 1_700_000_000 &+ rng.below(200_000_000))
        self.startedAt = 1_795_582_443_222_658 + Int64(rng.below(1_000_000_000))
        self.monotonicStart = -576_460_750_909_185 + Int64(rng.below(1_000_000_000))
        self.agentPid = 104
        self.app = Application(rng: &rng, catalog: catalog)
        self.rng = rng
        for _ in 0..<options.processes {
            population.append(spawn())
        }
    }

    // MARK: Terms

    /// `term_to_binary({flame_dump, 1, Meta})`.
    public func header() -> [UInt8] {
        let items = ["status", "current_function", "current_stacktrace", "initial_call", "registered_name",
                     "reductions", "message_queue_len", "memory", "total_heap_size", "heap_size", "stack_size",
                     "garbage_collection", "garbage_collection_info", "dictionary"]
        let meta: [(String, ETFValue)] = [
            ("node", .atom(options.node)),
            ("otp_release", .text(options.minorVersion == 1 ? "25" : "26")),
            ("started_at", .int(startedAt)),
            ("monotonic_start", .int(monotonicStart)),
            ("sample_interval_ms", .int(Int64(options.intervalMs))),
            ("capture", .text("synth-\(options.seed)")),
            ("seq", .int(0)),
            ("agent", .text("flame_agent 1.0")),
            ("agent_pid", .pid(node: options.node, id: agentPid, serial: 0, creation: creation)),
            ("select", .tuple([.atom("top"), .int(Int64(options.processes))])),
            ("max_procs_per_tick", .int(Int64(max(1000, options.processes)))),
            ("backtrace_depth", .int(64)),
            ("items", .list(items.map { .atom($0) })),
            // Unknown to readers, which ignore it: how this file was made.
            ("synthetic", .atomMap(options.stackVariety == .high
                ? [("generator", .text("dumpsynth 1")), ("seed", .int(Int64(bitPattern: options.seed))),
                   ("processes", .int(Int64(options.processes)))]
                : [("generator", .text("dumpsynth 2")), ("seed", .int(Int64(bitPattern: options.seed))),
                   ("processes", .int(Int64(options.processes))), ("stack_variety", .atom(options.stackVariety.rawValue))])),
        ]
        return ETFValue.tuple([.atom("flame_dump"), .int(1), .atomMap(meta)]).externalTerm(minorVersion: options.minorVersion)
    }

    /// `term_to_binary({flame_dump_end, Stats})` for what has been produced so far.
    public func trailer() -> [UInt8] {
        let stats: [(String, ETFValue)] = [
            ("ticks", .int(Int64(ticks))), ("samples", .int(Int64(samples))), ("overruns", .int(0)),
            ("reason", .atom("stopped")), ("capture_ticks", .int(Int64(ticks))),
            ("capture_samples", .int(Int64(samples))), ("capture_overruns", .int(0)),
        ]
        return ETFValue.tuple([.atom("flame_dump_end"), .atomMap(stats)]).externalTerm(minorVersion: options.minorVersion)
    }

    /// The `Ts` of tick `n`: on the interval grid, a little late as a real timer is.
    private func timestamp(ofTick n: Int) -> Int64 {
        monotonicStart + 12_000 + Int64(n) * Int64(options.intervalMs) * 1000 + Int64((n &* 7919) % 900)
    }

    /// True when the agent would write a `{system, ...}` term after tick `n` (once a second).
    public func hasSystemTerm(afterTick n: Int) -> Bool {
        let perSecond = max(1, 1000 / options.intervalMs)
        return n % perSecond == 0
    }

    /// `term_to_binary({system, Ts, Info})` for the tick just made.
    public func systemTerm() -> [UInt8] {
        let ts = timestamp(ofTick: max(0, ticks - 1))
        totalMemory += Int64(rng.int(-4_000_000...4_200_000))
        let info: [(String, ETFValue)] = [
            ("run_queue", .int(Int64(rng.int(0...6)))),
            ("process_count", .int(Int64(options.processes + 1800 + rng.below(40)))),
            ("port_count", .int(Int64(140 + rng.below(12)))),
            ("total_memory", .int(totalMemory)),
            ("schedulers_online", .int(2)),
        ]
        return ETFValue.tuple([.atom("system"), .int(ts), .atomMap(info)]).externalTerm(minorVersion: options.minorVersion)
    }

    /// The next tick's `term_to_binary({samples, Ts, [{Pid, Items}]})`. The
    /// buffer is reused: it stays valid until the next call.
    public func nextTick() -> [UInt8] {
        let ts = timestamp(ofTick: ticks)
        // Short-lived processes (requests, tasks) end and new ones start.
        for i in population.indices where rng.below(100_000) < population[i].kind.deathsPer100k {
            population[i] = spawn()
        }
        encoder.removeAll()
        encoder.version()
        encoder.tuple(3)
        encoder.raw(atoms["samples"])
        encoder.integer(ts)
        encoder.listHeader(population.count)
        for i in population.indices {
            population[i].advance(&rng, app: app)
            population[i].encodeSample(into: &encoder, atoms: atoms, catalog: catalog, nodeAtom: nodeAtom, creation: creation)
        }
        encoder.nilTail()
        ticks += 1
        samples += population.count
        return encoder.bytes
    }

    private func spawn() -> SimProcess {
        let id = nextPidId
        nextPidId &+= UInt32(1 + rng.below(3))
        if nextPidId > 0x7FFF { nextPidId = 300 + UInt32(rng.below(200)) }  // wrap as pid numbers do
        return SimProcess(pidID: id, serial: UInt32(rng.chance(perMille: 150) ? rng.int(1...3) : 0),
                          rng: &rng, app: app, atoms: atoms, nodeAtom: nodeAtom, creation: creation,
                          variety: options.stackVariety, seed: options.seed)
    }

    // MARK: Whole dumps

    /// Writes a framed dump of at most `targetBytes` bytes (header, ticks with a
    /// system term once a simulated second, trailer) to `sink` in pieces. Stops
    /// after `maxTicks` ticks if that comes first. Returns the bytes written.
    @discardableResult
    public static func writeDump(options: SynthOptions, targetBytes: Int, maxTicks: Int = .max,
                                 sink: (UnsafeRawBufferPointer) throws -> Void) rethrows -> Int {
        let synth = DumpSynthesizer(options: options)
        var chunk: [UInt8] = []
        chunk.reserveCapacity(8 << 20)
        var written = 0
        func frame(_ term: [UInt8]) {
            let n = UInt32(term.count)
            chunk.append(UInt8(n >> 24)); chunk.append(UInt8((n >> 16) & 0xFF))
            chunk.append(UInt8((n >> 8) & 0xFF)); chunk.append(UInt8(n & 0xFF))
            chunk.append(contentsOf: term)
            written += 4 + term.count
        }
        func flush() throws {
            try chunk.withUnsafeBytes { try sink($0) }
            chunk.removeAll(keepingCapacity: true)
        }
        let trailerReserve = 4 + 256
        frame(synth.header())
        while synth.ticks < maxTicks {
            let tick = synth.nextTick()
            let system = synth.hasSystemTerm(afterTick: synth.ticks - 1) ? synth.systemTerm() : []
            let size = 4 + tick.count + (system.isEmpty ? 0 : 4 + system.count)
            if written + size + trailerReserve > targetBytes {
                // Undo the counts of the tick not written, so the trailer tells the truth.
                synth.ticks -= 1
                synth.samples -= synth.population.count
                break
            }
            frame(tick)
            if !system.isEmpty { frame(system) }
            if chunk.count >= 4 << 20 { try flush() }
        }
        frame(synth.trailer())
        try flush()
        return written
    }

    /// A whole framed dump in memory.
    public static func makeDump(options: SynthOptions, targetBytes: Int, maxTicks: Int = .max) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(min(targetBytes, 1 << 31))
        writeDump(options: options, targetBytes: targetBytes, maxTicks: maxTicks) { out.append(contentsOf: $0) }
        return out
    }

    /// The frames of a framed dump: (offset of the term's first byte, length).
    public static func frameRanges(of dump: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var i = 0
        while i + 4 <= dump.count {
            let n = Int(dump[i]) << 24 | Int(dump[i + 1]) << 16 | Int(dump[i + 2]) << 8 | Int(dump[i + 3])
            precondition(i + 4 + n <= dump.count, "truncated frame at \(i)")
            ranges.append((i + 4)..<(i + 4 + n))
            i += 4 + n
        }
        return ranges
    }
}

/// Atom encodings, made once each.
final class AtomTable {
    let minorVersion: Int
    private var cache: [String: [UInt8]] = [:]

    init(minorVersion: Int) { self.minorVersion = minorVersion }

    subscript(_ name: String) -> [UInt8] {
        if let hit = cache[name] { return hit }
        let bytes = ETFEncoder.atomBytes(name, minorVersion: minorVersion)
        cache[name] = bytes
        return bytes
    }
}

/// Call sites interned to small integers, each with its frame and MFA encoded once.
final class SiteCatalog {
    private let atoms: AtomTable
    private(set) var sites: [CallSite] = []
    /// `{M, F, Arity, Location}`
    private(set) var frameBytes: [[UInt8]] = []
    /// `{M, F, Arity}`: `current_function` when the site is on top.
    private(set) var mfaBytes: [[UInt8]] = []
    private var index: [String: Int] = [:]

    init(atoms: AtomTable) { self.atoms = atoms }

    func intern(_ site: CallSite) -> Int {
        let key = "\(site.module)|\(site.function)|\(site.arity)|\(site.line)"
        if let i = index[key] { return i }
        var e = ETFEncoder(minorVersion: atoms.minorVersion)
        e.tuple(3)
        e.raw(atoms[site.module]); e.raw(atoms[site.function]); e.integer(site.arity)
        let mfa = e.bytes
        e.removeAll()
        e.tuple(4)
        e.raw(atoms[site.module]); e.raw(atoms[site.function]); e.integer(site.arity)
        if site.line == 0 {
            e.nilTail()
        } else {
            e.listHeader(2)
            e.tuple(2); e.raw(atoms["file"]); e.charlist(sourceFile(ofModule: site.module))
            e.tuple(2); e.raw(atoms["line"]); e.integer(site.line)
            e.nilTail()
        }
        let i = sites.count
        sites.append(site)
        frameBytes.append(e.bytes)
        mfaBytes.append(mfa)
        index[key] = i
        return i
    }

    func intern(_ list: [CallSite]) -> [Int] { list.map { intern($0) } }
}

/// The generated application: its modules' call sites, grouped for building stacks.
struct Application {
    /// Application frames (Erlang and Elixir), by module.
    let modules: [[Int]]
    let moduleNames: [String]
    /// Library frames that call funs back (lists:foldl/3 ...).
    let higherOrder: [Int]
    let blockingTops: [[Int]]
    let runningTops: [[Int]]
    let spines: [ProcessKind: [Int]]
    let genServerCall: Int, genServerInfo: Int, genServerCast: Int
    /// `handle_call/3`, `handle_info/2`, `init/1` ... of each module, when it has them.
    let callbacks: [Int: (call: Int?, info: Int?, cast: Int?)]

    init(rng: inout SplitMix64, catalog: SiteCatalog) {
        var modules: [[Int]] = []
        var names: [String] = []
        var callbacks: [Int: (call: Int?, info: Int?, cast: Int?)] = [:]
        var used = Set<String>()
        for m in 0..<72 {
            let elixir = m % 2 == 1
            var name: String
            repeat {
                if elixir {
                    let domain = Vocabulary.domains[rng.below(Vocabulary.domains.count)]
                    let cap = domain.prefix(1).uppercased() + domain.dropFirst()
                    name = "Elixir.Shop.\(cap).\(rng.pick(Vocabulary.elixirRoles))"
                } else {
                    name = "\(rng.pick(Vocabulary.erlangApps))_\(rng.pick(Vocabulary.domains))_\(rng.pick(Vocabulary.roles))"
                }
            } while used.contains(name)
            used.insert(name)
            let pool = elixir ? Vocabulary.elixirFunctions : Vocabulary.appFunctions
            var funcs: [Int] = []
            var picked = Set<String>()
            var line = rng.int(18...60)
            var entry: (call: Int?, info: Int?, cast: Int?) = (nil, nil, nil)
            for _ in 0..<rng.int(4...10) {
                let (f, a) = rng.pick(pool)
                if !picked.insert("\(f)/\(a)").inserted { continue }
                line += rng.int(6...140)
                // A function is called from one to three places in it.
                for k in 0..<rng.int(1...3) {
                    let id = catalog.intern(CallSite(module: name, function: f, arity: a, line: line + k * rng.int(2...9)))
                    funcs.append(id)
                    if k == 0 {
                        if f == "handle_call" { entry.call = id }
                        if f == "handle_info" { entry.info = id }
                        if f == "handle_cast" { entry.cast = id }
                    }
                }
            }
            callbacks[modules.count] = entry
            modules.append(funcs)
            names.append(name)
        }
        self.modules = modules
        self.moduleNames = names
        self.callbacks = callbacks
        higherOrder = catalog.intern(Vocabulary.higherOrder)
        blockingTops = Vocabulary.blockingTops.map { catalog.intern($0) }
        runningTops = Vocabulary.runningTops.map { catalog.intern($0) }
        genServerCall = catalog.intern(Vocabulary.genServerCall)
        genServerInfo = catalog.intern(Vocabulary.genServerInfo)
        genServerCast = catalog.intern(Vocabulary.genServerCast)
        spines = [
            .genServer: catalog.intern(Vocabulary.genServerSpine),
            .genStatem: catalog.intern(Vocabulary.genStatemSpine),
            .request: catalog.intern(Vocabulary.cowboySpine),
            .task: catalog.intern(Vocabulary.taskSpine),
            .acceptor: catalog.intern(Vocabulary.acceptorStack),
            .worker: catalog.intern(Vocabulary.workerSpine),
        ]
    }

    /// A run of application frames, bottom first: a walk from module to module,
    /// now and then through a library function that calls a fun.
    func middlePath(length: Int, rng: inout SplitMix64) -> [Int] {
        var path: [Int] = []
        var module = rng.below(modules.count)
        while path.count < length {
            if !path.isEmpty, rng.chance(perMille: 180) {
                path.append(rng.pick(higherOrder))
            } else {
                path.append(rng.pick(modules[module]))
                if rng.chance(perMille: 450) { module = rng.below(modules.count) }
            }
        }
        return path
    }
}

enum ProcessKind: CaseIterable {
    case genServer, genStatem, request, task, acceptor, worker

    /// Chance, per 100 000 ticks, that the process ends and another takes its place.
    var deathsPer100k: Int {
        switch self {
        case .request: 1500
        case .task: 800
        case .worker: 30
        default: 5
        }
    }
}

/// One simulated process: fixed identity, evolving counters and stack.
struct SimProcess {
    let kind: ProcessKind
    let pidID: UInt32
    let serial: UInt32
    /// `{initial_call, ...}`, `{registered_name, ...}`, `{dictionary, ...}`: fixed for life.
    let initialCallItem: [UInt8]
    let registeredNameItem: [UInt8]
    let dictionaryItem: [UInt8]
    /// Bottom of the stack, bottom first.
    let spine: [Int]
    /// What it does between spine and top: a few recurring paths, bottom first.
    let paths: [[Int]]
    /// 0 idle, 1 warm, 2 hot.
    let activity: Int
    let targetDepth: Int
    let mailbox: Bool
    /// `.realistic`: the role's whole stacks, top first; the first `blockingVariants` end in a receive.
    let variants: [[Int]]
    let blockingVariants: Int
    var variantIndex = 0

    var status = 0
    var stack: [Int] = []  // top first, as the stack trace lists it
    var pathIndex = 0
    var reductions: Int64
    var queueLength = 0
    var heapIndex: Int
    var oldHeapIndex: Int
    var minorGCs: Int
    var binVheap: Int
    var binOldVheap: Int
    var recent: Int

    init(pidID: UInt32, serial: UInt32, rng: inout SplitMix64, app: Application, atoms: AtomTable, nodeAtom: [UInt8], creation: UInt32,
         variety: StackVariety = .high, seed: UInt64 = 0) {
        self.pidID = pidID
        self.serial = serial
        let roll = rng.below(100)
        let kind: ProcessKind = roll < 34 ? .genServer : roll < 42 ? .genStatem : roll < 60 ? .request
            : roll < 72 ? .task : roll < 76 ? .acceptor : .worker
        self.kind = kind
        let module = rng.below(app.modules.count)
        let moduleName = app.moduleNames[module]
        var e = ETFEncoder(minorVersion: atoms.minorVersion)

        // initial_call
        e.tuple(2); e.raw(atoms["initial_call"]); e.tuple(3)
        switch kind {
        case .worker:
            if rng.chance(perMille: 600) {
                e.raw(atoms["erlang"]); e.raw(atoms["apply"]); e.integer(2)
            } else {
                e.raw(atoms[moduleName]); e.raw(atoms["loop"]); e.integer(1)
            }
        default:
            e.raw(atoms["proc_lib"]); e.raw(atoms["init_p"]); e.integer(5)
        }
        initialCallItem = e.bytes
        e.removeAll()

        // registered_name: named servers, a few named workers, no one else.
        e.tuple(2); e.raw(atoms["registered_name"])
        let named = (kind == .genServer && rng.chance(perMille: 400)) || (kind == .worker && rng.chance(perMille: 100))
            || (kind == .genStatem && rng.chance(perMille: 150))
        if named {
            e.raw(atoms[rng.chance(perMille: 800) ? moduleName : "\(moduleName)_\(rng.int(1...16))"])
        } else {
            e.nilTail()
        }
        registeredNameItem = e.bytes
        e.removeAll()

        // dictionary: '$ancestors' and '$initial_call' for proc_lib processes.
        e.tuple(2); e.raw(atoms["dictionary"])
        if kind == .worker {
            e.nilTail()
        } else {
            e.listHeader(2)
            e.tuple(2); e.raw(atoms["$ancestors"])
            let depth = rng.int(1...4)
            e.listHeader(depth)
            var names = Vocabulary.supervisors.shuffledDeterministically(&rng)
            for k in 0..<depth {
                if kind == .request || (k == depth - 1 && rng.chance(perMille: 500)) {
                    // Request processes name their connection process; the top of a tree is often a pid.
                    e.pid(node: nodeAtom, id: UInt32(rng.int(40...3000)), serial: 0, creation: creation)
                } else {
                    e.raw(atoms[names.removeLast()])
                }
            }
            e.nilTail()
            e.tuple(2); e.raw(atoms["$initial_call"]); e.tuple(3)
            switch kind {
            case .request:
                e.raw(atoms["cowboy_stream_h"]); e.raw(atoms["request_process"]); e.integer(3)
            case .acceptor:
                e.raw(atoms["ranch_acceptor"]); e.raw(atoms["loop"]); e.integer(5)
            case .task:
                e.raw(atoms[moduleName]); e.raw(atoms[rng.chance(perMille: 500) ? "-process_batch/2-fun-0-" : "run"]); e.integer(rng.int(0...1))
            case .genStatem:
                if rng.chance(perMille: 500) {
                    e.raw(atoms["tls_connection"]); e.raw(atoms["init"]); e.integer(1)
                } else {
                    e.raw(atoms[moduleName]); e.raw(atoms["init"]); e.integer(1)
                }
            default:
                e.raw(atoms[moduleName]); e.raw(atoms["init"]); e.integer(1)
            }
            e.nilTail()
        }
        dictionaryItem = e.bytes

        // The stack: spine, then the process's own code.
        var spine = app.spines[kind]!
        switch kind {
        case .genServer:
            let cb = app.callbacks[module]!
            let handler = rng.below(3)
            if handler == 0, let call = cb.call {
                spine += [app.genServerCall, call]
            } else if handler == 1, let info = cb.info {
                spine += [app.genServerInfo, info]
            } else if let cast = cb.cast {
                spine += [app.genServerCast, cast]
            } else {
                spine += [app.genServerCall, rng.pick(app.modules[module])]
            }
        case .genStatem, .task, .worker, .request:
            spine.append(rng.pick(app.modules[module]))
        case .acceptor:
            break
        }
        self.spine = spine
        // Depth 5 to 40, most processes nearer the shallow end.
        targetDepth = 5 + min(rng.below(36), rng.below(36))
        var paths: [[Int]] = []
        if kind != .acceptor {
            for _ in 0..<rng.int(2...4) {
                paths.append(app.middlePath(length: 40, rng: &rng))
            }
        }
        self.paths = paths
        let a = rng.below(100)
        activity = a < 12 ? 2 : a < 40 ? 1 : 0
        mailbox = rng.chance(perMille: 40)
        reductions = Int64(rng.logUniform(200...4_000_000_000))
        heapIndex = min(Vocabulary.heapSizes.count - 1, rng.logUniform(1...Vocabulary.heapSizes.count * 4) / 4)
        oldHeapIndex = rng.chance(perMille: 400) ? 0 : rng.below(heapIndex + 1)
        minorGCs = rng.logUniform(1...60_000) - 1
        binVheap = rng.chance(perMille: 600) ? 0 : rng.logUniform(64...2_000_000)
        binOldVheap = rng.chance(perMille: 700) ? 0 : rng.logUniform(64...4_000_000)
        recent = 0
        if variety == .realistic {
            // Processes of one role (kind and module) run the same code: their stacks
            // come from a generator of the role's own, not the process's.
            var role = SplitMix64(seed: seed ^ 0xA076_1D64_78BD_642F &* UInt64(1 + ProcessKind.allCases.firstIndex(of: kind)! * 131 + module))
            (variants, blockingVariants) = Self.roleVariants(kind: kind, module: module, rng: &role, app: app)
        } else {
            variants = []
            blockingVariants = 0
        }
    }

    /// A role's 2 to 8 whole stacks, top first: one or two that wait in a
    /// receive, the rest running; a fixed cut of one of the role's paths each.
    static func roleVariants(kind: ProcessKind, module: Int, rng: inout SplitMix64, app: Application) -> ([[Int]], Int) {
        var spine = app.spines[kind]!
        switch kind {
        case .genServer:
            let cb = app.callbacks[module]!
            switch rng.below(3) {
            case 0 where cb.call != nil: spine += [app.genServerCall, cb.call!]
            case 1 where cb.info != nil: spine += [app.genServerInfo, cb.info!]
            default:
                if let cast = cb.cast { spine += [app.genServerCast, cast] } else { spine += [app.genServerCall, rng.pick(app.modules[module])] }
            }
        case .genStatem, .task, .worker, .request:
            spine.append(rng.pick(app.modules[module]))
        case .acceptor:
            return ([spine.reversed()], 1)
        }
        let count = rng.int(2...8)
        let blocking = count <= 3 ? 1 : 2
        var paths: [[Int]] = []
        for _ in 0..<rng.int(1...3) { paths.append(app.middlePath(length: 40, rng: &rng)) }
        var variants: [[Int]] = []
        for v in 0..<count {
            let tops = v < blocking ? app.blockingTops : app.runningTops
            let top = tops[rng.below(tops.count)]
            let depth = 5 + min(rng.below(36), rng.below(36))
            let middle = max(1, min(40, depth) - spine.count - top.count)
            let path = paths[rng.below(paths.count)]
            var stack = top
            for k in stride(from: min(middle, path.count) - 1, through: 0, by: -1) { stack.append(path[k]) }
            for k in stride(from: spine.count - 1, through: 0, by: -1) {
                if stack.count >= 40 { break }
                stack.append(spine[k])
            }
            while stack.count < 5 { stack.insert(app.higherOrder[rng.below(app.higherOrder.count)], at: stack.count - 1) }
            variants.append(stack)
        }
        return (variants, blocking)
    }

    /// Zipf-like: variant k of n with weight 1/(k+1).
    static func zipf(_ n: Int, _ rng: inout SplitMix64) -> Int {
        if n <= 1 { return 0 }
        // Integer weights 840/(k+1) (840 = lcm(1...8)).
        var total = 0
        for k in 0..<n { total += 840 / (k + 1) }
        var r = rng.below(total)
        for k in 0..<n {
            r -= 840 / (k + 1)
            if r < 0 { return k }
        }
        return n - 1
    }

    /// One tick of life: counters move, the status and the stack change.
    mutating func advance(_ rng: inout SplitMix64, app: Application) {
        let r = rng.below(1000)
        switch activity {
        case 2: status = r < 480 ? 1 : r < 840 ? 2 : r < 900 ? 3 : 0
        case 1: status = r < 150 ? 1 : r < 270 ? 2 : r < 290 ? 3 : 0
        default: status = r < 30 ? 2 : 0
        }
        if r == 999 { status = 4 }  // suspended, now and then
        let running = status != 0 && status != 4
        reductions += Int64(running ? rng.logUniform(400...40_000) : (rng.chance(perMille: 300) ? rng.int(1...120) : 0))
        if mailbox {
            queueLength = max(0, queueLength + rng.int(-400...420))
        } else {
            queueLength = rng.chance(perMille: 20) ? rng.int(1...3) : 0
        }
        if running, rng.chance(perMille: 120) {
            minorGCs += 1
            recent = rng.int(0...Vocabulary.heapSizes[heapIndex] / 2)
            if rng.chance(perMille: 120) { heapIndex = min(heapIndex + 1, Vocabulary.heapSizes.count - 1) }
            if rng.chance(perMille: 80) { heapIndex = max(heapIndex - 1, 0) }
            if rng.chance(perMille: 100) { oldHeapIndex = min(heapIndex, oldHeapIndex + 1) }
            if rng.chance(perMille: 50) { binVheap = rng.logUniform(64...2_000_000) }
        }

        if !variants.isEmpty {
            // Waiting: one of the role's receives; running: one of its busy stacks.
            // The choice sticks from tick to tick, changing now and then.
            let waiting = status == 0 || status == 4
            let group = waiting ? 0..<blockingVariants : blockingVariants..<variants.count
            if group.isEmpty {
                variantIndex = 0
            } else if !group.contains(variantIndex) || rng.chance(perMille: 150) {
                variantIndex = group.lowerBound + Self.zipf(group.count, &rng)
            }
            stack = variants[variantIndex]
            return
        }
        // The stack: mostly the same path as last tick, cut at a varying point.
        if kind == .acceptor {
            stack = spine.reversed()
            return
        }
        if rng.chance(perMille: 250) { pathIndex = rng.below(paths.count) }
        let tops = status == 0 || status == 4 ? app.blockingTops : app.runningTops
        let top = tops[(Int(pidID) &* 31 &+ rng.below(3) &* 7 &+ (status == 0 ? 0 : rng.below(tops.count))) % tops.count]
        let minimumMiddle = 1
        var middleLength = max(minimumMiddle, targetDepth - spine.count - top.count)
        // Jitter the depth a little from tick to tick (one stack does not stay still).
        middleLength = max(minimumMiddle, middleLength + rng.int(-2...2))
        let total = min(40, spine.count + middleLength + top.count)
        middleLength = max(0, total - spine.count - top.count)
        stack.removeAll(keepingCapacity: true)
        stack.append(contentsOf: top)
        let path = paths[pathIndex]
        for k in stride(from: middleLength - 1, through: 0, by: -1) { stack.append(path[k]) }
        for k in stride(from: spine.count - 1, through: 0, by: -1) {
            if stack.count >= 40 { break }
            stack.append(spine[k])
        }
        while stack.count < 5 { stack.insert(rng.pick(app.higherOrder), at: stack.count - 1) }
    }

    /// `{Pid, Items}` with the 14 items in the agent's order.
    func encodeSample(into e: inout ETFEncoder, atoms: AtomTable, catalog: SiteCatalog, nodeAtom: [UInt8], creation: UInt32) {
        e.tuple(2)
        e.pid(node: nodeAtom, id: pidID, serial: serial, creation: creation)
        e.listHeader(14)
        e.tuple(2); e.raw(atoms["status"]); e.raw(atoms[Vocabulary.statuses[status]])
        e.tuple(2); e.raw(atoms["current_function"]); e.raw(catalog.mfaBytes[stack[0]])
        e.tuple(2); e.raw(atoms["current_stacktrace"])
        e.listHeader(stack.count)
        for site in stack { e.raw(catalog.frameBytes[site]) }
        e.nilTail()
        e.raw(initialCallItem)
        e.raw(registeredNameItem)
        let heap = Vocabulary.heapSizes[heapIndex]
        let oldHeap = oldHeapIndex == 0 ? 0 : Vocabulary.heapSizes[oldHeapIndex]
        let stackWords = 2 + stack.count * 4 + Int(pidID % 5)
        let totalHeap = heap + oldHeap
        let mbuf = queueLength > 0 ? queueLength * 6 : 0
        e.tuple(2); e.raw(atoms["reductions"]); e.integer(reductions)
        e.tuple(2); e.raw(atoms["message_queue_len"]); e.integer(queueLength)
        e.tuple(2); e.raw(atoms["memory"]); e.integer((totalHeap + mbuf) * 8 + 1_296 + (dictionaryItem.count > 20 ? 432 : 0))
        e.tuple(2); e.raw(atoms["total_heap_size"]); e.integer(totalHeap)
        e.tuple(2); e.raw(atoms["heap_size"]); e.integer(heap)
        e.tuple(2); e.raw(atoms["stack_size"]); e.integer(stackWords)
        e.tuple(2); e.raw(atoms["garbage_collection"])
        e.listHeader(5)
        e.tuple(2); e.raw(atoms["max_heap_size"])
        e.mapHeader(3)
        e.raw(atoms["error_logger"]); e.raw(atoms["true"])
        e.raw(atoms["kill"]); e.raw(atoms["true"])
        e.raw(atoms["size"]); e.integer(0)
        e.tuple(2); e.raw(atoms["min_bin_vheap_size"]); e.integer(46422)
        e.tuple(2); e.raw(atoms["min_heap_size"]); e.integer(233)
        e.tuple(2); e.raw(atoms["fullsweep_after"]); e.integer(65535)
        e.tuple(2); e.raw(atoms["minor_gcs"]); e.integer(minorGCs)
        e.nilTail()
        e.tuple(2); e.raw(atoms["garbage_collection_info"])
        e.listHeader(11)
        let used = min(heap, recent + Int(pidID % 97) * 3)
        e.tuple(2); e.raw(atoms["old_heap_block_size"]); e.integer(oldHeap)
        e.tuple(2); e.raw(atoms["heap_block_size"]); e.integer(heap)
        e.tuple(2); e.raw(atoms["mbuf_size"]); e.integer(mbuf)
        e.tuple(2); e.raw(atoms["recent_size"]); e.integer(recent)
        e.tuple(2); e.raw(atoms["stack_size"]); e.integer(stackWords)
        e.tuple(2); e.raw(atoms["old_heap_size"]); e.integer(oldHeap / 3)
        e.tuple(2); e.raw(atoms["heap_size"]); e.integer(used)
        e.tuple(2); e.raw(atoms["bin_vheap_size"]); e.integer(binVheap)
        e.tuple(2); e.raw(atoms["bin_vheap_block_size"]); e.integer(max(46422, binVheap * 2))
        e.tuple(2); e.raw(atoms["bin_old_vheap_size"]); e.integer(binOldVheap)
        e.tuple(2); e.raw(atoms["bin_old_vheap_block_size"]); e.integer(max(46422, binOldVheap * 2))
        e.nilTail()
        e.raw(dictionaryItem)
        e.nilTail()
    }
}

extension Array {
    /// Fisher-Yates with the dump's own generator.
    func shuffledDeterministically(_ rng: inout SplitMix64) -> [Element] {
        var a = self
        if a.count > 1 {
            for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, rng.below(i + 1)) }
        }
        return a
    }
}
