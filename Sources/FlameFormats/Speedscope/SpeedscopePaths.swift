import FlameModel

/// The frames of a speedscope file and the paths samples take through them,
/// each kept once with its JSON text, so writing a sample is copying bytes.
///
/// A path is a prefix of root frames (a trie: the `negative` frame, then
/// category labels) and a stack, whose frames follow root first. Frames
/// written alike are one frame. Everything here grows with distinct labels,
/// stacks and frames, never with samples (`tableBytes` counts it against the
/// run's budget). A class, not a struct: the sink reads it for every sample
/// it writes, and a struct read from a class property is copied.
final class SpeedscopePaths {
    enum FrameKind: UInt8 {
        case label, code, negative
    }

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

    /// About the bytes these tables hold.
    var tableBytes: Int {
        2 * frameBytes.count + nodeBytes.count + stackBytes.count
            + 24 * (frameText.count + nodeText.count + stackText.count) + 40 * (children.count + leaves.count + codeFrameByText.count)
            + 8 * (pathNode.count + pathStack.count + labelFrames.count + codeFrames.count)
    }

    /// The node of the `negative` root frame, made on first use.
    func negativeRootNode() -> Int32 {
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

    /// The node under `node` whose last root frame is the category `label`.
    @inline(__always)
    func child(_ node: Int32, label: UInt32, _ profile: Profile) -> Int32 {
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

    /// The path id of `stack` under the root frames of `node`.
    @inline(__always)
    func leaf(_ node: Int32, stack: UInt32, _ profile: Profile) -> UInt32 {
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

    /// Frame `index` as its JSON object.
    func appendFrame(_ index: Int, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: frameBytes[frameText[index]])
    }

    /// `[a,b,c]`: the path's root frames, then its stack's.
    @inline(__always)
    func appendPath(_ path: Int, to buffer: inout [UInt8]) {
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
}
