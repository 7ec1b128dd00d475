/// Prints a term the way Erlang's `io:format("~w", [Term])` does.
///
/// The walk is iterative, with an explicit list of steps, so nesting depth costs
/// heap, not machine stack. Output goes into a byte buffer that the caller's
/// `flush` empties whenever it passes `flushThreshold`, so a 64 MiB binary does
/// not become a 256 MiB string in memory.
public struct TermPrinter: Sendable {
    /// How characters 128 to 255 (in atoms) reach the output. `~w` never emits
    /// characters above 255: it escapes them as `\x{...}`.
    public enum Encoding: String, Sendable, CaseIterable {
        /// One byte each: what OTP 25's `io:format` writes to a standard_io in
        /// Latin-1 mode, the default under `erl -noshell`.
        case latin1
        /// Two bytes each: what a Unicode-mode standard_io writes (OTP 26+ in a UTF-8 locale).
        case utf8
    }

    public var encoding: Encoding
    /// The node whose pids, ports and references print as local (`<0.85.0>`).
    /// Others cannot be printed as a node prints them (the first number is a
    /// channel number that only that node knows), so they show their node name
    /// in its place: `<foo@bar.85.0>`.
    public var localNode: String {
        didSet { localNodeUTF8 = Array(localNode.utf8) }
    }
    public var flushThreshold = 1 << 20

    private var localNodeUTF8: [UInt8]

    public init(encoding: Encoding = .latin1, localNode: String = "nonode@nohost") {
        self.encoding = encoding
        self.localNode = localNode
        self.localNodeUTF8 = Array(localNode.utf8)
    }

    /// What is still to print, innermost last.
    private enum Step {
        case node(Int)
        case character(UInt8)
        case arrow
        /// `left` more tuple elements, the next one at node `next`.
        case tupleRest(next: Int, left: Int)
        /// `left` more elements of the current list node, then its tail at the end.
        case listRest(next: Int, left: Int)
        /// Pair `position` onward of a map, in key order.
        ///
        /// Maps of up to 32 keys print in this order on every OTP release. Larger
        /// ones print in the node's internal hash order, which depends on the
        /// node's atom table and is not even stable between runs on OTP 25, so
        /// they print in key order too: the same text for the same map, always.
        case mapRest(map: Int, position: Int)
    }

    /// Appends `~w` of the whole term, without a newline.
    public func print<E: Error>(_ term: Term, into out: inout [UInt8], flush: (inout [UInt8]) throws(E) -> Void) throws(E) {
        try print(term, node: term.root, into: &out, flush: flush)
    }

    /// Appends `~w` of the subterm at `node`.
    public func print<E: Error>(_ term: Term, node: Int, into out: inout [UInt8], flush: (inout [UInt8]) throws(E) -> Void) throws(E) {
        var steps: [Step] = [.node(node)]
        while let step = steps.popLast() {
            switch step {
            case .node(let index):
                try printNode(term, index, &steps, &out, flush)
            case .character(let c):
                out.append(c)
            case .arrow:
                out.append(contentsOf: [0x20, 0x3D, 0x3E, 0x20])  // " => "
            case .tupleRest(let next, let left):
                if left == 0 {
                    out.append(UInt8(ascii: "}"))
                } else {
                    out.append(UInt8(ascii: ","))
                    steps.append(.tupleRest(next: Int(term.nodes[next].end), left: left - 1))
                    steps.append(.node(next))
                }
            case .listRest(let next, let left):
                if left > 0 {
                    out.append(UInt8(ascii: ","))
                    steps.append(.listRest(next: Int(term.nodes[next].end), left: left - 1))
                    steps.append(.node(next))
                } else {
                    continueList(term, tail: next, &steps, &out)
                }
            case .mapRest(let map, let position):
                let count = Int(term.nodes[map].count)
                if position == count {
                    out.append(UInt8(ascii: "}"))
                    continue
                }
                if position > 0 { out.append(UInt8(ascii: ",")) }
                let key = Int(term.mapKeyOrder[Int(term.nodes[map].aux) + position])
                let value = Int(term.nodes[key].end)
                steps.append(.mapRest(map: map, position: position + 1))
                steps.append(.node(value))
                steps.append(.arrow)
                steps.append(.node(key))
            }
            if out.count >= flushThreshold { try flush(&out) }
        }
    }

    private func printNode<E: Error>(_ term: Term, _ index: Int, _ steps: inout [Step], _ out: inout [UInt8], _ flush: (inout [UInt8]) throws(E) -> Void) throws(E) {
        let node = term.nodes[index]
        switch node.kind {
        case .integer:
            DecimalFormatting.append(Int64(bitPattern: node.value), to: &out)
        case .bigInteger:
            DecimalFormatting.appendBig(negative: node.flags == 1, magnitude: term.payload(of: index), to: &out)
        case .float:
            FloatFormatting.append(Double(bitPattern: node.value), to: &out)
        case .atom:
            AtomFormatting.append(term, atom: index, encoding: encoding, to: &out)
        case .tuple:
            out.append(UInt8(ascii: "{"))
            if node.count == 0 {
                out.append(UInt8(ascii: "}"))
            } else {
                steps.append(.tupleRest(next: Int(term.nodes[index + 1].end), left: Int(node.count) - 1))
                steps.append(.node(index + 1))
            }
        case .emptyList:
            out.append(contentsOf: [UInt8(ascii: "["), UInt8(ascii: "]")])
        case .list:
            out.append(UInt8(ascii: "["))
            steps.append(.listRest(next: Int(term.nodes[index + 1].end), left: Int(node.count) - 1))
            steps.append(.node(index + 1))
        case .byteList:
            out.append(UInt8(ascii: "["))
            try appendBytes(term.payload(of: index), &out, flush)
            out.append(UInt8(ascii: "]"))
        case .binary:
            out.append(contentsOf: [UInt8(ascii: "<"), UInt8(ascii: "<")])
            try appendBytes(term.payload(of: index), &out, flush)
            out.append(contentsOf: [UInt8(ascii: ">"), UInt8(ascii: ">")])
        case .bitstring:
            let bytes = term.payload(of: index)
            out.append(contentsOf: [UInt8(ascii: "<"), UInt8(ascii: "<")])
            try appendBytes(bytes.dropLast(), &out, flush)
            if bytes.count > 1 { out.append(UInt8(ascii: ",")) }
            let bits = node.flags
            DecimalFormatting.append(Int64(bytes.last! >> (8 - bits)), to: &out)
            out.append(UInt8(ascii: ":"))
            DecimalFormatting.append(Int64(bits), to: &out)
            out.append(contentsOf: [UInt8(ascii: ">"), UInt8(ascii: ">")])
        case .map:
            out.append(contentsOf: [UInt8(ascii: "#"), UInt8(ascii: "{")])
            steps.append(.mapRest(map: index, position: 0))
        case .pid:
            out.append(UInt8(ascii: "<"))
            appendNodePrefix(term, node: index + 1, &out)
            DecimalFormatting.append(Int64(node.value >> 32), to: &out)
            out.append(UInt8(ascii: "."))
            DecimalFormatting.append(Int64(node.value & 0xFFFF_FFFF), to: &out)
            out.append(UInt8(ascii: ">"))
        case .port:
            out.append(contentsOf: Array("#Port<".utf8))
            appendNodePrefix(term, node: index + 1, &out)
            DecimalFormatting.append(UInt64: node.value, to: &out)
            out.append(UInt8(ascii: ">"))
        case .reference:
            out.append(contentsOf: Array("#Ref<".utf8))
            let local = appendNodePrefix(term, node: index + 1, &out)
            var words = term.referenceWords(index)
            // The node pads a reference to its three words only when it takes the
            // reference as its own: same name AND its current creation. That
            // creation is known only for nonode@nohost (0); with a named node's
            // name a short reference reads as another incarnation's, printed as it is.
            if local && words.count < 3 && node.aux == 0 && localNodeUTF8.elementsEqual("nonode@nohost".utf8) {
                words.append(contentsOf: repeatElement(0, count: 3 - words.count))
            }
            for (i, word) in words.reversed().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ".")) }
                DecimalFormatting.append(Int64(word), to: &out)
            }
            out.append(UInt8(ascii: ">"))
        case .localFun:
            // #Fun<Module.OldIndex.OldUniq>. io_lib asks the runtime for this text,
            // which writes the module's UTF-8 bytes as they are, never quoted.
            let module = index + 1
            let oldIndex = Int(term.nodes[module].end)
            let oldUniq = Int(term.nodes[oldIndex].end)
            out.append(contentsOf: Array("#Fun<".utf8))
            RuntimeAtomFormatting.appendUTF8(term, atom: module, to: &out)
            out.append(UInt8(ascii: "."))
            printNumberChild(term, oldIndex, &out)
            out.append(UInt8(ascii: "."))
            printNumberChild(term, oldUniq, &out)
            out.append(UInt8(ascii: ">"))
        case .export:
            let module = index + 1
            let function = Int(term.nodes[module].end)
            let arity = Int(term.nodes[function].end)
            // The runtime writes export funs too, with its own quoting rules.
            out.append(contentsOf: Array("fun ".utf8))
            RuntimeAtomFormatting.append(term, atom: module, to: &out)
            out.append(UInt8(ascii: ":"))
            RuntimeAtomFormatting.append(term, atom: function, to: &out)
            out.append(UInt8(ascii: "/"))
            printNumberChild(term, arity, &out)
        }
    }

    /// After a list node's last element: close it, or go on into a tail that is itself a list.
    private func continueList(_ term: Term, tail: Int, _ steps: inout [Step], _ out: inout [UInt8]) {
        let node = term.nodes[tail]
        switch node.kind {
        case .emptyList:
            out.append(UInt8(ascii: "]"))
        case .list:
            out.append(UInt8(ascii: ","))
            steps.append(.listRest(next: Int(term.nodes[tail + 1].end), left: Int(node.count) - 1))
            steps.append(.node(tail + 1))
        case .byteList:
            out.append(UInt8(ascii: ","))
            for (i, byte) in term.payload(of: tail).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                DecimalFormatting.append(Int64(byte), to: &out)
            }
            out.append(UInt8(ascii: "]"))
        default:
            out.append(UInt8(ascii: "|"))
            steps.append(.character(UInt8(ascii: "]")))
            steps.append(.node(tail))
        }
    }

    private func printNumberChild(_ term: Term, _ index: Int, _ out: inout [UInt8]) {
        if term.nodes[index].kind == .integer {
            DecimalFormatting.append(Int64(bitPattern: term.nodes[index].value), to: &out)
        }
    }

    /// `0.` for the local node, else the node's name and a dot. Returns whether it is local.
    @discardableResult
    private func appendNodePrefix(_ term: Term, node: Int, _ out: inout [UInt8]) -> Bool {
        let name = term.payload(of: node)
        let local: Bool
        if term.nodes[node].flags == 1 || name.allSatisfy({ $0 < 0x80 }) {
            local = name.elementsEqual(localNodeUTF8)
        } else {
            // Latin-1 bytes (ATOM_EXT, SMALL_ATOM_EXT) with characters past ASCII: compare as UTF-8.
            local = term.atomText(node).utf8.elementsEqual(localNodeUTF8)
        }
        if local {
            out.append(UInt8(ascii: "0"))
        } else {
            AtomFormatting.append(term, atom: node, encoding: encoding, to: &out)
        }
        out.append(UInt8(ascii: "."))
        return local
    }

    /// `1,2,3`: the bytes of a binary or byte list, flushing as it goes.
    private func appendBytes<E: Error>(_ bytes: ArraySlice<UInt8>, _ out: inout [UInt8], _ flush: (inout [UInt8]) throws(E) -> Void) throws(E) {
        var first = true
        for byte in bytes {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            DecimalFormatting.appendByte(byte, to: &out)
            if out.count >= flushThreshold { try flush(&out) }
        }
    }
}
