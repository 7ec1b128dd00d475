import ETF

/// `{flame_dump, Version, Meta}`: the first term of every dump file.
public enum DumpHeader {
    /// The `node` of a header term, or nil when `term` is no flame_dump header.
    public static func nodeName(in term: Term) -> String? {
        let root = term.root
        guard term.nodes[root].kind == .tuple, term.nodes[root].count == 3 else { return nil }
        let tag = term.child(0, of: root)
        guard term.nodes[tag].kind == .atom, term.atomText(tag) == "flame_dump" else { return nil }
        let meta = term.child(2, of: root)
        guard term.nodes[meta].kind == .map else { return nil }
        var child = meta + 1
        for _ in 0..<term.nodes[meta].count {
            let value = Int(term.nodes[child].end)
            if term.nodes[child].kind == .atom, term.atomText(child) == "node", term.nodes[value].kind == .atom {
                return term.atomText(value)
            }
            child = Int(term.nodes[value].end)
        }
        return nil
    }
}
