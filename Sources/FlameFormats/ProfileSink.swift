import FlameModel

/// An output: it receives every event of a run, in output order, then `finish`.
///
/// One pass over the input feeds any number of sinks. A sink keeps its own
/// spelling rules and its own state; it reads the run's shared tables
/// (names, stacks, metrics, category labels) through `Profile`, whose ids
/// stay valid to the end, so a sink may aggregate by id and write at `finish`.
public protocol ProfileSink: AnyObject {
    /// A tick begins: its events (if any) follow. Ticks without samples are
    /// told too, for outputs that show when sampling happened.
    func beginTick(wallMicros: Int64, capture: Int, in profile: Profile) throws(OutputError)

    /// One event. The event is reused for the next one: copy what you keep.
    func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError)

    /// After the last event: write what is left. Not called when a run stops
    /// early, whose outputs are abandoned.
    func finish(_ profile: Profile) throws(OutputError)

    /// What the user should know about this output once it is finished
    /// (samples it could not show, and why).
    var notes: [String] { get }

    /// Samples this output shows (it may leave out those it cannot show).
    var samplesWritten: Int { get }

    /// About how many bytes the sink's own tables of distinct things (stack
    /// texts, paths, names) hold: they count against the run's
    /// `--max-symbol-bytes` with the shared tables, so no output can grow
    /// past the budget on input of endless variety.
    var tableBytes: Int { get }
}

extension ProfileSink {
    public func beginTick(wallMicros: Int64, capture: Int, in profile: Profile) throws(OutputError) {}

    /// A sink that keeps nothing per distinct input.
    public var tableBytes: Int { 0 }
}
