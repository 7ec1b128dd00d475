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
            // Unlike pids, ports order by node (name, then creation) before their number.
            if let byNode = nonZero(compareNodes(a, b)) { return byNode }
            return na.value == nb.value ? 0 : (na.value < nb.value ? -1 : 1)
        case .reference:
            if let byNode = nonZero(compareNodes(a, b)) { return byNode }
            // The ids are one number, the last word the most significant (as printed);
            // missing high words count as zero, so [5] and [5,0,0] are the same reference.
            let wa = referenceWords(a), wb = referenceWords(b)
            for i in stride(from: max(wa.count, wb.count) - 1, through: 0, by: -1) {
                let p = i < wa.count ? wa[i] : 0, q = i < wb.count ? wb[i] : 0
                if p != q { return p < q ? -1 : 1 }
            }
            return 0
        case .localFun, .export:
            // Local funs sort before export funs, as on the BEAM.
            if na.kind != nb.kind { return na.kind == .localFun ? -1 : 1 }
            if na.kind == .localFun { return queueLocalFun(a, b, &work) }
            let ca = children(of: a), cb = children(of: b)
            for i in ca.indices.reversed() { work.append((.node(ca[i]), .node(cb[i]))) }
        default:
            return 0
        }
        return 0
    }

    private func nonZero(_ value: Int) -> Int? { value == 0 ? nil : value }

    /// The node of a pid, port or reference (its first child): by name, then by creation.
    private func compareNodes(_ a: Int, _ b: Int) -> Int {
        if let byName = nonZero(compareAtoms(a + 1, b + 1)) { return byName }
        let ca = nodes[a].aux, cb = nodes[b].aux
        return ca == cb ? 0 : (ca < cb ? -1 : 1)
    }

    /// Local funs as OTP 25 orders them: module, then the Index field, then the old
    /// uniq, then the number of free variables, then the free variables. The old
    /// index, the 16-byte uniq, the arity and the creator pid take no part (funs
    /// differing only there are equal). Index and old uniq compare by the sign of
    /// their 32-bit wrapping difference, as the BEAM's C code does, so 1 sorts
    /// after 0xFFFFFFFF.
    private func queueLocalFun(_ a: Int, _ b: Int, _ work: inout [(Operand, Operand)]) -> Int {
        if let byModule = nonZero(compareAtoms(a + 1, b + 1)) { return byModule }
        func wrapped(_ x: UInt32, _ y: UInt32) -> Int {
            let difference = Int32(bitPattern: x &- y)
            return difference == 0 ? 0 : (difference < 0 ? -1 : 1)
        }
        if let byIndex = nonZero(wrapped(UInt32(truncatingIfNeeded: nodes[a].value), UInt32(truncatingIfNeeded: nodes[b].value))) {
            return byIndex
        }
        let uniqA = child(2, of: a), uniqB = child(2, of: b)
        let ua = UInt32(truncatingIfNeeded: integerValue(uniqA) ?? 0), ub = UInt32(truncatingIfNeeded: integerValue(uniqB) ?? 0)
        if let byUniq = nonZero(wrapped(ua, ub)) { return byUniq }
        let na = nodes[a].count, nb = nodes[b].count
        if na != nb { return na < nb ? -1 : 1 }
        let ca = children(of: a).dropFirst(4), cb = children(of: b).dropFirst(4)
        for (x, y) in zip(ca, cb).reversed() { work.append((.node(x), .node(y))) }
        return 0
    }

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
