import ETF
import Foundation
import TestSupport

/// One option set of the ETF corpus: `<name>.etf` (4-byte big-endian length,
/// then one external term, repeated) and `<name>.expected` (the `~w` text of
/// each frame followed by `\n`, Latin-1 bytes). See Fixtures/etf/README.md.
///
/// The expected text is kept whole rather than split at newlines: `~w` escapes
/// newlines in atoms, but a local fun prints its module name raw
/// (`#Fun<Module.I.U>`), so a fun of a module whose name holds a newline spans
/// two "lines". The comparison walks the text frame by frame instead.
struct CorpusSet: Sendable {
    var name: String
    var frames: [[UInt8]]
    var expected: [UInt8]

    /// `Fixtures/etf`.
    static let fixtureDirectory: URL = Fixtures.etf

    /// The sets README.md documents; the corpus test checks they are all there.
    static let documentedSetNames = [
        "default", "compressed", "compressed_0", "compressed_1", "compressed_9",
        "minor_0", "minor_1", "minor_2", "deterministic", "deterministic_minor_2",
        "deterministic_compressed_minor_0", "compressed_9_minor_2", "legacy", "external",
    ]

    /// Names of every `<name>.etf` in `directory`, sorted.
    static func names(in directory: URL) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".etf") }.map { String($0.dropLast(4)) }.sorted()
    }

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    static func load(_ name: String, from directory: URL = fixtureDirectory) throws -> CorpusSet {
        let etf = [UInt8](try Data(contentsOf: directory.appendingPathComponent("\(name).etf")))
        let expected = [UInt8](try Data(contentsOf: directory.appendingPathComponent("\(name).expected")))
        return CorpusSet(name: name, frames: try splitFrames(etf, name: name), expected: expected)
    }

    static func splitFrames(_ bytes: [UInt8], name: String) throws -> [[UInt8]] {
        // ETFBytes.frames stops at the first frame that does not fit; say how it does not.
        let frames = ETFBytes.frames(in: bytes)
        let end = frames.last?.term.endIndex ?? 0
        if end < bytes.count {
            guard end + 4 <= bytes.count else {
                throw LoadError(description: "\(name).etf: a length prefix is cut at byte \(end)")
            }
            let length = Int(bytes[end]) << 24 | Int(bytes[end + 1]) << 16 | Int(bytes[end + 2]) << 8 | Int(bytes[end + 3])
            throw LoadError(description: "\(name).etf: the frame at byte \(end) claims \(length) bytes, past the end")
        }
        return frames.map { Array($0.term) }
    }

    /// Lines split at `\n`; the file's final `\n` ends the last line.
    static func splitLines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }
}

/// Decoding and printing the way `flameconv inspect` does for the corpus.
enum CorpusPrinting {
    static func decode(_ bytes: [UInt8], limits: ETFLimits = .default, baseOffset: Int = 0) -> Result<Term, ETFError> {
        var decoder = TermDecoder(limits: limits)
        var term = Term()
        var failure: ETFError?
        bytes.withUnsafeBytes { raw in
            do throws(ETFError) {
                try decoder.decode(raw, baseOffset: baseOffset, into: &term)
            } catch {
                failure = error
            }
        }
        if let failure { return .failure(failure) }
        return .success(term)
    }

    /// `~w` text of a whole term, as bytes.
    static func print(_ term: Term, printer: TermPrinter = TermPrinter(encoding: .latin1, localNode: "nonode@nohost")) -> [UInt8] {
        var out: [UInt8] = []
        var collected: [UInt8] = []
        printer.print(term, into: &out) { (chunk: inout [UInt8]) in
            collected.append(contentsOf: chunk)
            chunk.removeAll(keepingCapacity: true)
        }
        return collected + out
    }
}

/// Latin-1 bytes as a String, one scalar per byte, for messages and literals.
func latin1String(_ bytes: some Sequence<UInt8>) -> String {
    String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
}

/// A String whose scalars are all below 256, as its Latin-1 bytes.
func latin1Bytes(_ text: String) -> [UInt8] {
    text.unicodeScalars.map { scalar in
        precondition(scalar.value < 256, "not Latin-1: \(scalar)")
        return UInt8(scalar.value)
    }
}
