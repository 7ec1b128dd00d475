/// How a speedscope file is split into profiles (docs/output-formats.md).
public enum SpeedscopeGrouping: String, CaseIterable, Sendable {
    /// One profile per first-level category label.
    case category
    /// One profile per process.
    case process
}
