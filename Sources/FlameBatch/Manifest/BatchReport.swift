import FlameModel

/// One report of a whole archive, from the manifests of every shard in --out
/// (`flameconv batch --merge-manifests`): JSON Lines, one line per capture in
/// capture id order, then one per problem input in path order.
///
/// It holds what the archive and the options decide (status, inputs and their
/// hashes, outputs and their hashes, warnings, errors) and nothing of how the
/// work was spread (shard, times), so shards on many machines give the same
/// report as one machine did.
public enum BatchReport {
    public static func lines(_ store: ManifestStore) -> [String] {
        var lines: [String] = []
        for id in store.captures.keys.sorted() {
            let record = store.captures[id]!
            lines.append(JSONValue.object([
                ("capture", .string(record.capture)),
                ("status", .string(record.status.rawValue)),
                ("inputs", .array(record.inputs.map { input in
                    .object([("path", .string(input.path)), ("member", input.member.map(JSONValue.string) ?? .null),
                             ("size", CaptureRecord.number(input.size)), ("xxh64", input.contentHash.map(JSONValue.string) ?? .null)])
                })),
                ("outputs", .array(record.outputs.map { .object([("file", .string($0.file)), ("bytes", CaptureRecord.number($0.bytes)), ("xxh64", .string($0.contentHash))]) })),
                ("warnings", .array(record.warnings.map(JSONValue.string))),
                ("error", record.error.map(JSONValue.string) ?? .null),
                ("damaged", .bool(record.damaged)),
            ]).jsonText)
        }
        for path in store.problems.keys.sorted() {
            let problem = store.problems[path]!
            lines.append(JSONValue.object([("problem", .string(problem.path)), ("error", .string(problem.error))]).jsonText)
        }
        return lines
    }
}
