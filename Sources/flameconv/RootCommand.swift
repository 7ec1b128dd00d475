import ArgumentParser
import FlameFormats

@main
struct RootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flameconv",
        abstract: "Turn Erlang sampling dumps into flame graphs and heat maps.",
        discussion: """
            flameconv reads dumps written by flame_agent (Erlang External Term Format \
            frames, optionally gzip or zstd compressed) and converts them offline.

            Examples:
              flameconv inspect capture-000000.flame
              flameconv convert /tmp/flame -o out.perf.gz
              flameconv stats --json /tmp/flame
            """,
        version: ToolVersion.current,
        subcommands: [Convert.self, Stats.self, Inspect.self]
    )
}
