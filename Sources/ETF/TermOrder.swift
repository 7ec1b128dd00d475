/// Erlang's map key order, the order `~w` prints map keys in:
/// number < atom < reference < fun < port < pid < tuple < map < [] < list < bitstring,
/// with every integer before every float, at any depth. Equal under it means
/// exactly equal (`=:=`), which is what duplicate keys are checked with.
///
/// Comparison is iterative, with an explicit work list, so deep terms cannot
/// exhaust the machine stack. Maps compare through the key order recorded when
/// they were decoded, so comparing never sorts.
extension Term {
    /// One side of a pending comparison: a node, a byte of a STRING_EXT list, or
    /// the unseen rest of a list that is longer than the other side.
    enum Operand {
        case node(Int)
        case byte(UInt8)
        case nonEmptyListRest
        case emptyList
    }

    /// -1, 0 or 1 as node `a` sorts before, is exactly equal to, or sorts after node `b`.
    public func compare(_ a: Int, _ b: Int) -> Int {
        // Most map keys are atoms or numbers: answer those without the work list.
        let ra = rank(nodes[a].kind), rb = rank(nodes[b].kind)
        if ra != rb { return ra < rb ? -1 : 1 }
        if let result = compareFlat(a, b) { return result }
        var work: [(Operand, Operand)] = [(.node(a), .node(b))]
        while let (x, y) = work.popLast() {
            let result = step(x, y, &work)
            if result != 0 { return result }
        }
        return 0
    }

    private func rank(_ kind: TermKind) -> Int {
        switch kind {
        case .integer, .bigInteger, .float: return 0
        case .atom: return 1
        case .reference: return 2
        case .localFun, .export: return 3
        case .port: return 4
        case .pid: return 5
        case .tuple: return 6
        case .map: return 7
        case .emptyList: return 8
        case .list, .byteList: return 9
        case .binary, .bitstring: return 10
        }
    }

    private func rank(_ operand: Operand) -> Int {
        switch operand {
        case .node(let index): return rank(nodes[index].kind)
        case .byte: return 0
        case .nonEmptyListRest: return 9
        case .emptyList: return 8
        }
    }

    /// Compares one pair, queueing the pairs of their children; 0 means "equal so far".
    private func step(_ x: Operand, _ y: Operand, _ work: inout [(Operand, Operand)]) -> Int {
        let rx = rank(x), ry = rank(y)
        if rx != ry { return rx < ry ? -1 : 1 }
        switch (x, y) {
        case (.byte(let p), .byte(let q)):
            return p == q ? 0 : (p < q ? -1 : 1)
        case (.byte(let p), .node(let n)):
            return compare(.int(Int64(p)), numberView(n))
        case (.node(let n), .byte(let q)):
            return compare(numberView(n), .int(Int64(q)))
        case (.node(let a), .node(let b)):
            if let flat = compareFlat(a, b) { return flat }
            return queueChildren(a, b, &work)
        default:
            // Both are [] (a list's end against an empty-list node), the only
            // same-rank pair left: the rest of a longer list only ever meets a tail
            // that is not a list.
            return 0
        }
    }

    /// The comparison of two nodes of the same rank that need no children; nil for containers.
    private func compareFlat(_ a: Int, _ b: Int) -> Int? {
        let na = nodes[a], nb = nodes[b]
        switch (na.kind, nb.kind) {
        case (.integer, _), (.bigInteger, _), (.float, _):
            return compare(numberView(a), numberView(b))
        case (.atom, .atom):
            return compareAtoms(a, b)
        case (.binary, _), (.bitstring, _):
            return compareBitstrings(a, b)
        case (.emptyList, .emptyList):
            return 0
        default:
            return nil
        }
    }

    private func queueChildren(_ a: Int, _ b: Int, _ work: inout [(Operand, Operand)]) -> Int {
        let na = nodes[a], nb = nodes[b]
        switch na.kind {
        case .tuple:
            if na.count != nb.count { return na.count < nb.count ? -1 : 1 }
            let ca = children(of: a), cb = children(of: b)
            for i in ca.indices.reversed() { work.append((.node(ca[i]), .node(cb[i]))) }
        case .map:
            if na.count != nb.count { return na.count < nb.count ? -1 : 1 }
            // Keys in term order first, then the values in that key order.
            let ka = sortedMapKeys(a), kb = sortedMapKeys(b)
            for i in ka.indices.reversed() {
                work.append((.node(Int(nodes[ka[i]].end)), .node(Int(nodes[kb[i]].end))))
            }
            for i in ka.indices.reversed() { work.append((.node(ka[i]), .node(kb[i]))) }
        case .list, .byteList:
            let (ea, ta) = listElements(a), (eb, tb) = listElements(b)
            let common = min(ea.count, eb.count)
            let restA: Operand = ea.count > common ? .nonEmptyListRest : ta
            let restB: Operand = eb.count > common ? .nonEmptyListRest : tb
            work.append((restA, restB))
            for i in (0..<common).reversed() { work.append((ea[i], eb[i])) }
        case .pid:
            // Local pids order by serial then number; the BEAM puts the number before the node.
            let (ia, sa) = (na.value >> 32, na.value & 0xFFFF_FFFF)
            let (ib, sb) = (nb.value >> 32, nb.value & 0xFFFF_FFFF)
            if sa != sb { return sa < sb ? -1 : 1 }
            if ia != ib { return ia < ib ? -1 : 1 }
            if let byNode = nonZero(compareAtoms(a + 1, b + 1)) { return byNode }
            return na.aux == nb.aux ? 0 : (na.aux < nb.aux ? -1 : 1)
        case .port:
            if na.value != nb.value { return na.value < nb.value ? -1 : 1 }
            if let byNode = nonZero(compareAtoms(a + 1, b + 1)) { return byNode }
            return na.aux == nb.aux ? 0 : (na.aux < nb.aux ? -1 : 1)
        case .reference:
            if let byNode = nonZero(compareAtoms(a + 1, b + 1)) { return byNode }
            // The last id word is the most significant, as in the printed form.
            let wa = referenceWords(a), wb = referenceWords(b)
            if wa.count != wb.count { return wa.count < wb.count ? -1 : 1 }
            for (p, q) in zip(wa.reversed(), wb.reversed()) where p != q { return p < q ? -1 : 1 }
            return na.aux == nb.aux ? 0 : (na.aux < nb.aux ? -1 : 1)
        case .localFun, .export:
            // Local funs sort before export funs, as on the BEAM.
            if na.kind != nb.kind { return na.kind == .localFun ? -1 : 1 }
            let ca = children(of: a), cb = children(of: b)
            if ca.count != cb.count { return ca.count < cb.count ? -1 : 1 }
            for i in ca.indices.reversed() { work.append((.node(ca[i]), .node(cb[i]))) }
        default:
            return 0
        }
        return 0
    }

    private func nonZero(_ value: Int) -> Int? { value == 0 ? nil : value }

    /// A list's elements in order, following tails that are lists, and its final tail.
    func listElements(_ index: Int) -> ([Operand], Operand) {
        var elements: [Operand] = []
        var current = index
        while true {
            let node = nodes[current]
            switch node.kind {
            case .byteList:
                for byte in payload(of: current) { elements.append(.byte(byte)) }
                return (elements, .emptyList)
            case .list:
                var child = current + 1
                for _ in 0..<node.count {
                    elements.append(.node(child))
                    child = Int(nodes[child].end)
                }
                current = child  // the tail
            case .emptyList:
                return (elements, .emptyList)
            default:
                return (elements, .node(current))
            }
        }
    }

    func sortedMapKeys(_ index: Int) -> ArraySlice<Int> {
        let start = Int(nodes[index].aux)
        return ArraySlice(mapKeyOrder[start..<(start + Int(nodes[index].count))].map { Int($0) })
    }

    func referenceWords(_ index: Int) -> [UInt32] {
        let bytes = payload(of: index)
        var words: [UInt32] = []
        var i = bytes.startIndex
        while i + 3 < bytes.endIndex {
            words.append(UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3]))
            i += 4
        }
        return words
    }
}
