@testable import FlameModel
import Foundation
import TestSupport
import Testing

private let configDirectory = Fixtures.root.appendingPathComponent("Tests/reference/testdata/configs")

private func configFiles(_ prefix: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: configDirectory.path)
        .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
        .sorted()
}

private func parse(_ text: String, path: String = "flameconv.json") throws(ConvertConfigError) -> ConvertConfig {
    try ConvertConfig.parse(Array(text.utf8), path: path)
}

@Suite("ConvertConfig: the embedded schema")
struct ConvertConfigSchemaTests {
    @Test("equals schemas/convert-config.schema.json byte for byte (run scripts/embed-config-schema.sh)")
    func embeddedTextMatchesTheFile() throws {
        let file = try Fixtures.bytes(Fixtures.root.appendingPathComponent("schemas/convert-config.schema.json"))
        #expect(Array(ConvertConfigSchema.text.utf8) == file)
    }

    @Test("loads")
    func loads() throws {
        _ = try ConvertConfigSchema.compiled.get()
    }
}

@Suite("ConvertConfig: the files in Tests/reference/testdata/configs")
struct ConvertConfigFileTests {
    /// What each good file reads as.
    static let good: [String: ConvertConfig] = [
        "good-brief-example.json": ConvertConfig(
            categories: ["status", "bucket(memory,log2)", "registered_name", "bucket(message_queue_len,0,1,10,100,1000)", "bucket(bin_vheap_size_delta,log2)"],
            metrics: ["reductions", "memory", "bin_vheap_size_bytes"],
            weight: "reductions_delta"),
        "good-categories-as-strings.json": ConvertConfig(
            categories: ["status", "registered_name", "bucket(message_queue_len,0,1,10,100,1000)", "initial_call"]),
        "good-metrics-only.json": ConvertConfig(metrics: ["reductions"]),
        "good-weight-samples.json": ConvertConfig(weight: "samples"),
        "good-every-scale.json": ConvertConfig(
            categories: ["bucket(memory,log2)", "bucket(total_heap_size,log4)", "bucket(message_queue_len,decimal)"]),
        "good-thresholds-written-as-floats.json": ConvertConfig(
            categories: ["bucket(reductions_delta,-10,0,1,100,250,9223372036854775807)"]),
        "good-crlf-and-escapes.json": ConvertConfig(categories: ["status"], weight: "memory_delta"),
    ]

    /// What flameconv says of each bad file. The same files pass (`good-`,
    /// `bad-program-`) or fail python's jsonschema in Tests/reference/test_schemas.py.
    static let bad: [String: String] = [
        "bad-empty-object.json": "$: expected at least 1 property, found none",
        "bad-top-level-array.json": "$: expected an object, found an array",
        "bad-unknown-property.json": #"$.metric: unexpected property (allowed: "categories", "metrics", "weight")"#,
        "bad-categories-empty.json": "$.categories: expected at least 1 item, found none",
        "bad-categories-not-array.json": "$.categories: expected an array, found a string",
        "bad-category-number.json": "$.categories[1]: expected a string or an object, found a number",
        "bad-category-uppercase.json": #"$.categories[0]: expected a string matching ^[a-z_]+(\(.*\))?$, found "Status""#,
        "bad-category-space-before-arguments.json": #"$.categories[0]: expected a string matching ^[a-z_]+(\(.*\))?$, found "bucket (memory,log2)""#,
        "bad-level-missing.json": #"$.categories[0]: missing required property "level""#,
        "bad-level-pattern.json": #"$.categories[0].level: expected a string matching ^[a-z_]+$, found "registered-name""#,
        "bad-level-not-string.json": "$.categories[0].level: expected a string, found a boolean",
        "bad-level-unknown-property.json": #"$.categories[0].base: unexpected property (allowed: "level", "metric", "scale", "thresholds")"#,
        "bad-metric-without-bucket.json": #"$.categories[0].metric: unexpected property (only "level" is allowed), as level is not "bucket""#,
        "bad-thresholds-without-bucket.json": #"$.categories[1].thresholds: unexpected property (only "level" is allowed), as level is not "bucket""#,
        "bad-bucket-without-metric.json": #"$.categories[0]: missing required property "metric", as level is "bucket""#,
        "bad-bucket-without-scale-or-thresholds.json": #"$.categories[0]: expected exactly one of "scale" or "thresholds", found neither, as level is "bucket""#,
        "bad-bucket-scale-and-thresholds.json": #"$.categories[0]: expected exactly one of "scale" or "thresholds", found both, as level is "bucket""#,
        "bad-bucket-unknown-scale.json": #"$.categories[0].scale: expected one of "log2", "log4", "decimal", found "log3""#,
        "bad-bucket-metric-name.json": #"$.categories[0].metric: expected a string matching ^[a-z][a-zA-Z0-9_]*$, found "Memory""#,
        "bad-thresholds-empty.json": "$.categories[0].thresholds: expected at least 1 item, found none",
        "bad-threshold-fraction.json": "$.categories[1].thresholds[1]: expected an integer, found a number with a fraction (1.5)",
        "bad-threshold-string.json": "$.categories[0].thresholds[1]: expected an integer, found a string",
        "bad-metrics-empty.json": "$.metrics: expected at least 1 item, found none",
        "bad-metrics-duplicate.json": #"$.metrics[2]: expected unique items, found "reductions" again (it is also item 0)"#,
        "bad-metrics-comma-separated-string.json": "$.metrics: expected an array, found a string",
        "bad-metrics-name.json": #"$.metrics[1]: expected a string matching ^[a-z][a-zA-Z0-9_]*$, found "9lives""#,
        "bad-weight-number.json": "$.weight: expected a string, found a number",
        "bad-weight-name.json": #"$.weight: expected a string matching ^[a-z][a-zA-Z0-9_]*$, found "reductions-delta""#,
        "bad-program-thresholds-order.json": "$.categories[1].thresholds[2]: expected a threshold greater than the one before it (10), found 10",
        "bad-program-thresholds-descending.json": "$.categories[0].thresholds[1]: expected a threshold greater than the one before it (100), found 10",
        "bad-program-threshold-out-of-range.json":
            "$.categories[0].thresholds[1]: expected an integer from -9223372036854775808 to 9223372036854775807, found 9223372036854775808",
        "bad-syntax-trailing-comma.json": "line 4, column 3: expected a value after ',', found ']' (JSON allows no trailing comma)",
        "bad-syntax-duplicate-key.json": #"line 3, column 3: duplicate key "weight" in an object"#,
        "bad-syntax-comment.json": "line 2, column 3: expected a key in double quotes, found '/' (JSON has no comments)",
        "bad-syntax-nan.json": "line 1, column 75: expected a value, found 'N'",
        "bad-syntax-byte-order-mark.json": "line 1, column 1: the input starts with a UTF-8 byte order mark, which JSON does not allow; save it without one",
    ]

    @Test("every file has its expectation here, and every expectation its file")
    func everyFileIsListed() throws {
        #expect(try Set(configFiles("good-")) == Set(Self.good.keys))
        #expect(try Set(configFiles("bad-")) == Set(Self.bad.keys))
        #expect(try configFiles("").allSatisfy { $0.hasPrefix("good-") || $0.hasPrefix("bad-") })
    }

    @Test("good files read as expected", arguments: good.keys.sorted())
    func goodFile(name: String) throws {
        let config = try ConvertConfig.parse(try Fixtures.bytes(configDirectory.appendingPathComponent(name)), path: name)
        #expect(config == Self.good[name])
    }

    @Test("bad files fail with the expected message", arguments: bad.keys.sorted())
    func badFile(name: String) throws {
        let contents = try Fixtures.bytes(configDirectory.appendingPathComponent(name))
        let error = #expect(throws: ConvertConfigError.self) { try ConvertConfig.parse(contents, path: "configs/" + name) }
        #expect(error?.description == "configs/\(name): " + (Self.bad[name] ?? ""))
        switch error {
        case .syntax?: #expect(name.hasPrefix("bad-syntax-"))
        case .invalid?: #expect(!name.hasPrefix("bad-syntax-"))
        default: Issue.record("unexpected \(String(describing: error))")
        }
    }
}

@Suite("ConvertConfig.parse")
struct ConvertConfigParseTests {
    @Test("fields left out are nil")
    func optionalFields() throws {
        #expect(try parse(#"{"weight": "reductions_delta"}"#) == ConvertConfig(weight: "reductions_delta"))
        #expect(try parse(#"{"metrics": ["memory", "reductions"], "weight": "samples"}"#) == ConvertConfig(metrics: ["memory", "reductions"], weight: "samples"))
    }

    @Test("object levels become spec strings", arguments: [
        (#"{"level": "status"}"#, "status"),
        (#"{"level": "initial_call"}"#, "initial_call"),
        (#"{"level": "bucket", "metric": "m", "thresholds": [0, 1, 10]}"#, "bucket(m,0,1,10)"),
        (#"{"level": "bucket", "metric": "m", "thresholds": [-5]}"#, "bucket(m,-5)"),
        (#"{"thresholds": [1e1, 2E+1, 300e-1], "metric": "m", "level": "bucket"}"#, "bucket(m,10,20,30)"),
        (#"{"level": "bucket", "metric": "bin_vheap_size_delta", "scale": "log4"}"#, "bucket(bin_vheap_size_delta,log4)"),
        (#""bucket(memory, log2)""#, "bucket(memory, log2)"),
    ])
    func levels(json: String, spec: String) throws {
        #expect(try parse(#"{"categories": ["#  + json + "]}").categories == [spec])
    }

    @Test("messages name the file, then the line and column or the JSON path")
    func messageForms() {
        #expect(throws: ConvertConfigError.syntax(path: "a/b.json", JSONSyntaxError(offset: 13, line: 2, column: 1, problem: "expected ',' or '}' after an object member, found the end of the input"))) {
            try parse("{\"weight\": 1\n", path: "a/b.json")
        }
        let error = #expect(throws: ConvertConfigError.self) { try parse(#"{"categories": [{"level": "bucket", "metric": "m", "thresholds": [1, 2, 2]}]}"#, path: "/etc/flameconv.json") }
        #expect(error == .invalid(path: "/etc/flameconv.json", at: JSONPath([.key("categories"), .index(0), .key("thresholds"), .index(2)]), problem: "expected a threshold greater than the one before it (2), found 2"))
        #expect(error?.description == "/etc/flameconv.json: $.categories[0].thresholds[2]: expected a threshold greater than the one before it (2), found 2")
    }

    @Test("a number the same as its predecessor is not greater, however written")
    func equalThresholdsWrittenDifferently() {
        let error = #expect(throws: ConvertConfigError.self) { try parse(#"{"categories": [{"level": "bucket", "metric": "m", "thresholds": [100, 1e2]}]}"#) }
        #expect(error?.description == "flameconv.json: $.categories[0].thresholds[1]: expected a threshold greater than the one before it (100), found 1e2")
    }

    @Test("the schema is checked before the program's own checks")
    func schemaFirst() {
        // Out of order and a fraction: the fraction (a schema problem) is reported.
        let error = #expect(throws: ConvertConfigError.self) { try parse(#"{"categories": [{"level": "bucket", "metric": "m", "thresholds": [5, 1, 2.5]}]}"#) }
        #expect(error?.description == "flameconv.json: $.categories[0].thresholds[2]: expected an integer, found a number with a fraction (2.5)")
    }

    @Test("the first problem in document order is the one reported")
    func documentOrder() {
        let error = #expect(throws: ConvertConfigError.self) { try parse(#"{"weight": 5, "metrics": []}"#) }
        #expect(error?.description == "flameconv.json: $.weight: expected a string, found a number")
    }

    @Test("patterns follow ECMA-262: '$' is the very end, '.' stops at line terminators")
    func ecmaPatterns() {
        // Python's re (and so python's jsonschema) lets '$' match before a final
        // newline; the schema's dialect does not, and neither does flameconv.
        for spec in [#""status\n""#, #""bucket(a\nb)""#, #""bucket(a\rb)""#, #""bucket(a\u2028b)""#] {
            #expect(throws: ConvertConfigError.self, "\(spec)") { try parse(#"{"categories": ["# + spec + "]}") }
        }
        #expect(throws: Never.self) { try parse(#"{"categories": ["bucket(a\tb)"]}"#) }
    }

    @Test("size and depth limits apply to config files too")
    func limits() {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        let error = #expect(throws: ConvertConfigError.self) { try parse(#"{"categories": "# + deep + "}") }
        #expect(error?.description == "flameconv.json: line 1, column 79: arrays and objects nest deeper than the limit of 64 levels")
        let big = #"{"metrics": [""# + String(repeating: "a", count: 1 << 20) + #""]}"#
        let tooBig = #expect(throws: ConvertConfigError.self) { try parse(big) }
        #expect(tooBig?.description == "flameconv.json: line 1, column 1048577: the input is larger than the limit of 1048576 bytes")
    }

    @Test("many metrics: uniqueness is checked without comparing every pair")
    func manyMetrics() throws {
        let names = (0..<20_000).map { "\"m\($0)\"" }
        #expect(try parse(#"{"metrics": ["# + names.joined(separator: ",") + "]}").metrics?.count == 20_000)
        let error = #expect(throws: ConvertConfigError.self) { try parse(#"{"metrics": ["# + (names + ["\"m7\""]).joined(separator: ",") + "]}") }
        #expect(error?.description == #"flameconv.json: $.metrics[20000]: expected unique items, found "m7" again (it is also item 7)"#)
    }

    @Test("mutated config files give a config or an error, never a crash")
    func mutations() throws {
        let seeds = try configFiles("").map { try Fixtures.bytes(configDirectory.appendingPathComponent($0)) }
        var random = SplitMix64(state: 4)
        for _ in 0..<4000 {
            var input = seeds.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...3, using: &random) where !input.isEmpty {
                let position = Int.random(in: 0..<input.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: input[position] = Array(#"{}[],:"0123456789.-e aeltbucksNn\"#.utf8).randomElement(using: &random)!
                case 1: input.insert(UInt8.random(in: 0...255, using: &random), at: position)
                case 2: input.remove(at: position)
                default: input[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                }
            }
            do {
                let config = try ConvertConfig.parse(input, path: "fuzz.json")
                #expect(config.categories != nil || config.metrics != nil || config.weight != nil)
            } catch {
                #expect(error.description.hasPrefix("fuzz.json: "))
            }
        }
    }
}
