import FlameModel

/// Writes folded stacks: one line per distinct stack, `frame;…;frame COUNT`,
/// the category levels as root frames (outermost first), then the stack's
/// frames root first, then the sum of the events' weights
/// (docs/output-formats.md, "Folded stacks").
///
/// Events are added up by (category path, stack text, sign) as they come, in
/// tables indexed by ids; the lines are written at `finish`, in the order
/// their stacks first appeared. Memory grows with the distinct category paths
/// and stacks, never with the samples: an entry is 24 bytes and a table slot,
/// a stack's text is kept once however many paths it appears under.
///
/// A negative weight counts, as a positive number, under one extra root frame
/// `negative`, or in a second file when `negativeOutput` is given (then
/// without that frame). A line whose total is 0 is not written: both
/// flamegraph.pl and inferno would draw nothing for it.
public final class FoldedSink: ProfileSink {
    public let weight: Weight
    private let output: any ByteOutput
    private let negativeOutput: (any ByteOutput)?
    private let chunk: Int

    // One thread reads and writes these, one access at a time: no runtime
    // exclusivity check on every sample.

    /// Category paths as a tree: the node of a first-level label by label id
    /// (-1: none yet), of a deeper one by (parent node, label). A path is the
    /// node of its last level.
    @exclusivity(unchecked) private var rootNodes: [Int32] = []
    @exclusivity(unchecked) private var childNodes: [UInt64: Int32] = [:]
    @exclusivity(unchecked) private var nodeParent: [Int32] = []
    @exclusivity(unchecked) private var nodeLabel: [UInt32] = []

    /// The text of each stack id (-1: not made yet). Stacks that read the same
    /// (`M:F/A:L` drops the file) share one text, so they share one line.
    @exclusivity(unchecked) private var stackTexts: [Int32] = []
    @exclusivity(unchecked) private var textIDs: [[UInt8]: Int32] = [:]
    /// By text id: the frames, root first, `;`-joined, spelled.
    @exclusivity(unchecked) private var texts: [[UInt8]] = []
    /// Spelled frame names by frame id.
    @exclusivity(unchecked) private var frameNames: [[UInt8]?] = []

    /// The entry last used for each text id: the next event of that stack is
    /// most often under the same path. Others are found by (path, text).
    @exclusivity(unchecked) private var lastEntry: [Int32] = []
    @exclusivity(unchecked) private var entryIDs: [UInt64: Int32] = [:]
    @exclusivity(unchecked) private var entryPath: [Int32] = []
    @exclusivity(unchecked) private var entryText: [Int32] = []
    /// Sums of the entry's weights at or above zero, and of the magnitudes of
    /// those below (both clamped at `Int64.max`).
    @exclusivity(unchecked) private var positive: [Int64] = []
    @exclusivity(unchecked) private var negative: [Int64] = []

    @exclusivity(unchecked) private var missing = 0
    @exclusivity(unchecked) private var written = 0
    /// About the bytes the tables above hold (`tableBytes`).
    @exclusivity(unchecked) private var heldBytes = 0
    public var tableBytes: Int { heldBytes }
    private var linesWritten = 0
    private var negativeLinesWritten = 0

    /// The root frame of negative weights in the main file.
    static let negativeFrame = Array("negative".utf8)

    /// `negativeOutput`: where lines of negative weights go (`--split-negative`);
    /// nil to write them under a `negative` root frame in `output`.
    public init(output: any ByteOutput, negativeOutput: (any ByteOutput)? = nil, weight: Weight = .samples, chunk: Int = 1 << 20) {
        self.output = output
        self.negativeOutput = negativeOutput
        self.weight = weight
        self.chunk = chunk
    }

    public func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
        guard let w = weight.of(event) else {
            if missing == 0, let metric = weight.metric { metricName = profile.catalogue[metric].name }
            missing += 1
            return
        }
        written += 1
        let path = pathNode(event.categories)
        let text = stackText(event.stack, profile)
        let entry = entry(path: path, text: text)
        if w >= 0 {
            positive[entry] = positive[entry].saturatingAdding(w)
        } else {
            negative[entry] = negative[entry].saturatingAdding(w.saturatingNegation)
        }
    }

    public func finish(_ profile: Profile) throws(OutputError) {
        var prefixes: [[UInt8]?] = Array(repeating: nil, count: nodeParent.count)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunk + 4096)
        // Every line of weights at or above zero, then every line of weights below.
        for sign in [false, true] {
            let out = sign ? (negativeOutput ?? output) : output
            let underNegative = sign && negativeOutput == nil
            for entry in entryPath.indices {
                let total = sign ? negative[entry] : positive[entry]
                guard total > 0 else { continue }
                if underNegative {
                    buffer.append(contentsOf: Self.negativeFrame)
                    buffer.append(UInt8(ascii: ";"))
                }
                buffer.append(contentsOf: prefix(Int(entryPath[entry]), profile, &prefixes))
                buffer.append(contentsOf: texts[Int(entryText[entry])])
                buffer.append(0x20)
                Self.appendDecimal(total, &buffer)
                buffer.append(0x0A)
                if sign { negativeLinesWritten += 1 } else { linesWritten += 1 }
                if buffer.count >= chunk {
                    try out.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            if !buffer.isEmpty {
                try out.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    public var notes: [String] {
        var notes: [String] = []
        if missing > 0, let metricName {
            notes.append("skipped \(missing) sample\(missing == 1 ? "" : "s"): missing \(metricName)")
        }
        if written > 0 && linesWritten + negativeLinesWritten == 0 {
            notes.append("every sample weighed 0: no folded line was written (flamegraph.pl and inferno refuse an empty input)")
        }
        return notes
    }

    /// Samples with a weight (those without one are skipped and counted).
    public var samplesWritten: Int { written }
    /// Lines written: of weights at or above zero, and of weights below.
    public var lines: (positive: Int, negative: Int) { (linesWritten, negativeLinesWritten) }
    /// Distinct (category path, stack) pairs seen.
    public var entryCount: Int { entryPath.count }

    /// The weight's metric name, kept when the first sample lacks it.
    private var metricName: String?

    // MARK: Tables

    @inline(__always)
    private func pathNode(_ categories: [UInt32]) -> Int32 {
        let first = Int(categories[0])
        if first >= rootNodes.count { rootNodes.append(contentsOf: repeatElement(-1, count: first + 1 - rootNodes.count)) }
        var node = rootNodes[first]
        if node < 0 {
            node = newNode(parent: -1, label: categories[0])
            rootNodes[first] = node
        }
        if categories.count > 1 {
            for label in categories.dropFirst() {
                let key = UInt64(UInt32(bitPattern: node)) << 32 | UInt64(label)
                if let known = childNodes[key] {
                    node = known
                } else {
                    let child = newNode(parent: node, label: label)
                    childNodes[key] = child
                    node = child
                }
            }
        }
        return node
    }

    private func newNode(parent: Int32, label: UInt32) -> Int32 {
        let node = Int32(nodeParent.count)
        nodeParent.append(parent)
        nodeLabel.append(label)
        return node
    }

    @inline(__always)
    private func stackText(_ stack: UInt32, _ profile: Profile) -> Int32 {
        let index = Int(stack)
        if index < stackTexts.count, stackTexts[index] >= 0 { return stackTexts[index] }
        if index >= stackTexts.count { stackTexts.append(contentsOf: repeatElement(-1, count: index + 1 - stackTexts.count)) }
        var text: [UInt8] = []
        for frame in profile.frames(of: stack).reversed() {
            if !text.isEmpty { text.append(UInt8(ascii: ";")) }
            text.append(contentsOf: frameName(frame, profile))
        }
        let id: Int32
        if let known = textIDs[text] {
            id = known
        } else {
            id = Int32(texts.count)
            heldBytes += 2 * text.count + 80
            texts.append(text)
            textIDs[text] = id
            lastEntry.append(-1)
        }
        stackTexts[index] = id
        return id
    }

    private func frameName(_ frame: UInt32, _ profile: Profile) -> [UInt8] {
        let index = Int(frame)
        if index < frameNames.count, let known = frameNames[index] { return known }
        if index >= frameNames.count { frameNames.append(contentsOf: repeatElement(nil, count: index + 1 - frameNames.count)) }
        let name = FoldedText.frame(Array(profile.frame(frame).displayName(profile.symbols).utf8))
        frameNames[index] = name
        heldBytes += name.count + 32
        return name
    }

    @inline(__always)
    private func entry(path: Int32, text: Int32) -> Int {
        let last = lastEntry[Int(text)]
        if last >= 0, entryPath[Int(last)] == path { return Int(last) }
        let key = UInt64(UInt32(bitPattern: path)) << 32 | UInt64(UInt32(bitPattern: text))
        let entry: Int32
        if let known = entryIDs[key] {
            entry = known
        } else {
            entry = Int32(entryPath.count)
            heldBytes += 64
            entryIDs[key] = entry
            entryPath.append(path)
            entryText.append(text)
            positive.append(0)
            negative.append(0)
        }
        lastEntry[Int(text)] = entry
        return Int(entry)
    }

    /// The category frames of a path, each followed by `;`.
    private func prefix(_ node: Int, _ profile: Profile, _ prefixes: inout [[UInt8]?]) -> [UInt8] {
        if let known = prefixes[node] { return known }
        let parent = Int(nodeParent[node])
        var out = parent >= 0 ? prefix(parent, profile, &prefixes) : []
        FoldedText.append(profile.categoryName(nodeLabel[node]), to: &out)
        out.append(UInt8(ascii: ";"))
        prefixes[node] = out
        return out
    }

    static func appendDecimal(_ value: Int64, _ out: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var magnitude = value.magnitude
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[19 - count] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: raw[(20 - count)...])
        }
    }
}
