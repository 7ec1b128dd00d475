import FlameModel

/// Writes speedscope's JSON file format: `sampled` profiles over frames
/// shared by all of them (docs/output-formats.md).
///
/// One profile per first-level category label (`.category`) or per process
/// (`.process`). A sample is its path, root first: a `negative` frame when
/// its weight is negative (its weight is then |w|), the category labels
/// that are not the profile's own (levels after the first, or all of them
/// per process), then the stack's frames. Within a profile, samples stay in
/// time order; consecutive samples of the same path are one sample whose
/// weight is their sum, which is how speedscope reads them anyway.
///
/// Memory grows with distinct paths (category labels and stacks), not with
/// samples: each profile's samples are (path id, weight) records kept in a
/// budget and spilled to a temporary file past it (`SampleSpill`). Profiles
/// are bounded by `maxProfiles`: the samples of any further category (or
/// process) go to one last profile, `(other categories)` with the first
/// level's label as a root frame (or `(other processes)`).
public final class SpeedscopeSink: ProfileSink {
    public let grouping: SpeedscopeGrouping
    public let weight: Weight
    /// Profiles made before the rest go to one more, shared profile.
    public let maxProfiles: Int
    private let output: any ByteOutput
    private let exporter: String
    private let chunk: Int
    private let store: SampleSpill

    /// speedscope's file-format identifier, which its importer recognises.
    public static let schemaURL = "https://www.speedscope.app/file-format-schema.json"
    /// 32 MiB of sample records in memory, then the temporary file.
    public static let defaultMemoryBudget = 32 << 20
    public static let defaultMaxProfiles = 4096
    /// Consecutive samples of one path are merged while their sum stays an
    /// integer JavaScript reads exactly.
    static let mergeLimit: UInt64 = 1 << 53

    // One thread reads and writes these, one access at a time: no runtime
    // exclusivity check on every sample.

    /// The frames, and the paths samples take through them.
    private let paths = SpeedscopePaths()

    // Profiles.
    @exclusivity(unchecked) private var profileOfLabel: [Int32] = []
    @exclusivity(unchecked) private var profileOfPid: [UInt64: Int32] = [:]
    @exclusivity(unchecked) private var lastPid: UInt64 = .max
    @exclusivity(unchecked) private var lastPidProfile: Int32 = -1
    @exclusivity(unchecked) private var overflowProfile: Int32 = -1
    @exclusivity(unchecked) private var profiles: [ProfileState] = []
    @exclusivity(unchecked) private var overflowGroups = 0
    @exclusivity(unchecked) private var overflowSamples = 0

    @exclusivity(unchecked) private var missing = 0
    @exclusivity(unchecked) private var missingMetric = ""
    @exclusivity(unchecked) private var written = 0
    @exclusivity(unchecked) private var buffer: [UInt8] = []

    /// About the bytes the tables of distinct frames, paths and stacks hold.
    public var tableBytes: Int { paths.tableBytes }

    /// What each frame of the file stands for, in the file's order.
    var frameKinds: [SpeedscopePaths.FrameKind] { paths.frameKinds }

    struct ProfileState {
        /// Category mode: the first level's label; process mode: the pid key.
        var key: UInt64
        var registeredName: UInt32 = Symbols.none
        var isOverflow = false
        /// The last sample, not yet recorded: more of the same path add to it.
        var pendingPath: UInt32 = .max
        var pendingWeight: UInt64 = 0
        /// Sum of the weights (clamped).
        var total: UInt64 = 0
    }

    /// `memoryBudget`: bytes of sample records kept in memory before the
    /// temporary file (`blockRecords` per allocation, for tests).
    public init(output: any ByteOutput, weight: Weight = .samples, grouping: SpeedscopeGrouping = .category,
                exporter: String = "flameconv", memoryBudget: Int = SpeedscopeSink.defaultMemoryBudget,
                maxProfiles: Int = SpeedscopeSink.defaultMaxProfiles, blockRecords: Int = 256, chunk: Int = 1 << 20) {
        self.output = output
        self.weight = weight
        self.grouping = grouping
        self.exporter = exporter
        self.maxProfiles = max(1, maxProfiles)
        self.chunk = chunk
        store = SampleSpill(budget: memoryBudget, blockRecords: blockRecords)
        buffer.reserveCapacity(chunk + (1 << 16))
    }

    // MARK: Events

    public func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
        guard let value = weight.of(event) else {
            if missing == 0, let metric = weight.metric { missingMetric = profile.catalogue[metric].name }
            missing += 1
            return
        }
        let index = Int(profileIndex(event, profile))
        var node: Int32 = 0
        if value < 0 { node = paths.negativeRootNode() }
        let categories = event.categories
        var level = grouping == .category && !profiles[index].isOverflow ? 1 : 0
        while level < categories.count {
            node = paths.child(node, label: categories[level], profile)
            level += 1
        }
        let path = paths.leaf(node, stack: event.stack, profile)
        try record(index, path: path, weight: value.magnitude)
        written += 1
    }

    @inline(__always)
    private func profileIndex(_ event: borrowing ProfileEvent, _ profile: Profile) -> Int32 {
        switch grouping {
        case .category:
            let label = Int(event.categories[0])
            if label < profileOfLabel.count, profileOfLabel[label] >= 0 { return profileOfLabel[label] }
            if label >= profileOfLabel.count { profileOfLabel.append(contentsOf: repeatElement(-1, count: label + 1 - profileOfLabel.count)) }
            let index: Int32
            if profiles.count < maxProfiles {
                index = newProfile(key: UInt64(label))
            } else {
                index = overflow()
                overflowGroups += 1
            }
            profileOfLabel[label] = index
            return index
        case .process:
            let sample = event.sample
            let pid = sample.pidKey
            var index: Int32
            if pid == lastPid {
                index = lastPidProfile
            } else if let known = profileOfPid[pid] {
                index = known
            } else if profiles.count < maxProfiles {
                index = newProfile(key: pid)
                profileOfPid[pid] = index
            } else {
                // Not kept by pid: the map stays within `maxProfiles`.
                index = overflow()
            }
            lastPid = pid
            lastPidProfile = index
            if profiles[Int(index)].isOverflow {
                overflowSamples += 1
            } else if profiles[Int(index)].registeredName == Symbols.none {
                profiles[Int(index)].registeredName = sample.registeredName
            }
            return index
        }
    }

    private func newProfile(key: UInt64) -> Int32 {
        profiles.append(ProfileState(key: key))
        _ = store.addProfile()
        return Int32(profiles.count - 1)
    }

    private func overflow() -> Int32 {
        if overflowProfile < 0 {
            overflowProfile = newProfile(key: 0)
            profiles[Int(overflowProfile)].isOverflow = true
        }
        return overflowProfile
    }

    @inline(__always)
    private func record(_ index: Int, path: UInt32, weight: UInt64) throws(OutputError) {
        let (total, overflowed) = profiles[index].total.addingReportingOverflow(weight)
        profiles[index].total = overflowed ? .max : total
        let pending = profiles[index].pendingPath
        if pending == path, profiles[index].pendingWeight <= Self.mergeLimit &- weight, weight <= Self.mergeLimit {
            profiles[index].pendingWeight += weight
            return
        }
        if pending != .max {
            try store.append(index, path: pending, weight: profiles[index].pendingWeight)
        }
        profiles[index].pendingPath = path
        profiles[index].pendingWeight = weight
    }

    // MARK: Writing

    public func finish(_ profile: Profile) throws(OutputError) {
        for index in profiles.indices where profiles[index].pendingPath != .max {
            try store.append(index, path: profiles[index].pendingPath, weight: profiles[index].pendingWeight)
            profiles[index].pendingPath = .max
        }
        put("{\"$schema\":")
        JSONText.appendString(Array(Self.schemaURL.utf8), to: &buffer)
        put(",\n\"exporter\":")
        JSONText.appendString(Array(exporter.utf8), to: &buffer)
        put(",\n\"name\":")
        JSONText.appendString(Array(fileName(profile).utf8), to: &buffer)
        put(",\n\"activeProfileIndex\":")
        JSONText.appendDecimal(UInt64(heaviestProfile()), to: &buffer)
        put(",\n\"shared\":{\"frames\":[")
        for index in paths.frameKinds.indices {
            put(index == 0 ? "\n" : ",\n")
            paths.appendFrame(index, to: &buffer)
            try drainIfFull()
        }
        put("]},\n\"profiles\":[")
        let unit = Self.unit(weight, profile.catalogue)
        for index in profiles.indices {
            put(index == 0 ? "\n" : ",\n")
            try writeProfile(index, unit: unit, profile)
        }
        put("]}\n")
        try drain()
    }

    private func writeProfile(_ index: Int, unit: String, _ profile: Profile) throws(OutputError) {
        put("{\"type\":\"sampled\",\"name\":")
        JSONText.appendString(profileName(index, profile), to: &buffer)
        put(",\"unit\":\"")
        putText(unit)
        put("\",\"startValue\":0,\"endValue\":")
        JSONText.appendDecimal(profiles[index].total, to: &buffer)
        put(",\n\"samples\":[")
        var first = true
        try store.forEachRun(index) { (run) throws(OutputError) in
            var r = 0
            while r < run.count {
                let path = Int(run[r])
                if !first { buffer.append(UInt8(ascii: ",")) }
                first = false
                paths.appendPath(path, to: &buffer)
                r += 3
            }
            try drainIfFull()
        }
        put("],\n\"weights\":[")
        first = true
        try store.forEachRun(index) { (run) throws(OutputError) in
            var r = 0
            while r < run.count {
                if !first { buffer.append(UInt8(ascii: ",")) }
                first = false
                JSONText.appendDecimal(UInt64(run[r + 2]) << 32 | UInt64(run[r + 1]), to: &buffer)
                r += 3
            }
            try drainIfFull()
        }
        put("]}")
    }

    private func profileName(_ index: Int, _ profile: Profile) -> [UInt8] {
        let state = profiles[index]
        if state.isOverflow {
            return Array((grouping == .category ? "(other categories)" : "(other processes)").utf8)
        }
        switch grouping {
        case .category:
            return Array(profile.categoryName(UInt32(state.key)))
        case .process:
            var name = Array("<0.\(state.key >> 32).\(state.key & 0xFFFF_FFFF)>".utf8)
            if state.registeredName != Symbols.none {
                name.append(0x20)
                name.append(contentsOf: profile.symbols.name(state.registeredName))
            }
            return name
        }
    }

    /// The profile speedscope opens first: the heaviest (the first of equals).
    private func heaviestProfile() -> Int {
        var best = 0
        for index in profiles.indices where profiles[index].total > profiles[best].total { best = index }
        return best
    }

    /// `CAPTURES: WEIGHT per GROUP`, which speedscope shows as the title.
    private func fileName(_ profile: Profile) -> String {
        var ids: [String] = []
        for capture in profile.captures where !ids.contains(capture.id) { ids.append(capture.id) }
        var captures = ids.prefix(3).joined(separator: ", ")
        if ids.count > 3 { captures += " and \(ids.count - 3) more" }
        if captures.isEmpty { captures = "flameconv" }
        let group = grouping == .process ? "process" : (profile.levels.first?.spec ?? "category")
        return "\(captures): \(weight.name(profile.catalogue)) per \(group)"
    }

    /// speedscope's unit for the weight: `bytes` for a size in bytes, else
    /// `none` (a count it shows as it is). Sizes in words stay `none`: their
    /// `_bytes` metric (`--weight total_heap_size_bytes`) is the one in bytes.
    static func unit(_ weight: Weight, _ catalogue: MetricCatalogue) -> String {
        guard let metric = weight.metric else { return "none" }
        return catalogue[metric].unit == .bytes ? "bytes" : "none"
    }

    @inline(__always)
    private func put(_ text: StaticString) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private func putText(_ text: String) {
        buffer.append(contentsOf: text.utf8)
    }

    @inline(__always)
    private func drainIfFull() throws(OutputError) {
        if buffer.count >= chunk { try drain() }
    }

    private func drain() throws(OutputError) {
        guard !buffer.isEmpty else { return }
        try output.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    // MARK: Results

    public var notes: [String] {
        var notes: [String] = []
        if missing > 0 {
            notes.append("skipped \(missing) sample\(missing == 1 ? "" : "s"): missing \(missingMetric)")
        }
        if overflowProfile >= 0 {
            switch grouping {
            case .category:
                notes.append("\(overflowGroups) categories past the first \(maxProfiles) share the profile (other categories), each under a root frame of its name")
            case .process:
                notes.append("\(overflowSamples) samples of processes past the first \(maxProfiles) share the profile (other processes)")
            }
        }
        if written == 0 {
            notes.append("no samples: the speedscope file holds no profile")
        }
        return notes
    }

    public var samplesWritten: Int { written }
    /// Profiles in the file.
    public var profileCount: Int { profiles.count }
    /// Times the sample records went over the memory budget to the temporary file.
    public var spills: Int { store.spills }
    /// Bytes of sample records held in memory now.
    public var pooledBytes: Int { store.pooledBytes }
}
