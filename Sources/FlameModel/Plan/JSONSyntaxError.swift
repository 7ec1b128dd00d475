/// Where a JSON text is malformed, and how.
public struct JSONSyntaxError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Bytes from the start of the input.
    public var offset: Int
    /// 1-based; lines end at `\n`.
    public var line: Int
    /// 1-based, in Unicode scalars from the start of the line.
    public var column: Int
    /// What is wrong, e.g. `expected ',' or ']' after an array element, found '}'`.
    public var problem: String

    public init(offset: Int, line: Int, column: Int, problem: String) {
        self.offset = offset
        self.line = line
        self.column = column
        self.problem = problem
    }

    /// `line L, column C: problem`.
    public var description: String { "line \(line), column \(column): \(problem)" }
}
