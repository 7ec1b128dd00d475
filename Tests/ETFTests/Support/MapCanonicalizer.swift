/// Rewrites one line of `~w` text so that large maps compare as unordered sets.
///
/// OTP 25 prints a map of more than 32 keys in its internal hash order, which
/// for atom, pid, port and ref keys is not even stable between runs; flameconv
/// prints every map in map key order. To compare the two, the pairs of each map
/// with more than `minimumPairsToSort` pairs are sorted as byte strings (inner
/// maps first, so a large map nested in a key or value is already canonical).
/// Smaller maps are left exactly as they are: OTP prints those sorted, and a
/// difference there is a real bug that this must not hide.
///
/// The scanner parses the whole line with the grammar `~w` produces: quoted
/// atoms with backslash escapes, `<<...>>`, pids `<...>` (whose node name may
/// be a quoted atom), `#Ref<...>`, `#Port<...>`, `#Fun<Module.Index.Uniq>`
/// (whose module is written raw and may hold any character), `fun M:F/A`,
/// tuples, lists with `|` tails, and maps with ` => `. Anything else is an
/// error, so a mangled line cannot slip through as "equal after sorting".
struct MapCanonicalizer {
    struct ParseError: Error, CustomStringConvertible {
        var position: Int
        var message: String
        var description: String { "cannot parse ~w text at byte \(position): \(message)" }
    }

    struct Result: Equatable {
        var text: [UInt8]
        /// Maps whose pairs were sorted (more than `minimumPairsToSort` pairs).
        var sortedMaps: Int
        /// The most pairs any map in the line has.
        var largestMap: Int
    }

    var minimumPairsToSort: Int

    init(sortingMapsLargerThan minimumPairsToSort: Int = 32) {
        self.minimumPairsToSort = minimumPairsToSort
    }

    func canonicalize(_ line: [UInt8]) throws(ParseError) -> Result {
        var scanner = Scanner(bytes: line, minimumPairsToSort: minimumPairsToSort)
        var out: [UInt8] = []
        out.reserveCapacity(line.count)
        try scanner.term(into: &out)
        if scanner.position != line.count {
            throw ParseError(position: scanner.position, message: "text follows the term")
        }
        return Result(text: out, sortedMaps: scanner.sortedMaps, largestMap: scanner.largestMap)
    }

    private struct Scanner {
        let bytes: [UInt8]
        let minimumPairsToSort: Int
        var position = 0
        var sortedMaps = 0
        var largestMap = 0

        init(bytes: [UInt8], minimumPairsToSort: Int) {
            self.bytes = bytes
            self.minimumPairsToSort = minimumPairsToSort
        }

        func fail(_ message: String) -> ParseError { ParseError(position: position, message: message) }

        func peek(_ offset: Int = 0) -> UInt8? {
            position + offset < bytes.count ? bytes[position + offset] : nil
        }

        func starts(with text: String) -> Bool {
            let pattern = Array(text.utf8)
            guard position + pattern.count <= bytes.count else { return false }
            return bytes[position..<(position + pattern.count)].elementsEqual(pattern)
        }

        mutating func expect(_ text: String, into out: inout [UInt8]) throws(ParseError) {
            guard starts(with: text) else { throw fail("expected \"\(text)\"") }
            out.append(contentsOf: Array(text.utf8))
            position += text.utf8.count
        }

        /// One term, written canonically to `out`.
        mutating func term(into out: inout [UInt8]) throws(ParseError) {
            guard let c = peek() else { throw fail("the text ends where a term should start") }
            switch c {
            case UInt8(ascii: "#"):
                if starts(with: "#{") {
                    try map(into: &out)
                } else if starts(with: "#Fun<") {
                    try fun(into: &out)
                } else if starts(with: "#Ref<") || starts(with: "#Port<") {
                    let open = bytes[position...].firstIndex(of: UInt8(ascii: "<"))! + 1
                    out.append(contentsOf: bytes[position..<open])
                    position = open
                    try identifierBody(into: &out)
                } else {
                    throw fail("unknown # form")
                }
            case UInt8(ascii: "{"):
                try sequence(open: "{", close: UInt8(ascii: "}"), allowTail: false, into: &out)
            case UInt8(ascii: "["):
                try sequence(open: "[", close: UInt8(ascii: "]"), allowTail: true, into: &out)
            case UInt8(ascii: "<"):
                if starts(with: "<<") {
                    try bitstring(into: &out)
                } else {
                    out.append(c)
                    position += 1
                    try identifierBody(into: &out)
                }
            case UInt8(ascii: "'"):
                try quotedAtom(into: &out)
            default:
                if starts(with: "fun ") {
                    try exportFun(into: &out)
                } else {
                    try bareToken(stoppingAt: [], into: &out)
                }
            }
        }

        /// `{a,b}` or `[a,b|c]`.
        mutating func sequence(open: String, close: UInt8, allowTail: Bool, into out: inout [UInt8]) throws(ParseError) {
            try expect(open, into: &out)
            if peek() == close {
                out.append(close)
                position += 1
                return
            }
            while true {
                try term(into: &out)
                guard let c = peek() else { throw fail("unclosed \(open)") }
                position += 1
                out.append(c)
                if c == close { return }
                if c == UInt8(ascii: "|"), allowTail {
                    try term(into: &out)
                    guard peek() == close else { throw fail("expected the end of the list after its tail") }
                    position += 1
                    out.append(close)
                    return
                }
                guard c == UInt8(ascii: ",") else { throw fail("expected , or the end of \(open)") }
            }
        }

        /// `#{K => V,...}`, its pairs sorted when there are more than `minimumPairsToSort`.
        mutating func map(into out: inout [UInt8]) throws(ParseError) {
            position += 2
            var pairs: [[UInt8]] = []
            if peek() == UInt8(ascii: "}") {
                position += 1
            } else {
                while true {
                    var pair: [UInt8] = []
                    try term(into: &pair)
                    try expect(" => ", into: &pair)
                    try term(into: &pair)
                    pairs.append(pair)
                    guard let c = peek() else { throw fail("unclosed map") }
                    position += 1
                    if c == UInt8(ascii: "}") { break }
                    guard c == UInt8(ascii: ",") else { throw fail("expected , or } in a map") }
                }
            }
            largestMap = max(largestMap, pairs.count)
            if pairs.count > minimumPairsToSort {
                pairs.sort { $0.lexicographicallyPrecedes($1) }
                sortedMaps += 1
            }
            out.append(contentsOf: [UInt8(ascii: "#"), UInt8(ascii: "{")])
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: pair)
            }
            out.append(UInt8(ascii: "}"))
        }

        /// `<<1,2,3>>` or `<<1,5:3>>`: numbers, commas and a colon only.
        mutating func bitstring(into out: inout [UInt8]) throws(ParseError) {
            let start = position
            position += 2
            while let c = peek(), c != UInt8(ascii: ">") {
                guard (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: ",") || c == UInt8(ascii: ":") else {
                    throw fail("unexpected byte \(c) in a binary")
                }
                position += 1
            }
            guard starts(with: ">>") else { throw fail("unclosed binary") }
            position += 2
            out.append(contentsOf: bytes[start..<position])
        }

        /// The inside of `<...>`, `#Ref<...>` or `#Port<...>` after the `<`: a node
        /// (a number, or an atom that may be quoted) and dot-separated numbers.
        mutating func identifierBody(into out: inout [UInt8]) throws(ParseError) {
            if peek() == UInt8(ascii: "'") {
                try quotedAtom(into: &out)
            }
            while let c = peek(), c != UInt8(ascii: ">") {
                guard c != UInt8(ascii: "'"), c != UInt8(ascii: ","), c != UInt8(ascii: "<") else {
                    throw fail("unexpected byte \(c) in a pid, port or reference")
                }
                out.append(c)
                position += 1
            }
            guard peek() == UInt8(ascii: ">") else { throw fail("unclosed pid, port or reference") }
            out.append(UInt8(ascii: ">"))
            position += 1
        }

        /// `#Fun<Module.Index.Uniq>`. The runtime writes the module's bytes raw, so
        /// the end is the first `>` that follows `.INT.INT`.
        mutating func fun(into out: inout [UInt8]) throws(ParseError) {
            let start = position
            var i = position + 5
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: ">"), Self.endsWithTwoNumbers(bytes[(start + 5)..<i]) {
                    position = i + 1
                    out.append(contentsOf: bytes[start..<position])
                    return
                }
                i += 1
            }
            throw fail("unclosed #Fun<")
        }

        /// Whether `text` ends in `.INT.INT` after at least one byte of module name
        /// (integers may be negative).
        static func endsWithTwoNumbers(_ text: ArraySlice<UInt8>) -> Bool {
            var end = text.endIndex
            for _ in 0..<2 {
                var digits = 0
                while end > text.startIndex, text[end - 1] >= 0x30, text[end - 1] <= 0x39 {
                    end -= 1
                    digits += 1
                }
                if digits == 0 { return false }
                if end > text.startIndex, text[end - 1] == UInt8(ascii: "-") { end -= 1 }
                guard end > text.startIndex, text[end - 1] == UInt8(ascii: ".") else { return false }
                end -= 1
            }
            return true
        }

        /// `fun M:F/A`, with M and F quoted by the runtime's rules or bare.
        mutating func exportFun(into out: inout [UInt8]) throws(ParseError) {
            try expect("fun ", into: &out)
            try atom(stoppingAt: [UInt8(ascii: ":")], into: &out)
            try expect(":", into: &out)
            try atom(stoppingAt: [UInt8(ascii: "/")], into: &out)
            try expect("/", into: &out)
            try bareToken(stoppingAt: [], into: &out)
        }

        mutating func atom(stoppingAt stops: [UInt8], into out: inout [UInt8]) throws(ParseError) {
            if peek() == UInt8(ascii: "'") {
                try quotedAtom(into: &out)
            } else {
                try bareToken(stoppingAt: stops, into: &out)
            }
        }

        /// `'...'` with `\` escaping the next byte.
        mutating func quotedAtom(into out: inout [UInt8]) throws(ParseError) {
            let start = position
            position += 1
            while let c = peek() {
                if c == UInt8(ascii: "\\") {
                    position += 2
                    continue
                }
                position += 1
                if c == UInt8(ascii: "'") {
                    out.append(contentsOf: bytes[start..<position])
                    return
                }
            }
            throw ParseError(position: start, message: "unclosed quoted atom")
        }

        /// A number or an unquoted atom: everything up to a delimiter.
        mutating func bareToken(stoppingAt extra: [UInt8], into out: inout [UInt8]) throws(ParseError) {
            let start = position
            while let c = peek() {
                if c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == UInt8(ascii: "|")
                    || c == UInt8(ascii: " ") || c == UInt8(ascii: ">") || extra.contains(c)
                {
                    break
                }
                guard c != UInt8(ascii: "{"), c != UInt8(ascii: "["), c != UInt8(ascii: "<"), c != UInt8(ascii: "'"),
                    c != UInt8(ascii: "#")
                else {
                    throw fail("unexpected byte \(c) inside an atom or number")
                }
                position += 1
            }
            if position == start { throw fail("empty atom or number") }
            out.append(contentsOf: bytes[start..<position])
        }
    }
}
