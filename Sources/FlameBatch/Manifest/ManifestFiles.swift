import FlameDump
#if canImport(Glibc)
import Glibc
#endif

/// Where the manifests live: `OUT/.flameconv-batch/manifest-I-of-N.jsonl`, one
/// file per shard, so shards on many machines that share --out never write
/// the same file.
enum ManifestFiles {
    static let directoryName = ".flameconv-batch"

    static func directory(in out: String) -> String { "\(out)/\(directoryName)" }

    static func path(in out: String, shard: Shard) -> String { "\(directory(in: out))/manifest-\(shard.fileTag).jsonl" }

    /// Every shard's manifest in `out`, in name order.
    static func all(in out: String) -> [String] {
        let folder = directory(in: out)
        guard let dir = PathName.withCString(folder, { opendir($0) }) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { PathName.string(fromBytes: $0.prefix { $0 != 0 }) }
            if name.hasPrefix("manifest-") && name.hasSuffix(".jsonl") { names.append("\(folder)/\(name)") }
        }
        return names.sorted()
    }
}
