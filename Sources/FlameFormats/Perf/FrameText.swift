import FlameDump
import FlameModel

/// The frame lines of one sample, innermost first, with flame_prof's rules:
/// `current_function` then `current_stacktrace`, runs of the same `M:F/A`
/// written once as their outermost member, then `initial_call` and proc_lib's
/// `'$initial_call'`: `initial_call` left out when it equals the outermost
/// frame, and `'$initial_call'` only when `initial_call` was and it equals that frame too.
enum FrameText {
    /// What a frame block depends on; blocks are cached per key.
    struct Key: Hashable {
        var currentFunction: UInt32
        var stack: UInt32
        var initialCall: UInt32
        var dictionaryInitialCall: UInt32
    }

    private enum Line {
        case native
        case function(UInt32)
        case frame(UInt32)
        case initialCall(UInt32)
        case dictionaryInitialCall(UInt32)
    }

    /// The block's lines, each `<TAB>ffffffff TEXT\n`.
    static func block(_ key: Key, symbols: Symbols, dialect: PerfDialect) -> [UInt8] {
        var out: [UInt8] = []
        for text in texts(key, symbols: symbols, dialect: dialect) {
            out.append(contentsOf: Array("\tffffffff ".utf8))
            out.append(contentsOf: text)
            out.append(0x0A)
        }
        return out
    }

    /// The frame texts of a block, innermost first.
    static func texts(_ key: Key, symbols: Symbols, dialect: PerfDialect) -> [[UInt8]] {
        // (function id, or `Symbols.none` for native code; line)
        var lines: [(UInt32, Line)] = []
        lines.append(key.currentFunction == Symbols.none ? (Symbols.none, .native) : (key.currentFunction, .function(key.currentFunction)))
        if key.stack != Symbols.none {
            for frame in symbols.stacks[Int(key.stack)] {
                lines.append((symbols.frames[Int(frame)].function, .frame(frame)))
            }
        }
        // Runs of one M:F/A become their outermost member (the one with the caller's line).
        var flattened: [(UInt32, Line)] = []
        for (i, line) in lines.enumerated() {
            if i + 1 < lines.count, lines[i + 1].0 == line.0 { continue }
            flattened.append(line)
        }
        // flame_prof compares both initial calls with the outermost frame, and
        // the dictionary's only once `initial_call` itself was left out: after
        // a written `initial_call`, `'$initial_call'` is always written.
        let outermost = flattened.last?.0
        var wroteInitialCall = false
        if key.initialCall != Symbols.none, key.initialCall != outermost {
            flattened.append((key.initialCall, .initialCall(key.initialCall)))
            wroteInitialCall = true
        }
        if key.dictionaryInitialCall != Symbols.none, wroteInitialCall || key.dictionaryInitialCall != outermost {
            flattened.append((key.dictionaryInitialCall, .dictionaryInitialCall(key.dictionaryInitialCall)))
        }
        return flattened.map { (_, line) in
            var text: [UInt8] = []
            self.text(line, symbols, dialect, &text)
            return text
        }
    }

    private static func text(_ line: Line, _ symbols: Symbols, _ dialect: PerfDialect, _ out: inout [UInt8]) {
        let portable = dialect == .portable
        switch line {
        case .native:
            out.append(contentsOf: Array((portable ? "native (native)" : "native ()").utf8))
        case .function(let function), .initialCall(let function):
            appendName(functionName(function, symbols), portable, &out)
            appendModuleFile(function, symbols, portable, &out)
        case .dictionaryInitialCall(let function):
            // flame_prof's `(M:F/A)`; a leading `(` makes stackcollapse-perf.pl drop the frame.
            if portable {
                out.append(UInt8(ascii: "["))
                appendName(functionName(function, symbols), true, &out)
                out.append(UInt8(ascii: "]"))
            } else {
                out.append(UInt8(ascii: "("))
                out.append(contentsOf: functionName(function, symbols))
                out.append(UInt8(ascii: ")"))
            }
            appendModuleFile(function, symbols, portable, &out)
        case .frame(let id):
            let frame = symbols.frames[Int(id)]
            var name = functionName(frame.function, symbols)
            if frame.line >= 0 {
                // flame_prof's `;L`: stackcollapse-perf.pl would turn `;` into `:` anyway.
                name.append(portable ? UInt8(ascii: ":") : UInt8(ascii: ";"))
                name.append(contentsOf: Array(String(frame.line).utf8))
            }
            appendName(name, portable, &out)
            if frame.file != Symbols.none {
                out.append(contentsOf: [0x20, UInt8(ascii: "(")])
                appendFile(Array(symbols.name(frame.file)), portable, &out)
                out.append(UInt8(ascii: ")"))
            } else {
                appendModuleFile(frame.function, symbols, portable, &out)
            }
        }
    }

    static func functionName(_ function: UInt32, _ symbols: Symbols) -> [UInt8] {
        symbols.functionText(function)
    }

    private static func appendModuleFile(_ function: UInt32, _ symbols: Symbols, _ portable: Bool, _ out: inout [UInt8]) {
        out.append(contentsOf: [0x20, UInt8(ascii: "(")])
        var file = Array(symbols.name(symbols.functions[Int(function)].module))
        file.append(contentsOf: Array(".erl".utf8))
        appendFile(file, portable, &out)
        out.append(UInt8(ascii: ")"))
    }

    private static func appendName(_ name: [UInt8], _ portable: Bool, _ out: inout [UInt8]) {
        guard portable else { return out.append(contentsOf: name) }
        for byte in name {
            switch byte {
            // FlameScope cuts at `+` and splits at `->`; stackcollapse turns `;` into `:`
            // and cuts at parentheses; quotes and blanks confuse several readers.
            case UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: ";"), UInt8(ascii: "("), UInt8(ascii: ")"),
                UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: ">"), 0...0x20, 0x7F:
                appendEscape(byte, &out)
            default:
                out.append(byte)
            }
        }
    }

    private static func appendFile(_ file: [UInt8], _ portable: Bool, _ out: inout [UInt8]) {
        guard portable else { return out.append(contentsOf: file) }
        for byte in file {
            switch byte {
            // The file sits in `( … )` and must hold no blank (speedscope) or `)` (Firefox).
            case UInt8(ascii: "%"), UInt8(ascii: "("), UInt8(ascii: ")"), 0...0x20, 0x7F:
                appendEscape(byte, &out)
            default:
                out.append(byte)
            }
        }
    }

    private static func appendEscape(_ byte: UInt8, _ out: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]])
    }

    /// A category as a perf comm for the portable dialect. FlameScope cuts a
    /// comm at its first digit, and the other readers end it at a blank and
    /// need two or more characters. Letters, `_`, `:`, `/`, `.` and `@` stay;
    /// the rest is spelled after a `-`: a digit as its English name
    /// (`worker_1` -> `worker_-one`), `-` as `--`, any other byte as `-x` and
    /// two letters for its nibbles (`a` = 0 … `p` = 15); a name shorter than
    /// two characters is padded with `-_`. Distinct names stay distinct.
    static func portableComm(_ name: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(name.count + 4)
        for byte in name {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "@"):
                out.append(byte)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.append(UInt8(ascii: "-"))
                out.append(contentsOf: digitNames[Int(byte - UInt8(ascii: "0"))].utf8)
            case UInt8(ascii: "-"):
                out.append(contentsOf: [UInt8(ascii: "-"), UInt8(ascii: "-")])
            default:
                out.append(contentsOf: [UInt8(ascii: "-"), UInt8(ascii: "x"), UInt8(ascii: "a") + byte >> 4, UInt8(ascii: "a") + byte & 15])
            }
        }
        if out.count < 2 { out.append(contentsOf: [UInt8(ascii: "-"), UInt8(ascii: "_")]) }
        return out
    }

    /// No name is a prefix of another, so a spelled digit reads back one way.
    private static let digitNames = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    /// A pseudo frame for a category level below the first.
    static func categoryLine(_ name: [UInt8], dialect: PerfDialect) -> [UInt8] {
        var out = Array("\tffffffff ".utf8)
        appendName(name, dialect == .portable, &out)
        out.append(contentsOf: Array(" (category)\n".utf8))
        return out
    }
}
