import FlameModel
import SwiftProtobuf

/// Writes pprof's `profile.proto` (docs/output-formats.md, "pprof").
///
/// Samples stream: each one is encoded as it comes, as a `sample` field
/// (number 2) of the Profile message, into a reused buffer drained to
/// `output` in chunks. At `finish` the rest of the Profile follows as one
/// more serialized message: value types, string table, functions, locations,
/// times. A protobuf reader merges a message's parts wherever they stand, so
/// the bytes are one Profile. Memory grows with the distinct stacks, frames,
/// processes and labels, never with the samples.
///
/// Samples are encoded here, field by field, rather than through a
/// swift-protobuf `Sample`: a message per sample costs several allocations,
/// and a stack's location ids are the same bytes every time, so they are
/// encoded once per stack. The tests check these bytes against swift-protobuf's
/// encoding of the same `Sample`.
public final class PprofSink: ProfileSink {
    private let layout: PprofLayout
    private let weight: Weight
    /// What each value column reads (the layout's, without its names: no
    /// reference counting per sample).
    private let sources: [Weight]
    private let output: any ByteOutput
    private let chunk: Int

    // One thread reads and writes these, one access at a time: no runtime
    // exclusivity check on every sample.
    @exclusivity(unchecked) private var strings = PprofStrings()
    @exclusivity(unchecked) private var buffer: [UInt8] = []

    /// About the bytes the tables of distinct strings, stacks and frames hold.
    public var tableBytes: Int {
        strings.byteEstimate + stackBytes.count + 16 * stackFields.count + usedFrames.count
            + 4 * (nameStrings.count + categoryStrings.count) + 8 * pidSlots.count
    }
    /// Per stack id: its `location_id` field, a range of `stackBytes`; `notMade` until first used.
    @exclusivity(unchecked) private var stackFields: [Range<Int>] = []
    @exclusivity(unchecked) private var stackBytes: [UInt8] = []
    /// Per frame id: whether a sample used it (its location is written at the end).
    @exclusivity(unchecked) private var usedFrames: [Bool] = []
    /// String indexes by id: of atoms (`Symbols.names`), of category labels;
    /// `unknown` when not looked up yet.
    @exclusivity(unchecked) private var nameStrings: [UInt32] = []
    @exclusivity(unchecked) private var categoryStrings: [UInt32] = []
    /// Per pid number: the serial and string index of the last pid seen with it.
    @exclusivity(unchecked) private var pidSlots: [(serial: UInt32, string: UInt32)] = []
    /// String indexes of the label keys.
    private var levelKeys: [UInt32] = []
    private var pidKey: UInt32 = 0
    private var statusKey: UInt32 = 0
    private var registeredNameKey: UInt32 = 0
    private var timeKey: UInt32 = 0
    private var timeUnit: UInt32 = 0
    /// Where one sample is put together: values, then labels (key, str).
    @exclusivity(unchecked) private var values: [Int64]
    @exclusivity(unchecked) private var labels: [(key: UInt32, string: UInt32)] = []
    private let scratch = SampleScratch()

    @exclusivity(unchecked) private var startMicros: Int64?
    @exclusivity(unchecked) private var endMicros: Int64 = 0
    /// Samples left out: they lack the weight's metric.
    @exclusivity(unchecked) private var skipped = 0
    private let missingReason: String
    /// Per metric id: samples written with 0 in that metric's column (they lack it).
    @exclusivity(unchecked) private var zeroFilled = [Int](repeating: 0, count: MetricCatalogue.capacity)
    @exclusivity(unchecked) private var written = 0

    private static let unknown = UInt32.max
    /// A stack whose field is not made yet.
    private static let notMade = -1..<(-1)
    private static let pidSlotLimit = 1 << 20

    /// `weight`: the default value column, and what a sample must have to be
    /// written. `metrics`: one more column each (nil: the weight's metric).
    /// `levelSpecs`: the run's category levels, each a label key.
    public init(output: any ByteOutput, weight: Weight, metrics: [MetricID]?, catalogue: MetricCatalogue, levelSpecs: [String],
                chunk: Int = 1 << 20) {
        layout = PprofLayout(weight: weight, metrics: metrics, catalogue: catalogue, levelSpecs: levelSpecs)
        self.weight = weight
        sources = layout.columns.map(\.source)
        missingReason = "missing \(weight.metric.map { catalogue[$0].name } ?? "samples")"
        self.output = output
        self.chunk = chunk
        values = Array(repeating: 0, count: layout.columns.count)
        levelKeys = layout.levelKeys.map { strings.intern($0) }
        pidKey = strings.intern("pid")
        statusKey = strings.intern("status")
        registeredNameKey = strings.intern("registered_name")
        timeKey = strings.intern(PprofLayout.timeKey)
        timeUnit = strings.intern(PprofLayout.timeUnit)
        buffer.reserveCapacity(chunk + (1 << 16))
    }

    public func beginTick(wallMicros: Int64, capture: Int, in profile: Profile) throws(OutputError) {
        noteTime(wallMicros)
    }

    public func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
        guard weight.of(event) != nil else {
            skipped += 1
            return
        }
        noteTime(event.wallMicros)
        let stack = stackField(event.stack, profile)

        // Values, and the size of their packed field.
        let present = event.metrics.present
        var valuesSize = 0
        for (index, source) in sources.enumerated() {
            let value: Int64
            switch source {
            case .samples:
                value = 1
            case .value(let id):
                if present.contains(id) { value = event.metrics.values[id.index] } else { value = 0; zeroFilled[id.index] += 1 }
            case .delta(let id):
                if present.contains(id) { value = event.metrics.deltas[id.index] } else { value = 0; zeroFilled[id.index] += 1 }
            }
            values[index] = value
            valuesSize += ProtoWire.varintSize(value)
        }

        // Labels: the process, then one per category level.
        labels.removeAll(keepingCapacity: true)
        let sample = event.sample
        if layout.pidLabel { labels.append((pidKey, pidString(sample.pidNumber, sample.pidSerial))) }
        if layout.statusLabel, sample.status != Symbols.none { labels.append((statusKey, nameString(sample.status, profile))) }
        if layout.registeredNameLabel, sample.registeredName != Symbols.none {
            labels.append((registeredNameKey, nameString(sample.registeredName, profile)))
        }
        for (level, label) in event.categories.enumerated() where level < levelKeys.count {
            labels.append((levelKeys[level], categoryString(label, profile)))
        }
        let time = event.wallMicros &- (startMicros ?? event.wallMicros)

        // The sample's size: location ids, values, labels.
        var bodySize = stack.count + 1 + ProtoWire.varintSize(UInt64(valuesSize)) + valuesSize
        for label in labels {
            let size = Self.labelSize(label)
            bodySize += 1 + ProtoWire.varintSize(UInt64(size)) + size
        }
        let timeSize = Self.timeLabelSize(key: timeKey, time: time, unit: timeUnit)
        bodySize += 1 + ProtoWire.varintSize(UInt64(timeSize)) + timeSize

        scratch.reserve(bodySize + 16)
        var p = scratch.base
        p.put(ProtoWire.lengthTag(2))
        p.putVarint(UInt64(bodySize))
        stackBytes.withUnsafeBufferPointer { p.put(UnsafeBufferPointer(rebasing: $0[stack])) }
        p.put(ProtoWire.lengthTag(2))
        p.putVarint(UInt64(valuesSize))
        for value in values { p.putVarint(value) }
        for label in labels {
            p.put(ProtoWire.lengthTag(3))
            p.putVarint(UInt64(Self.labelSize(label)))
            p.put(ProtoWire.varintTag(1))
            p.putVarint(UInt64(label.key))
            if label.string != 0 {
                p.put(ProtoWire.varintTag(2))
                p.putVarint(UInt64(label.string))
            }
        }
        p.put(ProtoWire.lengthTag(3))
        p.putVarint(UInt64(timeSize))
        p.put(ProtoWire.varintTag(1))
        p.putVarint(UInt64(timeKey))
        if time != 0 {
            p.put(ProtoWire.varintTag(3))
            p.putVarint(time)
        }
        p.put(ProtoWire.varintTag(4))
        p.putVarint(UInt64(timeUnit))
        buffer.append(contentsOf: UnsafeBufferPointer(start: scratch.base, count: p - scratch.base))
        written += 1
        if buffer.count >= chunk { try drain() }
    }

    public func finish(_ profile: Profile) throws(OutputError) {
        var message = Perftools_Profiles_Profile()
        message.sampleType = layout.columns.map { column in
            var type = Perftools_Profiles_ValueType()
            type.type = Int64(strings.intern(column.name))
            type.unit = Int64(strings.intern(column.unit))
            return type
        }
        message.defaultSampleType = message.sampleType[layout.defaultColumn].type
        var code = PprofCode()
        code.build(used: usedFrames, profile: profile, strings: &strings)
        message.function = code.functions
        message.location = code.locations
        message.mapping = code.mappings
        if let startMicros {
            message.timeNanos = startMicros.multipliedReportingOverflow(by: 1000).partialValue
            message.durationNanos = (endMicros &- startMicros).multipliedReportingOverflow(by: 1000).partialValue
        }
        let keys = layout.levelKeys.joined(separator: ",")
        message.comment = [
            Int64(strings.intern("flameconv: categories \(keys); -tagroot=\(keys) puts them at the root, as in the other formats")),
        ]
        message.stringTable = strings.strings
        do {
            let bytes: [UInt8] = try message.serializedBytes()
            buffer.append(contentsOf: bytes)
        } catch {
            throw .failed(path: "pprof profile", message: "cannot encode the profile: \(error)")
        }
        try drain()
    }

    public var notes: [String] {
        var notes: [String] = []
        if skipped > 0 { notes.append("skipped \(skipped) sample\(skipped == 1 ? "" : "s"): \(missingReason)") }
        for column in layout.columns {
            guard let metric = column.source.metric, column.source != weight, zeroFilled[metric.index] > 0 else { continue }
            let count = zeroFilled[metric.index]
            notes.append("\(count) sample\(count == 1 ? "" : "s") without \(column.name) count 0 in pprof's \(column.name) values")
        }
        return notes
    }

    public var samplesWritten: Int { written }

    /// The value columns' names (`sample_type`), in order.
    var columnNames: [String] { layout.columns.map(\.name) }
    /// What each value column reads from an event.
    var layoutColumns: [Weight] { layout.columns.map(\.source) }

    // MARK: Parts

    private func noteTime(_ wallMicros: Int64) {
        if startMicros == nil { startMicros = wallMicros }
        endMicros = max(endMicros, wallMicros)
    }

    private func drain() throws(OutputError) {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytesTyped { (raw: UnsafeRawBufferPointer) throws(OutputError) in try output.write(raw) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// A stack's `location_id` field (packed, leaf first), made on first use.
    private func stackField(_ stack: UInt32, _ profile: Profile) -> Range<Int> {
        let index = Int(stack)
        if index < stackFields.count, stackFields[index].lowerBound >= 0 { return stackFields[index] }
        if index >= stackFields.count { stackFields.append(contentsOf: repeatElement(Self.notMade, count: index + 1 - stackFields.count)) }
        var ids: [UInt8] = []
        for frame in profile.frames(of: stack) {
            let id = Int(frame)
            if id >= usedFrames.count { usedFrames.append(contentsOf: repeatElement(false, count: id + 1 - usedFrames.count)) }
            usedFrames[id] = true
            ProtoWire.appendVarint(UInt64(id) + 1, to: &ids)
        }
        if stackBytes.count + ids.count + 16 > Self.stackCacheLimit {
            // Dumps whose stacks rarely repeat would grow the cache without
            // end; start it over instead (its capacity is kept).
            for i in stackFields.indices { stackFields[i] = Self.notMade }
            stackBytes.removeAll(keepingCapacity: true)
        }
        let start = stackBytes.count
        // An empty stack has no field at all, as swift-protobuf writes it.
        if !ids.isEmpty {
            stackBytes.append(ProtoWire.lengthTag(1))
            ProtoWire.appendVarint(UInt64(ids.count), to: &stackBytes)
            stackBytes.append(contentsOf: ids)
        }
        stackFields[index] = start..<stackBytes.count
        return stackFields[index]
    }

    private func nameString(_ id: UInt32, _ profile: Profile) -> UInt32 {
        let index = Int(id)
        if index < nameStrings.count, nameStrings[index] != Self.unknown { return nameStrings[index] }
        if index >= nameStrings.count { nameStrings.append(contentsOf: repeatElement(Self.unknown, count: index + 1 - nameStrings.count)) }
        let string = strings.intern(profile.symbols.name(id))
        nameStrings[index] = string
        return string
    }

    private func categoryString(_ label: UInt32, _ profile: Profile) -> UInt32 {
        let index = Int(label)
        if index < categoryStrings.count, categoryStrings[index] != Self.unknown { return categoryStrings[index] }
        if index >= categoryStrings.count { categoryStrings.append(contentsOf: repeatElement(Self.unknown, count: index + 1 - categoryStrings.count)) }
        let string = strings.intern(profile.categoryName(label))
        categoryStrings[index] = string
        return string
    }

    private func pidString(_ number: UInt32, _ serial: UInt32) -> UInt32 {
        let index = Int(number)
        if index < pidSlots.count, pidSlots[index].serial == serial, pidSlots[index].string != Self.unknown { return pidSlots[index].string }
        let string = strings.intern("<0.\(number).\(serial)>")
        if index < Self.pidSlotLimit {
            if index >= pidSlots.count { pidSlots.append(contentsOf: repeatElement((serial: UInt32(0), string: Self.unknown), count: index + 1 - pidSlots.count)) }
            pidSlots[index] = (serial, string)
        }
        return string
    }

    @inline(__always)
    private static func labelSize(_ label: (key: UInt32, string: UInt32)) -> Int {
        1 + ProtoWire.varintSize(UInt64(label.key)) + (label.string == 0 ? 0 : 1 + ProtoWire.varintSize(UInt64(label.string)))
    }

    @inline(__always)
    private static func timeLabelSize(key: UInt32, time: Int64, unit: UInt32) -> Int {
        1 + ProtoWire.varintSize(UInt64(key)) + (time == 0 ? 0 : 1 + ProtoWire.varintSize(time)) + 1 + ProtoWire.varintSize(UInt64(unit))
    }

    /// Bytes of `location_id` fields kept; real captures' stacks fit many times over.
    static let stackCacheLimit = 4 << 20
}
