/// A regular expression for JSON Schema's `pattern`: the part of ECMA-262's
/// syntax a schema of ours needs, matched in time linear in the input (a Pike
/// VM: every thread advances together, so no input can make it backtrack).
///
/// Supported: literals; `.`; `^` and `$` (start and end of the whole string);
/// classes `[a-z_]`, `[^…]`; the escapes `\d \D \w \W \s \S \t \n \r \f \v \0
/// \xHH \uHHHH` and a backslash before any of `^$\.*+?()[]{}|/-`; groups
/// `(…)` and `(?:…)`; alternation `|`; the greedy quantifiers `* + ?`.
/// Anything else (counted repetition, lazy quantifiers, lookaround, back
/// references, `\b`) is refused when the schema loads, so a schema cannot
/// rely on it silently.
///
/// As ECMA-262 without flags: `.` matches anything but a line terminator
/// (`\n`, `\r`, U+2028, U+2029), `$` matches only at the very end, and a match
/// may start anywhere unless the pattern says `^`. Characters are Unicode scalars.
struct SchemaPattern: Sendable {
    let source: String
    private let program: [Instruction]

    private enum Instruction: Sendable {
        /// Consumes one scalar in (or, when negated, not in) the ranges.
        case scalar(ranges: [ClosedRange<UInt32>], negated: Bool)
        case split(Int, Int)
        case jump(Int)
        case assertStart
        case assertEnd
        case match
    }

    /// Why a pattern is refused, and where in it.
    struct SyntaxError: Error {
        var position: Int
        var problem: String
    }

    init(_ source: String) throws(SyntaxError) {
        self.source = source
        var parser = Parser(scalars: Array(source.unicodeScalars))
        let tree = try parser.parse()
        var program: [Instruction] = []
        Self.compile(tree, into: &program)
        program.append(.match)
        self.program = program
    }

    /// True when the pattern matches somewhere in `text`.
    func matches(_ text: String) -> Bool {
        let input = Array(text.unicodeScalars)
        var current: [Int] = []
        var next: [Int] = []
        // The position at which each instruction was last added to a list.
        var seen = [Int](repeating: -1, count: program.count)
        var stack: [Int] = []

        // Adds `start` and everything reachable from it without consuming.
        func addThread(_ start: Int, at position: Int, to list: inout [Int]) -> Bool {
            stack.append(start)
            while let pc = stack.popLast() {
                guard seen[pc] != position else { continue }
                seen[pc] = position
                switch program[pc] {
                case .scalar:
                    list.append(pc)
                case .split(let first, let second):
                    stack.append(second)
                    stack.append(first)
                case .jump(let target):
                    stack.append(target)
                case .assertStart:
                    if position == 0 { stack.append(pc + 1) }
                case .assertEnd:
                    if position == input.count { stack.append(pc + 1) }
                case .match:
                    stack.removeAll()
                    return true
                }
            }
            return false
        }

        for position in 0...input.count {
            // A match may start at any position.
            if addThread(0, at: position, to: &current) { return true }
            guard position < input.count else { break }
            let scalar = input[position].value
            next.removeAll(keepingCapacity: true)
            for pc in current {
                guard case .scalar(let ranges, let negated) = program[pc] else { continue }
                if ranges.contains(where: { $0.contains(scalar) }) != negated {
                    if addThread(pc + 1, at: position + 1, to: &next) { return true }
                }
            }
            swap(&current, &next)
        }
        return false
    }

    // MARK: Syntax tree and compilation

    private indirect enum Node {
        case empty
        case scalar(ranges: [ClosedRange<UInt32>], negated: Bool)
        case start
        case end
        case sequence([Node])
        case alternatives([Node])
        case zeroOrMore(Node)
        case oneOrMore(Node)
        case optional(Node)
    }

    private static func compile(_ node: Node, into program: inout [Instruction]) {
        switch node {
        case .empty:
            break
        case .scalar(let ranges, let negated):
            program.append(.scalar(ranges: ranges, negated: negated))
        case .start:
            program.append(.assertStart)
        case .end:
            program.append(.assertEnd)
        case .sequence(let parts):
            for part in parts { compile(part, into: &program) }
        case .alternatives(let options):
            // split L1, next; L1: option; jump end; next: split L2, … ; last option
            var jumps: [Int] = []
            for (index, option) in options.enumerated() {
                if index < options.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, -1))
                    compile(option, into: &program)
                    jumps.append(program.count)
                    program.append(.jump(-1))
                    program[split] = .split(split + 1, program.count)
                } else {
                    compile(option, into: &program)
                }
            }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .zeroOrMore(let inner):
            let split = program.count
            program.append(.split(split + 1, -1))
            compile(inner, into: &program)
            program.append(.jump(split))
            program[split] = .split(split + 1, program.count)
        case .oneOrMore(let inner):
            let start = program.count
            compile(inner, into: &program)
            program.append(.split(start, program.count + 1))
        case .optional(let inner):
            let split = program.count
            program.append(.split(split + 1, -1))
            compile(inner, into: &program)
            program[split] = .split(split + 1, program.count)
        }
    }

    // MARK: Parsing

    private static let lineTerminators: [ClosedRange<UInt32>] = [0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029]
    private static let digits: [ClosedRange<UInt32>] = [0x30...0x39]
    private static let wordScalars: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
    /// ECMA-262's WhiteSpace and LineTerminator.
    private static let spaces: [ClosedRange<UInt32>] = [
        0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A,
        0x2028...0x2029, 0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
    ]
    /// Longest pattern accepted, to keep compilation and matching small.
    static let maxLength = 1000

    private static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
            next = max(next, range.upperBound + 1)
        }
        if next <= 0x10FFFF { result.append(next...0x10FFFF) }
        return result
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0
        var groupDepth = 0

        init(scalars: [Unicode.Scalar]) {
            self.scalars = scalars
        }

        mutating func parse() throws(SyntaxError) -> Node {
            guard scalars.count <= SchemaPattern.maxLength else {
                throw SyntaxError(position: SchemaPattern.maxLength, problem: "longer than \(SchemaPattern.maxLength) characters")
            }
            let tree = try parseAlternatives()
            if index < scalars.count { throw SyntaxError(position: index, problem: "unmatched ')'") }
            return tree
        }

        private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        private mutating func parseAlternatives() throws(SyntaxError) -> Node {
            var options = [try parseSequence()]
            while peek == "|" {
                index += 1
                options.append(try parseSequence())
            }
            return options.count == 1 ? options[0] : .alternatives(options)
        }

        private mutating func parseSequence() throws(SyntaxError) -> Node {
            var parts: [Node] = []
            while let scalar = peek, scalar != "|", scalar != ")" {
                let atomStart = index
                let atom = try parseAtom()
                parts.append(try parseQuantifier(on: atom, atomStart: atomStart))
            }
            if peek == ")" && groupDepth == 0 { throw SyntaxError(position: index, problem: "unmatched ')'") }
            return parts.isEmpty ? .empty : parts.count == 1 ? parts[0] : .sequence(parts)
        }

        private mutating func parseQuantifier(on atom: Node, atomStart: Int) throws(SyntaxError) -> Node {
            guard let scalar = peek, scalar == "*" || scalar == "+" || scalar == "?" || scalar == "{" else { return atom }
            if scalar == "{" { throw SyntaxError(position: index, problem: "counted repetition {…} is not supported") }
            switch atom {
            case .start, .end: throw SyntaxError(position: index, problem: "nothing to repeat before '\(scalar)'")
            default: break
            }
            index += 1
            if let lazy = peek, lazy == "?" || lazy == "*" || lazy == "+" {
                throw SyntaxError(position: index, problem: lazy == "?" ? "lazy quantifiers are not supported" : "nothing to repeat before '\(lazy)'")
            }
            switch scalar {
            case "*": return .zeroOrMore(atom)
            case "+": return .oneOrMore(atom)
            default: return .optional(atom)
            }
        }

        private mutating func parseAtom() throws(SyntaxError) -> Node {
            let scalar = scalars[index]
            let position = index
            index += 1
            switch scalar {
            case "^": return .start
            case "$": return .end
            case ".": return .scalar(ranges: SchemaPattern.lineTerminators, negated: true)
            case "(":
                if peek == "?" {
                    guard index + 1 < scalars.count, scalars[index + 1] == ":" else {
                        throw SyntaxError(position: position, problem: "lookaround and named groups are not supported")
                    }
                    index += 2
                }
                groupDepth += 1
                let inner = try parseAlternatives()
                groupDepth -= 1
                guard peek == ")" else { throw SyntaxError(position: position, problem: "unmatched '('") }
                index += 1
                return inner
            case "[":
                return try parseClass(openedAt: position)
            case "\\":
                let (ranges, negated) = try parseEscape(inClass: false)
                return .scalar(ranges: ranges, negated: negated)
            case "*", "+", "?", "{":
                throw SyntaxError(position: position, problem: "nothing to repeat before '\(scalar)'")
            case "]", "}":
                throw SyntaxError(position: position, problem: "a lone '\(scalar)' must be escaped")
            default:
                return .scalar(ranges: [scalar.value...scalar.value], negated: false)
            }
        }

        /// After a backslash: the scalars it stands for, and whether negated (\D, \W, \S).
        private mutating func parseEscape(inClass: Bool) throws(SyntaxError) -> ([ClosedRange<UInt32>], Bool) {
            let position = index - 1
            guard let scalar = peek else { throw SyntaxError(position: position, problem: "a pattern may not end in '\\'") }
            index += 1
            func one(_ value: UInt32) -> ([ClosedRange<UInt32>], Bool) { ([value...value], false) }
            switch scalar {
            case "d": return (SchemaPattern.digits, false)
            case "D": return (SchemaPattern.digits, true)
            case "w": return (SchemaPattern.wordScalars, false)
            case "W": return (SchemaPattern.wordScalars, true)
            case "s": return (SchemaPattern.spaces, false)
            case "S": return (SchemaPattern.spaces, true)
            case "t": return one(0x09)
            case "n": return one(0x0A)
            case "v": return one(0x0B)
            case "f": return one(0x0C)
            case "r": return one(0x0D)
            case "b" where inClass: return one(0x08)
            case "0":
                if let next = peek, ("0"..."9").contains(next) {
                    throw SyntaxError(position: position, problem: "octal escapes are not supported")
                }
                return one(0)
            case "x": return one(try hexDigits(2, escapeAt: position))
            case "u": return one(try hexDigits(4, escapeAt: position))
            case "^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "/", "-":
                return one(scalar.value)
            default:
                throw SyntaxError(position: position, problem: "the escape '\\\(scalar)' is not supported")
            }
        }

        private mutating func hexDigits(_ count: Int, escapeAt position: Int) throws(SyntaxError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<count {
                guard let scalar = peek, scalar.isASCII, let digit = UInt32(String(scalar), radix: 16) else {
                    throw SyntaxError(position: position, problem: "expected \(count) hex digits in the escape")
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        private mutating func parseClass(openedAt position: Int) throws(SyntaxError) -> Node {
            var negated = false
            if peek == "^" {
                negated = true
                index += 1
            }
            var ranges: [ClosedRange<UInt32>] = []
            while true {
                guard let scalar = peek else { throw SyntaxError(position: position, problem: "unterminated '['") }
                if scalar == "]" {
                    index += 1
                    break
                }
                let low = try parseClassAtom()
                if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                    let dash = index
                    index += 1
                    let high = try parseClassAtom()
                    guard case .one(let lowValue) = low, case .one(let highValue) = high else {
                        throw SyntaxError(position: dash, problem: "a range in a class needs a single character at each end")
                    }
                    guard lowValue <= highValue else { throw SyntaxError(position: dash, problem: "range out of order in a class") }
                    ranges.append(lowValue...highValue)
                } else {
                    switch low {
                    case .one(let value): ranges.append(value...value)
                    case .set(let set, let setNegated): ranges += setNegated ? SchemaPattern.complement(set) : set
                    }
                }
            }
            return .scalar(ranges: ranges, negated: negated)
        }

        private enum ClassAtom {
            case one(UInt32)
            case set([ClosedRange<UInt32>], negated: Bool)
        }

        private mutating func parseClassAtom() throws(SyntaxError) -> ClassAtom {
            let scalar = scalars[index]
            index += 1
            guard scalar == "\\" else { return .one(scalar.value) }
            let (ranges, negated) = try parseEscape(inClass: true)
            if !negated, ranges.count == 1, ranges[0].lowerBound == ranges[0].upperBound { return .one(ranges[0].lowerBound) }
            return .set(ranges, negated: negated)
        }
    }
}
