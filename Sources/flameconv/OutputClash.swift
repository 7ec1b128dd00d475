import ArgumentParser
import FlameDump
import FlameModel
#if canImport(Glibc)
import Glibc
#endif

/// Refuses an output that is one of the inputs: writing it would replace the
/// dump being read (through any name, link or hard link to it).
enum OutputClash {
    /// Stops the command (exit 64) when `output` (a path, or standard output
    /// when nil) is one of the inputs: every command that writes checks this
    /// before it reads anything.
    static func refuse(_ output: String?, among inputs: [InputPath]) throws {
        guard let input = input(sameAs: output, among: inputs) else { return }
        Diagnostics.error("\(output ?? "standard output") is also an input (\(input), the same file): writing it would overwrite what is being read; choose another output")
        throw ExitCode(64)
    }

    /// The input that `output` (a path, or standard output when nil) is, if any.
    static func input(sameAs output: String?, among inputs: [InputPath]) -> String? {
        let target = output.flatMap { FileIdentity(path: $0) } ?? (output == nil ? regularStandardOutput() : nil)
        guard let target else { return nil }
        for input in inputs {
            let identity = input.isStandardInput ? FileIdentity(descriptor: 0) : input.identity
            if identity == target { return input.path }
        }
        return nil
    }

    /// Standard output when it is a regular file (`>> capture.flame`); a pipe or terminal cannot be an input.
    private static func regularStandardOutput() -> FileIdentity? {
        var info = stat()
        guard fstat(1, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(info)
    }
}
