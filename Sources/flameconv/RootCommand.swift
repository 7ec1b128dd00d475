import ArgumentParser
import FlameDump
import FlameFormats
#if canImport(Glibc)
import Glibc
#endif

#if canImport(Glibc)
/// glibc's `mallopt` (malloc.h is not in the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
/// malloc.h's `M_ARENA_MAX`.
private let mallocArenaMax: Int32 = -8
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
              flameconv report /tmp/flame -o report.html
              flameconv batch archive/ incidents.tar.gz --out views/
            """,
        version: ToolVersion.current,
        subcommands: [Convert.self, Stats.self, Inspect.self, Report.self, Batch.self]
    )

    /// The arguments as the kernel gave them: a file name that is not UTF-8
    /// keeps its bytes (`PathName`), where `CommandLine.arguments` would
    /// replace them and name a file that does not exist.
    static func main() {
        let arguments = (1..<Int(CommandLine.argc)).map { index in
            let raw = CommandLine.unsafeArgv[index]!
            return PathName.string(fromBytes: UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw)))
        }
        #if canImport(Glibc)
        // One malloc arena for the whole process. A run's reader thread
        // (RunPlan.threads) would otherwise get one of its own, whose heaps
        // reserve address space 64 MiB at a time: under `ulimit -v` (docs/LIMITS.md)
        // that was 80 MiB more than one thread needs. Small blocks come from
        // each thread's cache either way.
        // Not for batch: its jobs each convert a capture of their own, and one
        // arena would make every allocation of every job take one lock.
        if arguments.first != "batch" { _ = glibcMallopt(mallocArenaMax, 1) }
        #endif
        if var command = parsedSubcommand(arguments) {
            do {
                try command.run()
            } catch {
                exit(withError: error)
            }
            return
        }
        main(arguments)
    }

    /// The subcommand `arguments` name, parsed as a command of its own, when
    /// that parse succeeds; nil sends the arguments the whole way.
    ///
    /// Why: parsing from the root builds the subcommand's argument set three
    /// times, looks for completion requests and walks the whole command tree,
    /// each through reflection. That was half the start-up of a small run
    /// (BENCHMARKS.md, "Start-up"). A parse that succeeds this way gives the
    /// same command, because the root has no options of its own. Anything
    /// else (help, `--version`, completion scripts, every error) returns nil
    /// and goes through `main(_:)`, so its text and exit code are the root's.
    private static func parsedSubcommand(_ arguments: [String]) -> ParsableCommand? {
        guard let name = arguments.first,
              let subcommand = configuration.subcommands.first(where: { $0.configuration.commandName == name }),
              let command = try? subcommand.parseAsRoot(Array(arguments.dropFirst())),
              type(of: command) == subcommand
        else { return nil }
        return command
    }
}
