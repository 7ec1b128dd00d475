/// The category levels, metrics and weight that a config file chooses for one
/// convert run: the same choices as `--category`, `--metrics` and `--weight`.
/// A field the file leaves out is nil.
///
/// Category levels come out as spec strings, as `--category` takes them:
/// `{"level": "bucket", "metric": "m", "thresholds": [0, 1, 10]}` becomes
/// `bucket(m,0,1,10)`. The file's format is `schemas/convert-config.schema.json`.
public struct ConvertConfig: Sendable, Equatable {
    public var categories: [String]?
    public var metrics: [String]?
    public var weight: String?

    public init(categories: [String]? = nil, metrics: [String]? = nil, weight: String? = nil) {
        self.categories = categories
        self.metrics = metrics
        self.weight = weight
    }

    /// Reads a config file's bytes: parses the JSON, validates it against the
    /// schema, then checks what the schema cannot (thresholds in increasing
    /// order, each within Int64). `path` only names the file in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws(ConvertConfigError) -> ConvertConfig {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw .syntax(path: path, error)
        }
        let schema: JSONSchema
        switch ConvertConfigSchema.compiled {
        case .success(let compiled): schema = compiled
        case .failure(let problem): throw .schemaUnusable(problem)
        }
        do {
            try schema.validate(document)
        } catch {
            throw .invalid(path: path, at: error.path, problem: error.problem)
        }
        return try ConvertConfig(validated: document, path: path)
    }

    /// `document` matches the schema; what is checked again here only guards
    /// against the schema and this code drifting apart.
    private init(validated document: JSONValue, path: String) throws(ConvertConfigError) {
        let root = JSONPath()
        func invalid(_ at: JSONPath, _ problem: String) -> ConvertConfigError {
            .invalid(path: path, at: at, problem: problem)
        }
        func strings(_ value: JSONValue, at: JSONPath) throws(ConvertConfigError) -> [String] {
            guard case .array(let items) = value else { throw invalid(at, "expected an array, found \(value.kindDescription)") }
            var result: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item else {
                    throw invalid(at.appending(.index(index)), "expected a string, found \(item.kindDescription)")
                }
                result.append(text)
            }
            return result
        }

        if let categories = document["categories"] {
            let at = root.appending(.key("categories"))
            guard case .array(let items) = categories else { throw invalid(at, "expected an array, found \(categories.kindDescription)") }
            var specs: [String] = []
            for (index, item) in items.enumerated() {
                specs.append(try Self.levelSpec(item, at: at.appending(.index(index)), invalid: invalid))
            }
            self.categories = specs
        }
        if let metrics = document["metrics"] {
            self.metrics = try strings(metrics, at: root.appending(.key("metrics")))
        }
        if let weight = document["weight"] {
            guard case .string(let text) = weight else {
                throw invalid(root.appending(.key("weight")), "expected a string, found \(weight.kindDescription)")
            }
            self.weight = text
        }
    }

    /// A category as a spec string: a string as it is, an object spelt out.
    private static func levelSpec(
        _ item: JSONValue, at: JSONPath, invalid: (JSONPath, String) -> ConvertConfigError
    ) throws(ConvertConfigError) -> String {
        if case .string(let spec) = item { return spec }
        guard case .string(let level) = item["level"] else { throw invalid(at, "expected a string or an object with a level") }
        guard level == "bucket" else { return level }
        guard case .string(let metric) = item["metric"] else { throw invalid(at, "missing required property \"metric\"") }
        if case .string(let scale) = item["scale"] { return "bucket(\(metric),\(scale))" }
        let thresholdsPath = at.appending(.key("thresholds"))
        guard case .array(let thresholds) = item["thresholds"] else { throw invalid(at, "expected exactly one of \"scale\" or \"thresholds\"") }
        var values: [Int64] = []
        for (index, threshold) in thresholds.enumerated() {
            let here = thresholdsPath.appending(.index(index))
            guard case .number(let number) = threshold, number.isInteger else {
                throw invalid(here, "expected an integer, found \(threshold.kindDescription)")
            }
            guard let value = number.int64 else {
                throw invalid(here, "expected an integer from \(Int64.min) to \(Int64.max), found \(number.text)")
            }
            if let previous = values.last, value <= previous {
                throw invalid(here, "expected a threshold greater than the one before it (\(previous)), found \(number.text)")
            }
            values.append(value)
        }
        return "bucket(\(metric)," + values.map(String.init).joined(separator: ",") + ")"
    }
}

/// Why a config file cannot be used. Each names the file; a problem in the
/// JSON names the line and column, a problem in the config its JSON path.
public enum ConvertConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Not JSON: `PATH: line L, column C: problem`.
    case syntax(path: String, JSONSyntaxError)
    /// JSON, but not a valid config: `PATH: $.categories[3].thresholds[1]: problem`.
    case invalid(path: String, at: JSONPath, problem: String)
    /// The built-in schema does not load: a bug, which FlameModelTests catches.
    case schemaUnusable(JSONSchemaLoadError)

    public var description: String {
        switch self {
        case .syntax(let path, let error):
            return "\(path): \(error)"
        case .invalid(let path, let at, let problem):
            return "\(path): \(at): \(problem)"
        case .schemaUnusable(let error):
            return "the built-in config schema does not load (a bug in flameconv): \(error)"
        }
    }
}

extension ConvertConfigSchema {
    /// `text`, parsed and compiled once.
    static let compiled: Result<JSONSchema, JSONSchemaLoadError> = {
        let document: JSONValue
        do {
            document = try JSONValue.parse(text)
        } catch {
            return .failure(JSONSchemaLoadError(path: JSONPath(), problem: "not JSON: \(error)"))
        }
        do throws(JSONSchemaLoadError) {
            return .success(try JSONSchema(document))
        } catch {
            return .failure(error)
        }
    }()
}
