import FlameModel

/// One output file of a capture, as the manifest records it.
public struct OutputRecord: Sendable, Equatable {
    /// Its name under --out (one path component).
    public var file: String
    public var bytes: Int64
    public var contentHash: String
}

/// What the manifest says of one capture after one attempt: a line of JSON.
public struct CaptureRecord: Sendable {
    public enum Status: String, Sendable {
        /// Converted; its outputs are in place.
        case done
        /// Not converted: `error` says why; nothing of it is in --out.
        case failed
    }

    public var capture: String
    public var status: Status
    public var inputs: [InputRecord]
    public var outputs: [OutputRecord]
    public var warnings: [String]
    public var error: String?
    /// A file's tail was damaged: what came before it was converted (convert's exit status 2).
    public var damaged: Bool
    /// The options that shape the outputs, as one text (`BatchSettings.optionsKey`).
    public var options: String
    /// The shard that wrote it, I/N.
    public var shard: String
    /// Microseconds since the epoch when it was written: of two records of one
    /// capture, the later one stands.
    public var finishedAt: Int64

    var json: JSONValue {
        .object([
            ("kind", .string("capture")),
            ("capture", .string(capture)),
            ("status", .string(status.rawValue)),
            ("inputs", .array(inputs.map(Self.json))),
            ("outputs", .array(outputs.map { .object([("file", .string($0.file)), ("bytes", Self.number($0.bytes)), ("xxh64", .string($0.contentHash))]) })),
            ("warnings", .array(warnings.map(JSONValue.string))),
            ("error", error.map(JSONValue.string) ?? .null),
            ("damaged", .bool(damaged)),
            ("options", .string(options)),
            ("shard", .string(shard)),
            ("finished_at", Self.number(finishedAt)),
        ])
    }

    static func json(_ input: InputRecord) -> JSONValue {
        .object([
            ("path", .string(input.path)),
            ("member", input.member.map(JSONValue.string) ?? .null),
            ("size", number(input.size)),
            ("modified_ns", number(input.modified)),
            ("xxh64", input.contentHash.map(JSONValue.string) ?? .null),
        ])
    }

    static func number(_ value: Int64) -> JSONValue { .number(JSONNumber(value)) }

    /// Reads a record back; nil for a line that is not one (another kind, or damaged).
    init?(_ value: JSONValue) {
        guard value["kind"] == .string("capture"),
              case .string(let capture)? = value["capture"],
              case .string(let statusText)? = value["status"], let status = Status(rawValue: statusText),
              case .array(let inputs)? = value["inputs"], case .array(let outputs)? = value["outputs"],
              case .array(let warnings)? = value["warnings"],
              case .bool(let damaged)? = value["damaged"],
              case .string(let options)? = value["options"], case .string(let shard)? = value["shard"],
              let finishedAt = Self.int(value["finished_at"]) else { return nil }
        var inputRecords: [InputRecord] = []
        for input in inputs {
            guard case .string(let path)? = input["path"], let size = Self.int(input["size"]), let modified = Self.int(input["modified_ns"]) else { return nil }
            inputRecords.append(InputRecord(path: path, member: Self.string(input["member"]), size: size, modified: modified, contentHash: Self.string(input["xxh64"])))
        }
        var outputRecords: [OutputRecord] = []
        for output in outputs {
            guard case .string(let file)? = output["file"], let bytes = Self.int(output["bytes"]), case .string(let hash)? = output["xxh64"] else { return nil }
            outputRecords.append(OutputRecord(file: file, bytes: bytes, contentHash: hash))
        }
        self.capture = capture
        self.status = status
        self.inputs = inputRecords
        self.outputs = outputRecords
        self.warnings = warnings.compactMap { if case .string(let text) = $0 { return text } else { return nil } }
        self.error = Self.string(value["error"])
        self.damaged = damaged
        self.options = options
        self.shard = shard
        self.finishedAt = finishedAt
    }

    init(capture: String, status: Status, inputs: [InputRecord], outputs: [OutputRecord], warnings: [String], error: String?,
         damaged: Bool, options: String, shard: String, finishedAt: Int64) {
        self.capture = capture
        self.status = status
        self.inputs = inputs
        self.outputs = outputs
        self.warnings = warnings
        self.error = error
        self.damaged = damaged
        self.options = options
        self.shard = shard
        self.finishedAt = finishedAt
    }

    static func int(_ value: JSONValue?) -> Int64? {
        if case .number(let number)? = value { return number.int64 }
        return nil
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }
}

/// An input that is no dump or archive, or could not be read: recorded so the
/// merged report of the whole archive names it, by the shard its path falls in.
public struct ProblemRecord: Sendable, Equatable {
    public var path: String
    public var error: String

    var json: JSONValue {
        .object([("kind", .string("problem")), ("path", .string(path)), ("error", .string(error))])
    }

    public init(path: String, error: String) {
        self.path = path
        self.error = error
    }

    init?(_ value: JSONValue) {
        guard value["kind"] == .string("problem"), case .string(let path)? = value["path"], case .string(let error)? = value["error"] else { return nil }
        self.path = path
        self.error = error
    }
}
