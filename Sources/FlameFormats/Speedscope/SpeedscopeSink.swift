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

    // Frames: what each index of `shared.frames` stands for, and back.
    @exclusivity(unchecked) private(set) var frameKinds: [FrameKind] = []
    /// Each frame's JSON object, a range of `frameBytes`.
    @exclusivity(unchecked) private var frameText: [Range<Int>] = []
    @exclusivity(unchecked) private var frameBytes: [UInt8] = []
    @exclusivity(unchecked) private var labelFrames: [Int32] = []
    @exclusivity(unchecked) private var codeFrames: [Int32] = []
    @exclusivity(unchecked) private var codeFrameByText: [[UInt8]: Int32] = [:]

    // Paths: a trie of root frames (node 0 is the empty prefix), each node's
    // frame indices as JSON text (`1,5,`); a path is a node and a stack.
    @exclusivity(unchecked) private var nodeText: [Range<Int>] = [0..<0]
    @exclusivity(unchecked) private var nodeBytes: [UInt8] = []
    /// Children of nodes other than the two roots, by `node << 32 | label`.
    @exclusivity(unchecked) private var children: [UInt64: UInt32] = [:]
    /// The negative root, child of node 0; -1 until a negative weight comes.
    @exclusivity(unchecked) private var negativeRoot: Int32 = -1
    /// Per root (0: node 0, 1: the negative root): children by label, leaves by stack.
    @exclusivity(unchecked) private var rootLabelChild: [[Int32]] = [[], []]
    @exclusivity(unchecked) private var rootLeaf: [[Int32]] = [[], []]
    /// Leaves of nodes other than the two roots (path ids), by `node << 32 | stack`.
    @exclusivity(unchecked) private var leaves: [UInt64: UInt32] = [:]
    @exclusivity(unchecked) private var pathNode: [UInt32] = []
    @exclusivity(unchecked) private var pathStack: [UInt32] = []
    /// Per stack, its frame indices root first as JSON text (`3,4,9`).
    @exclusivity(unchecked) private var stackText: [Range<Int>?] = []
    @exclusivity(unchecked) private var stackBytes: [UInt8] = []

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
    public var tableBytes: Int {
        2 * frameBytes.count + nodeBytes.count + stackBytes.count
            + 24 * (frameText.count + nodeText.count + stackText.count) + 40 * (children.count + leaves.count + codeFrameByText.count)
            + 8 * (pathNode.count + pathStack.count + labelFrames.count + codeFrames.count)
    }

    enum FrameKind: UInt8 {
        case label, code, negative
    }

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
        if value < 0 { node = negativeRootNode() }
        let categories = event.categories
        var level = grouping == .category && !profiles[index].isOverflow ? 1 : 0
        while level < categories.count {
            node = child(node, label: categories[level], profile)
            level += 1
        }
        let path = leaf(node, stack: event.stack, profile)
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

    // MARK: Paths and frames

    private func negativeRootNode() -> Int32 {
        if negativeRoot >= 0 { return negativeRoot }
        let frame = newFrame(.negative, Array("{\"name\":\"negative\"}".utf8))
        negativeRoot = newNode(parent: 0, frame: frame)
        return negativeRoot
    }

    /// The root slot of `node` (0 for node 0, 1 for the negative root), or -1.
    @inline(__always)
    private func rootSlot(_ node: Int32) -> Int {
        node == 0 ? 0 : (node == negativeRoot ? 1 : -1)
    }

    @inline(__always)
    private func child(_ node: Int32, label: UInt32, _ profile: Profile) -> Int32 {
        let slot = rootSlot(node)
        if slot >= 0 {
            let index = Int(label)
            if index < rootLabelChild[slot].count, rootLabelChild[slot][index] >= 0 { return rootLabelChild[slot][index] }
            if index >= rootLabelChild[slot].count {
                rootLabelChild[slot].append(contentsOf: repeatElement(-1, count: index + 1 - rootLabelChild[slot].count))
            }
            let made = newNode(parent: node, frame: labelFrame(label, profile))
            rootLabelChild[slot][index] = made
            return made
        }
        let key = UInt64(UInt32(node)) << 32 | UInt64(label)
        if let known = children[key] { return Int32(known) }
        let made = newNode(parent: node, frame: labelFrame(label, profile))
        children[key] = UInt32(made)
        return made
    }

    private func newNode(parent: Int32, frame: Int32) -> Int32 {
        let start = nodeBytes.count
        // Copied out first: appending a slice of the array to itself would copy it all.
        let parentText = Array(nodeBytes[nodeText[Int(parent)]])
        nodeBytes.append(contentsOf: parentText)
        JSONText.appendDecimal(UInt64(frame), to: &nodeBytes)
        nodeBytes.append(UInt8(ascii: ","))
        nodeText.append(start..<nodeBytes.count)
        return Int32(nodeText.count - 1)
    }

    @inline(__always)
    private func leaf(_ node: Int32, stack: UInt32, _ profile: Profile) -> UInt32 {
        let slot = rootSlot(node)
        if slot >= 0 {
            let index = Int(stack)
            if index < rootLeaf[slot].count, rootLeaf[slot][index] >= 0 { return UInt32(rootLeaf[slot][index]) }
            if index >= rootLeaf[slot].count { rootLeaf[slot].append(contentsOf: repeatElement(-1, count: index + 1 - rootLeaf[slot].count)) }
            let made = newPath(node, stack, profile)
            rootLeaf[slot][index] = Int32(made)
            return made
        }
        let key = UInt64(UInt32(node)) << 32 | UInt64(stack)
        if let known = leaves[key] { return known }
        let made = newPath(node, stack, profile)
        leaves[key] = made
        return made
    }

    private func newPath(_ node: Int32, _ stack: UInt32, _ profile: Profile) -> UInt32 {
        let index = Int(stack)
        if index >= stackText.count { stackText.append(contentsOf: repeatElement(nil, count: index + 1 - stackText.count)) }
        if stackText[index] == nil {
            let start = stackBytes.count
            for (n, frame) in profile.frames(of: stack).reversed().enumerated() {
                if n > 0 { stackBytes.append(UInt8(ascii: ",")) }
                JSONText.appendDecimal(UInt64(codeFrame(frame, profile)), to: &stackBytes)
            }
            stackText[index] = start..<stackBytes.count
        }
        pathNode.append(UInt32(node))
        pathStack.append(stack)
        return UInt32(pathNode.count - 1)
    }

    private func labelFrame(_ label: UInt32, _ profile: Profile) -> Int32 {
        let index = Int(label)
        if index < labelFrames.count, labelFrames[index] >= 0 { return labelFrames[index] }
        if index >= labelFrames.count { labelFrames.append(contentsOf: repeatElement(-1, count: index + 1 - labelFrames.count)) }
        var text = Array("{\"name\":".utf8)
        JSONText.appendString(profile.categoryName(label), to: &text)
        text.append(UInt8(ascii: "}"))
        let frame = newFrame(.label, text)
        labelFrames[index] = frame
        return frame
    }

    /// A stack frame's index. Frames written alike are one frame (the model
    /// tells a current function from the same function as initial call).
    private func codeFrame(_ id: UInt32, _ profile: Profile) -> Int32 {
        let index = Int(id)
        if index < codeFrames.count, codeFrames[index] >= 0 { return codeFrames[index] }
        if index >= codeFrames.count { codeFrames.append(contentsOf: repeatElement(-1, count: index + 1 - codeFrames.count)) }
        let text = Self.frameText(profile.frame(id), profile.symbols)
        let frame: Int32
        if let known = codeFrameByText[text] {
            frame = known
        } else {
            frame = newFrame(.code, text)
            codeFrameByText[text] = frame
        }
        codeFrames[index] = frame
        return frame
    }

    /// `{"name":…,"file":…,"line":…}`, file and line when the node said.
    static func frameText(_ frame: ProfileFrame, _ symbols: Symbols) -> [UInt8] {
        var text = Array("{\"name\":".utf8)
        JSONText.appendString(Array(frame.displayName(symbols).utf8), to: &text)
        if case .code(let code) = frame {
            let file = symbols.frames[Int(code)].file
            if file != Symbols.none {
                text.append(contentsOf: Array(",\"file\":".utf8))
                JSONText.appendString(symbols.name(file), to: &text)
            }
        }
        if let line = frame.line(symbols) {
            text.append(contentsOf: Array(",\"line\":".utf8))
            if line < 0 { text.append(UInt8(ascii: "-")) }
            JSONText.appendDecimal(UInt64(line.magnitude), to: &text)
        }
        text.append(UInt8(ascii: "}"))
        return text
    }

    private func newFrame(_ kind: FrameKind, _ text: [UInt8]) -> Int32 {
        frameKinds.append(kind)
        let start = frameBytes.count
        frameBytes.append(contentsOf: text)
        frameText.append(start..<frameBytes.count)
        return Int32(frameKinds.count - 1)
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
        for index in frameKinds.indices {
            put(index == 0 ? "\n" : ",\n")
            buffer.append(contentsOf: frameBytes[frameText[index]])
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
                appendPath(path)
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

    /// `[a,b,c]`: the path's root frames, then its stack's.
    @inline(__always)
    private func appendPath(_ path: Int) {
        let prefix = nodeText[Int(pathNode[path])]
        let stack = stackText[Int(pathStack[path])]!
        buffer.append(UInt8(ascii: "["))
        if stack.isEmpty {
            // No stack frames: the prefix's last comma goes.
            if !prefix.isEmpty { buffer.append(contentsOf: nodeBytes[prefix.lowerBound..<(prefix.upperBound - 1)]) }
        } else {
            buffer.append(contentsOf: nodeBytes[prefix])
            buffer.append(contentsOf: stackBytes[stack])
        }
        buffer.append(UInt8(ascii: "]"))
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
