import Foundation

/// The repository's root folder, from this file's place in it (Tests/TestSupport/Fixtures.swift).
public let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// The committed inputs of the tests (see each folder's README).
public enum Fixtures {
    public static let root = URL(fileURLWithPath: repositoryRoot)
    /// Hostile and damaged dumps, with cases.tsv (scripts/make-bad-inputs.sh).
    public static let bad = root.appendingPathComponent("Fixtures/bad")
    /// Real captures from the agent, one folder each (scripts/make-fixtures.sh).
    public static let captures = root.appendingPathComponent("Fixtures/captures")
    /// The ETF corpus: `<set>.etf` and `<set>.expected`.
    public static let etf = root.appendingPathComponent("Fixtures/etf")

    public static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}
