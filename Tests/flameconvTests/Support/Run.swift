import TestSupport

/// Runs `flameconv ARGUMENTS` as a user does: no limits.
func flameconv(_ arguments: [String]) throws -> ProcessResult {
    try Flameconv.run(arguments, limited: false)
}

let capturesDir = "\(repositoryRoot)/Fixtures/captures"

/// Offsets of the 4-byte length prefixes of a framed dump's frames.
func frameStarts(_ bytes: [UInt8]) -> [Int] { ETFBytes.frames(in: bytes).map(\.start) }

/// Events of a perf text, each its whole block (event line, frames, the blank line).
func eventBlocks(_ text: String) -> [Substring] {
    var blocks: [Substring] = []
    var rest = Substring(text)
    while let end = rest.firstRange(of: "\n\n") {
        blocks.append(rest[..<end.upperBound])
        rest = rest[end.upperBound...]
    }
    return blocks
}

/// flame_prof dialect: comm, pid (`0.N.S`) and time (µs) of an event block.
func eventHeader(_ block: Substring) -> (comm: String, pid: String, micros: Int64) {
    let line = block.prefix { $0 != "\n" }
    let tab = line.split(separator: "\t", maxSplits: 1)
    let fields = tab[1].split(separator: " ")
    let time = fields[2].dropLast()  // "S.UUUUUU:"
    let parts = time.split(separator: ".")
    return (String(tab[0]), String(fields[0]), Int64(parts[0])! * 1_000_000 + Int64(parts[1])!)
}
