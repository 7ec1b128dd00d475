import ArgumentParser
import FlameDump
import FlameFormats
#if canImport(Glibc)
import Glibc
#endif

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

    /// The arguments as the kernel gave them: a file name that is not UTF-8
    /// keeps its bytes (`PathName`), where `CommandLine.arguments` would
    /// replace them and name a file that does not exist.
    static func main() {
        let arguments = (1..<Int(CommandLine.argc)).map { index in
            let raw = CommandLine.unsafeArgv[index]!
            return PathName.string(fromBytes: UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw)))
        }
        main(arguments)
    }
}
