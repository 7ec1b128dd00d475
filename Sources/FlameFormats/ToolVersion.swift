/// flameconv's version: `--version`, and what outputs that name their
/// writer (speedscope's `exporter`) say.
public enum ToolVersion {
    public static let current = "0.1.0"
}
