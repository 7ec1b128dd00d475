import ETF

extension Term {
    /// The value node of `key` (an atom) in the map at `map`, if present.
    func mapValue(_ map: Int, atomKey key: String) -> Int? {
        guard nodes[map].kind == .map else { return nil }
        var child = map + 1
        for _ in 0..<nodes[map].count {
            let value = Int(nodes[child].end)
            if nodes[child].kind == .atom, atomText(child) == key { return value }
            child = Int(nodes[value].end)
        }
        return nil
    }

    func isAtom(_ index: Int, _ text: String) -> Bool {
        nodes[index].kind == .atom && atomText(index) == text
    }

    /// A binary's bytes as UTF-8 text, or an atom's text.
    func text(_ index: Int) -> String? {
        switch nodes[index].kind {
        case .binary: return String(decoding: payload(of: index), as: UTF8.self)
        case .atom: return atomText(index)
        default: return nil
        }
    }
}
