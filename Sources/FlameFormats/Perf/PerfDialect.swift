/// Which flavour of `perf script` text to write (docs/perf-output.md).
public enum PerfDialect: String, Sendable, CaseIterable {
    /// Read correctly by the FlameScope fork, Netflix FlameScope,
    /// stackcollapse-perf.pl, speedscope and the Firefox Profiler: `comm PID/TID`
    /// with integer ids, frame names free of the characters their parsers cut at,
    /// and a last timestamp never on a whole second. Same categories, metrics,
    /// values and deltas as flame_prof.
    case portable
    /// flame_prof's own text, byte for byte: a TAB and the dotted pid after the
    /// status, `M:F/A;L (File)` frames, `(M:F/A)` for proc_lib's initial call.
    case flameProf = "flame_prof"
}
