@testable import FlameModel
import TestSupport
import Testing

private func schema(_ text: String) throws -> JSONSchema {
    try JSONSchema(JSONValue.parse(text))
}

/// The message for `instance`, or nil when it validates.
private func violation(_ schemaText: String, _ instance: String) throws -> String? {
    let compiled = try schema(schemaText)
    do {
        try compiled.validate(JSONValue.parse(instance))
        return nil
    } catch let error as JSONSchemaViolation {
        return error.description
    }
}

private func loadError(_ schemaText: String) throws -> String? {
    do {
        _ = try JSONSchema(JSONValue.parse(schemaText))
        return nil
    } catch let error as JSONSchemaLoadError {
        return error.description
    }
}

@Suite("JSONSchema: keywords")
struct JSONSchemaKeywordTests {
    @Test("type, including integer and lists of types")
    func types() throws {
        #expect(try violation(#"{"type": "integer"}"#, "1.0") == nil)
        #expect(try violation(#"{"type": "integer"}"#, "1e400") == nil)
        #expect(try violation(#"{"type": "integer"}"#, "0.5") == "$: expected an integer, found a number with a fraction (0.5)")
        #expect(try violation(#"{"type": "number"}"#, "0.5") == nil)
        #expect(try violation(#"{"type": ["string", "null"]}"#, "null") == nil)
        #expect(try violation(#"{"type": ["string", "null", "boolean"]}"#, "{}") == "$: expected a string, null or a boolean, found an object")
        #expect(try violation(#"{"type": "array"}"#, "true") == "$: expected an array, found a boolean")
    }

    @Test("const and enum compare as JSON values")
    func constAndEnum() throws {
        #expect(try violation(#"{"const": {"a": [1, 2]}}"#, #"{"a": [1.0, 2e0]}"#) == nil)
        #expect(try violation(#"{"const": 1}"#, "true") == "$: expected 1, found true")
        #expect(try violation(#"{"const": "x"}"#, #""y""#) == #"$: expected "x", found "y""#)
        #expect(try violation(#"{"enum": [null, 2, "two"]}"#, "2.0") == nil)
        #expect(try violation(#"{"enum": [null, 2, "two"]}"#, "[2]") == #"$: expected one of null, 2, "two", found [2]"#)
        #expect(try violation(#"{"enum": ["only"]}"#, #""other""#) == #"$: expected "only", found "other""#)
    }

    @Test("long values are shortened in messages")
    func briefValues() throws {
        let long = String(repeating: "x", count: 100)
        #expect(try violation(#"{"const": "a"}"#, "\"\(long)\"") == "$: expected \"a\", found \"\(String(repeating: "x", count: 60))…\"")
        #expect(try violation(#"{"const": "a"}"#, "[\"\(long)\"]") == "$: expected \"a\", found an array")
    }

    @Test("minimum, exactly")
    func minimum() throws {
        #expect(try violation(#"{"minimum": 0}"#, "0") == nil)
        #expect(try violation(#"{"minimum": 0}"#, "-1e-400") == "$: expected a number of at least 0, found -1e-400")
        #expect(try violation(#"{"minimum": 9007199254740993}"#, "9007199254740992") == "$: expected a number of at least 9007199254740993, found 9007199254740992")
        #expect(try violation(#"{"minimum": 0}"#, #""not a number""#) == nil)
    }

    @Test("prefixItems, items, minItems, uniqueItems")
    func arrays() throws {
        let tuple = #"{"prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false, "minItems": 2}"#
        #expect(try violation(tuple, #"["a", 1]"#) == nil)
        #expect(try violation(tuple, #"["a"]"#) == "$: expected at least 2 items, found 1")
        #expect(try violation(tuple, #"["a", "b"]"#) == "$[1]: expected an integer, found a string")
        #expect(try violation(tuple, #"["a", 1, 2]"#) == "$[2]: no value is allowed here")
        #expect(try violation(#"{"uniqueItems": true}"#, #"[{"a": 1, "b": 2}, {"b": 2, "a": 1.0}]"#) == #"$[1]: expected unique items, found {"b":2,"a":1.0} again (it is also item 0)"#)
        #expect(try violation(#"{"uniqueItems": true}"#, #"[1, true, "1", [1], {"1": 1}, null]"#) == nil)
        #expect(try violation(#"{"uniqueItems": false}"#, "[1, 1]") == nil)
    }

    @Test("properties, required, additionalProperties, minProperties")
    func objects() throws {
        let object = #"{"properties": {"a": {"type": "string"}, "b c": {"type": "integer"}}, "required": ["a", "b c"], "additionalProperties": {"type": "boolean"}, "minProperties": 3}"#
        #expect(try violation(object, #"{"a": "x", "b c": 1, "d": true}"#) == nil)
        #expect(try violation(object, #"{"a": "x", "b c": 1}"#) == "$: expected at least 3 properties, found 2")
        #expect(try violation(object, #"{"a": "x", "b c": "1", "d": true}"#) == "$['b c']: expected an integer, found a string")
        #expect(try violation(object, #"{"d": 0, "a": "x"}"#) == "$.d: expected a boolean, found a number")
        #expect(try violation(object, #"{"d": true, "e": false}"#) == #"$: missing required properties "a" and "b c""#)
        #expect(try violation(#"{"additionalProperties": false}"#, #"{"it's": 1}"#) == #"$['it\'s']: unexpected property (no properties are allowed here)"#)
        #expect(try violation(#"{"required": ["a"]}"#, "[]") == nil)
    }

    @Test("allOf, anyOf, oneOf, $ref")
    func applicators() throws {
        let defs = #""$defs": {"small": {"type": "integer", "minimum": -10}, "text": {"type": "string", "pattern": "^t"}}"#
        #expect(try violation(#"{"allOf": [{"type": "integer"}, {"minimum": 5}]}"#, "4") == "$: expected a number of at least 5, found 4")
        #expect(try violation(#"{"anyOf": [{"type": "integer"}, {"type": "string"}]}"#, "true") == "$: expected an integer or a string, found a boolean")
        #expect(try violation(#"{"anyOf": [{"type": "integer"}, {"type": "string"}]}"#, #""s""#) == nil)
        #expect(try violation(#"{"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}"#, "{}") == #"$: expected at least one of "a" or "b", found none"#)
        #expect(try violation("{\(defs), \"oneOf\": [{\"$ref\": \"#/$defs/small\"}, {\"$ref\": \"#/$defs/text\"}]}", "-11") == "$: expected a number of at least -10, found -11")
        #expect(try violation("{\(defs), \"oneOf\": [{\"$ref\": \"#/$defs/small\"}, {\"$ref\": \"#/$defs/text\"}]}", #""x""#) == #"$: expected a string matching ^t, found "x""#)
        #expect(try violation(#"{"oneOf": [{"minimum": 0}, {"type": "integer"}]}"#, "1") == "$: matches alternatives 1 and 2 of a oneOf, expected exactly one")
        #expect(try violation(#"{"oneOf": [{"required": ["a"]}, {"required": ["b"]}, {"required": ["c"]}]}"#, #"{"a": 1, "c": 1}"#) == #"$: expected exactly one of "a", "b" or "c", found "a" and "c""#)
        #expect(try violation(#"{"oneOf": [{"required": ["a"]}, {"required": ["b"]}, {"required": ["c"]}]}"#, "{}") == #"$: expected exactly one of "a", "b" or "c", found none"#)
    }

    @Test("oneOf reports the branch that got furthest into the value")
    func mostSpecificBranch() throws {
        let branches = #"{"oneOf": [{"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "integer"}}}}}, {"type": "object", "required": ["z"]}, {"type": "string"}]}"#
        #expect(try violation(branches, #"{"a": {"b": "x"}}"#) == "$.a.b: expected an integer, found a string")
        #expect(try violation(branches, #"{"a": {"b": "x"}, "z": 1}"#) == nil)
        #expect(try violation(branches, #"{"a": 5}"#) == "$.a: expected an object, found a number")
        #expect(try violation(branches, "3") == "$: expected an object or a string, found a number")
    }

    @Test("if / then / else, with the condition in the message")
    func conditionals() throws {
        let conditional = #"{"if": {"properties": {"kind": {"const": "n"}}}, "then": {"required": ["n"]}, "else": {"required": ["s"]}}"#
        #expect(try violation(conditional, #"{"kind": "n", "n": 1}"#) == nil)
        #expect(try violation(conditional, #"{"kind": "n"}"#) == #"$: missing required property "n", as kind is "n""#)
        #expect(try violation(conditional, #"{"kind": "x"}"#) == #"$: missing required property "s", as kind is not "n""#)
        let opaque = #"{"if": {"type": "integer"}, "then": {"minimum": 0}}"#
        #expect(try violation(opaque, "-1") == "$: expected a number of at least 0, found -1")
        #expect(try violation(opaque, "-1.5") == nil)
    }

    @Test("boolean schemas")
    func booleans() throws {
        #expect(try violation("true", "[1]") == nil)
        #expect(try violation("false", "null") == "$: no value is allowed here")
        #expect(try violation(#"{"properties": {"a": false}}"#, #"{"a": 1}"#) == "$.a: no value is allowed here")
    }

    @Test("a $ref cycle that never moves into the value stops with an error")
    func referenceCycle() throws {
        let cycle = ##"{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}"##
        #expect(try violation(cycle, "1") == "$: the schema applies more than 512 subschemas deep here")
        let recursive = ##"{"$defs": {"tree": {"type": "array", "items": {"$ref": "#/$defs/tree"}}}, "$ref": "#/$defs/tree"}"##
        #expect(try violation(recursive, "[[[], [[]]]]") == nil)
        #expect(try violation(recursive, "[[[], [1]]]") == "$[0][1][0]: expected an array, found a number")
    }
}

@Suite("JSONSchema: loading")
struct JSONSchemaLoadTests {
    @Test("keywords it does not implement are refused", arguments: [
        "maxLength", "maxItems", "maximum", "exclusiveMinimum", "multipleOf", "format", "not", "patternProperties",
        "propertyNames", "dependentRequired", "dependentSchemas", "contains", "unevaluatedProperties", "$anchor", "$dynamicRef", "definitions",
    ])
    func unsupported(keyword: String) throws {
        let message = try loadError(#"{"properties": {"x": {""# + keyword + #"": 1}}}"#)
        let path = JSONPath([.key("properties"), .key("x"), .key(keyword)])
        #expect(message?.hasPrefix("schema \(path): unsupported keyword \"\(keyword)\"; this validator implements $schema, $id") == true, "\(message ?? "nil")")
    }

    @Test("keyword values are checked", arguments: [
        (#"{"type": "float"}"#, #"schema $.type: expected one of "null", "boolean", "object", "array", "number", "string", "integer", found "float""#),
        (#"{"type": ["string", "string"]}"#, #"schema $.type[1]: "string" is listed twice"#),
        (#"{"type": []}"#, "schema $.type: expected at least one type"),
        (#"{"minItems": -1}"#, "schema $.minItems: expected a non-negative integer, found -1"),
        (#"{"minItems": 1.5}"#, "schema $.minItems: expected a non-negative integer, found 1.5"),
        (#"{"required": ["a", "a"]}"#, #"schema $.required[1]: "a" is listed twice"#),
        (#"{"required": "a"}"#, "schema $.required: expected an array, found a string"),
        (#"{"oneOf": []}"#, "schema $.oneOf: expected at least one schema"),
        (#"{"enum": []}"#, "schema $.enum: expected at least one value"),
        (#"{"items": 3}"#, "schema $.items: expected a schema (an object or a boolean), found a number"),
        (#"{"uniqueItems": 1}"#, "schema $.uniqueItems: expected a boolean, found a number"),
        (#"{"minimum": "0"}"#, "schema $.minimum: expected a number, found a string"),
        (#"{"then": {}}"#, #"schema $.then: "then" without "if" would be ignored"#),
        (##"{"$ref": "#/definitions/a"}"##, ##"schema $['$ref']: only references of the form "#/$defs/NAME" are supported, found "#/definitions/a""##),
        (##"{"$ref": "#/$defs/missing"}"##, #"schema $['$ref']: no definition "missing" in the root's $defs"#),
        (#"{"$schema": "http://json-schema.org/draft-07/schema#"}"#, #"schema $['$schema']: expected "https://json-schema.org/draft/2020-12/schema", found "http://json-schema.org/draft-07/schema#""#),
        (#"{"items": {"$defs": {}}}"#, "schema $.items['$defs']: $defs is only supported at the root"),
        (#"{"items": {"$id": "x"}}"#, "schema $.items['$id']: $id is only supported at the root"),
        (#"{"pattern": "a{2}"}"#, #"schema $.pattern: the pattern "a{2}" is not supported: counted repetition {…} is not supported (at character 2)"#),
        (#"{"pattern": "(?=a)"}"#, #"schema $.pattern: the pattern "(?=a)" is not supported: lookaround and named groups are not supported (at character 1)"#),
        (#"{"pattern": "\\bword"}"#, #"schema $.pattern: the pattern "\\bword" is not supported: the escape '\b' is not supported (at character 1)"#),
        ("[]", "schema $: expected a schema (an object or a boolean), found an array"),
    ])
    func invalidValues(schemaText: String, message: String) throws {
        #expect(try loadError(schemaText) == message)
    }

    @Test("annotations are accepted and ignored")
    func annotations() throws {
        #expect(try loadError(#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x.json", "title": "t", "description": "d", "$comment": "c", "examples": [1], "default": 2}"#) == nil)
    }
}

@Suite("JSONPath")
struct JSONPathTests {
    @Test("identifiers after dots, anything else in brackets")
    func rendering() {
        #expect(JSONPath().description == "$")
        #expect(JSONPath([.key("categories"), .index(3), .key("thresholds"), .index(1)]).description == "$.categories[3].thresholds[1]")
        #expect(JSONPath([.key("a b"), .key("_x9"), .key("9x"), .key(""), .key("é"), .key("q'\\\n")]).description == #"$['a b']._x9['9x']['']['é']['q\'\\\u000A']"#)
    }
}

@Suite("SchemaPattern")
struct SchemaPatternTests {
    @Test("matches as ECMA-262 does", arguments: [
        ("^[a-z_]+(\\(.*\\))?$", "status", true),
        ("^[a-z_]+(\\(.*\\))?$", "bucket(memory,log2)", true),
        ("^[a-z_]+(\\(.*\\))?$", "bucket()", true),
        ("^[a-z_]+(\\(.*\\))?$", "bucket(", false),
        ("^[a-z_]+(\\(.*\\))?$", "(x)", false),
        ("^[a-z_]+(\\(.*\\))?$", "status\n", false),
        ("^[a-z_]+(\\(.*\\))?$", "bucket(a\u{2029}b)", false),
        ("^[a-z][a-zA-Z0-9_]*$", "binVheap_2", true),
        ("^[a-z][a-zA-Z0-9_]*$", "", false),
        ("b", "abc", true),
        ("^b", "abc", false),
        ("c$", "abc", true),
        ("a|^x", "xyz", true),
        ("(?:ab)+c", "zababc", true),
        ("^(ab)+$", "aba", false),
        ("^(a*)*$", "aaaa", true),
        ("^(a|b)*c?$", "abbac", true),
        ("^[^a-c\\d]$", "d", true),
        ("^[^a-c\\d]$", "5", false),
        ("^\\w\\s\\S\\W$", "a \t.", false),
        ("^\\w\\s\\S\\W$", "a x.", true),
        ("^[\\D]$", "x", true),
        ("^[a\\-z]$", "-", true),
        ("^[-a]$", "-", true),
        ("^\\x41\\u00e9$", "Aé", true),
        ("^.$", "😀", true),
        ("^[]$", "", false),
        ("^$", "", true),
    ])
    func matching(pattern: String, text: String, matches: Bool) throws {
        #expect(try SchemaPattern(pattern).matches(text) == matches)
    }

    @Test("refused syntax", arguments: ["a{1,2}", "a*?", "a**", "(a", "a)", "[a", "[z-a]", "[\\d-z]", "\\", "\\1", "\\k", "*a", "^*", "(?<n>a)", "\\08"])
    func refused(pattern: String) {
        #expect(throws: SchemaPattern.SyntaxError.self) { try SchemaPattern(pattern) }
    }

    @Test("linear time on a hostile input")
    func linearTime() throws {
        // A backtracking matcher takes exponential time here; this one is
        // linear: 4 times the input, about 4 times the time.
        let pattern = try SchemaPattern("^(a|a)*(a*)*b$")
        let small = String(repeating: "a", count: 5_000), large = String(repeating: "a", count: 20_000)
        #expect(!pattern.matches(large))
        let ratio = GrowthCheck.ratio(small: { _ = pattern.matches(small) }, large: { _ = pattern.matches(large) })
        #expect(ratio < 8, "4 times the input took \(ratio) times as long: worse than linear")
    }
}
