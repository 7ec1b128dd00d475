import FlameModel

/// The perf text of frames: flame_prof's spelling, or the portable one with
/// the characters readers cut at escaped (docs/perf-output.md).
enum FrameText {
    /// The block of a stack's frame lines, innermost first, each `<TAB>ffffffff TEXT\n`.
    static func block(_ frames: [UInt32], profile: Profile, dialect: PerfDialect) -> [UInt8] {
        var out: [UInt8] = []
        for frame in frames {
            out.append(contentsOf: Array("\tffffffff ".utf8))
            text(profile.frame(frame), profile.symbols, dialect, &out)
            out.append(0x0A)
        }
        return out
    }

    /// One frame's text.
    static func text(_ frame: ProfileFrame, _ symbols: Symbols, _ dialect: PerfDialect, _ out: inout [UInt8]) {
        let portable = dialect == .portable
        switch frame {
        case .native:
            out.append(contentsOf: Array((portable ? "native (native)" : "native ()").utf8))
        case .function(let function), .initialCall(let function):
            appendName(functionName(function, symbols), portable, &out)
            appendModuleFile(function, symbols, portable, &out)
        case .procLibInitialCall(let function):
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
        case .code(let id):
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
