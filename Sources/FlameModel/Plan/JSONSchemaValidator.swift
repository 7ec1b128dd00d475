/// One step of a `JSONPath`: an object member or an array item.
public enum JSONPathComponent: Sendable, Hashable {
    case key(String)
    case index(Int)
}

/// Where a value sits in a JSON document, written `$.categories[3].thresholds[1]`
/// (`$['odd key']` for a key that is not an identifier).
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public var components: [JSONPathComponent]

    public init(_ components: [JSONPathComponent] = []) {
        self.components = components
    }

    public func appending(_ component: JSONPathComponent) -> JSONPath {
        JSONPath(components + [component])
    }

    public var description: String {
        var text = "$"
        for component in components {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key) where JSONPath.isIdentifier(key):
                text += "." + key
            case .key(let key):
                text += "['"
                for scalar in key.unicodeScalars {
                    switch scalar {
                    case "'": text += "\\'"
                    case "\\": text += "\\\\"
                    case _ where scalar.value < 0x20 || scalar.value == 0x7F: text += "\\u" + JSONValue.hex4(scalar.value)
                    default: text.unicodeScalars.append(scalar)
                    }
                }
                text += "']"
            }
        }
        return text
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        return key.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}

/// Why an instance does not match a schema: where, and what was expected and found.
public struct JSONSchemaViolation: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: JSONPath
    /// e.g. `expected a string or an object, found a number`.
    public var problem: String

    public init(path: JSONPath, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// `$.categories[1]: expected a string or an object, found a number`.
    public var description: String { "\(path): \(problem)" }
}

/// Why a schema cannot be used: a keyword this validator does not implement, or
/// a keyword's value that is not what the keyword takes.
public struct JSONSchemaLoadError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where in the schema document.
    public var path: JSONPath
    public var problem: String

    public init(path: JSONPath, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "schema \(path): \(problem)" }
}

/// A JSON Schema (draft 2020-12) restricted to the keywords a config schema
/// needs, each implemented in full; loading refuses any other keyword, so a
/// schema cannot lean on one that would be silently ignored.
///
/// Validation stops at the first problem, in document order, and names it by
/// its JSON path. Where `oneOf` or `anyOf` has no match, the problem reported
/// is the most specific branch's: the one that got furthest into the value,
/// after dropping branches for another type (when every branch is for another
/// type, the types are listed together: `expected a string or an object`).
public struct JSONSchema: Sendable {
    /// The only `$schema` accepted.
    public static let draft202012 = "https://json-schema.org/draft/2020-12/schema"

    /// Every keyword the validator implements; annotations are read and ignored.
    public static let supportedKeywords: [String] = [
        "$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "examples", "default",
        "type", "const", "enum", "pattern", "minimum", "minItems", "uniqueItems", "prefixItems", "items",
        "properties", "additionalProperties", "required", "minProperties", "allOf", "anyOf", "oneOf", "if", "then", "else",
    ]

    /// How deep subschemas may apply to one value before validation gives up
    /// (a `$ref` cycle that never moves into the value would loop for ever).
    static let maxEvaluationDepth = 512

    private let nodes: [Node]
    private let root: Int

    /// Compiles `schema`, checking every keyword and its value.
    public init(_ schema: JSONValue) throws(JSONSchemaLoadError) {
        var compiler = Compiler()
        root = try compiler.compileRoot(schema)
        nodes = compiler.nodes
    }

    /// Throws the first problem with `instance`, in document order.
    public func validate(_ instance: JSONValue) throws(JSONSchemaViolation) {
        if let failure = check(root, instance, depth: 0) {
            throw JSONSchemaViolation(path: JSONPath(failure.reversedPath.reversed()), problem: failure.problem)
        }
    }

    // MARK: The compiled form

    private enum JSONType: String, Sendable {
        case null, boolean, object, array, number, string, integer

        func matches(_ value: JSONValue) -> Bool {
            switch (self, value) {
            case (.null, .null), (.boolean, .bool), (.object, .object), (.array, .array), (.number, .number), (.string, .string):
                return true
            case (.integer, .number(let number)):
                return number.isInteger
            default:
                return false
            }
        }

        var withArticle: String {
            switch self {
            case .null: return "null"
            case .boolean: return "a boolean"
            case .object: return "an object"
            case .array: return "an array"
            case .number: return "a number"
            case .string: return "a string"
            case .integer: return "an integer"
            }
        }
    }

    /// One schema object; subschemas are indices into `nodes`.
    private struct Node: Sendable {
        /// The `false` schema.
        var never = false
        var types: [JSONType]?
        var constValue: JSONValue?
        var enumValues: [JSONValue]?
        var pattern: SchemaPattern?
        var minimum: JSONNumber?
        var minItems: Int?
        var uniqueItems = false
        var prefixItems: [Int] = []
        var items: Int?
        var properties: [[UInt8]: Int] = [:]
        /// The names in `properties`, in the schema's order, for messages.
        var propertyNames: [String] = []
        var additionalProperties: Int?
        var required: [String] = []
        var minProperties: Int?
        var ref: Int?
        var allOf: [Int] = []
        var anyOf: [Int] = []
        var oneOf: [Int] = []
        /// Set when every `anyOf` / `oneOf` branch is `{"required": [NAME]}`: the names.
        var anyOfNames: [String]?
        var oneOfNames: [String]?
        var ifSchema: Int?
        var thenSchema: Int?
        var elseSchema: Int?
        /// `level is "bucket"`, when `if` only compares properties with `const`.
        var condition: String?
        /// `level is not "bucket"`, when `if` compares a single property.
        var negatedCondition: String?
    }

    // MARK: Validation

    private struct Failure {
        enum Kind {
            case type(expected: [JSONType], found: JSONValue)
            case missing([String])
            case text(String)
        }

        /// Innermost component first; reversed once, when thrown.
        var reversedPath: [JSONPathComponent] = []
        var kind: Kind
        /// Why the failing subschema applied (`level is "bucket"`).
        var condition: String?

        init(_ kind: Kind) {
            self.kind = kind
        }

        var isTypeMismatchHere: Bool {
            if case .type = kind, reversedPath.isEmpty { return true }
            return false
        }

        var isMissingHere: Bool {
            if case .missing = kind, reversedPath.isEmpty { return true }
            return false
        }

        func inside(_ component: JSONPathComponent) -> Failure {
            var failure = self
            failure.reversedPath.append(component)
            return failure
        }

        var problem: String {
            let text: String
            switch kind {
            case .type(let expected, let found):
                let foundText: String
                if case .number(let number) = found, expected.contains(.integer), !number.isInteger {
                    foundText = "a number with a fraction (\(brief(found)))"
                } else {
                    foundText = found.kindDescription
                }
                text = "expected \(list(expected.map(\.withArticle), "or")), found \(foundText)"
            case .missing(let names):
                text = names.count == 1
                    ? "missing required property \(JSONValue.quoted(names[0]))"
                    : "missing required properties \(list(names.map(JSONValue.quoted), "and"))"
            case .text(let message):
                text = message
            }
            return condition.map { "\(text), as \($0)" } ?? text
        }
    }

    private func check(_ index: Int, _ value: JSONValue, depth: Int) -> Failure? {
        let node = nodes[index]
        guard depth <= Self.maxEvaluationDepth else {
            return Failure(.text("the schema applies more than \(Self.maxEvaluationDepth) subschemas deep here"))
        }
        if node.never { return Failure(.text("no value is allowed here")) }
        if let types = node.types, !types.contains(where: { $0.matches(value) }) {
            return Failure(.type(expected: types, found: value))
        }
        if let constValue = node.constValue, constValue != value {
            return Failure(.text("expected \(brief(constValue)), found \(brief(value))"))
        }
        if let enumValues = node.enumValues, !enumValues.contains(value) {
            let expected = enumValues.count == 1 ? brief(enumValues[0]) : "one of " + enumValues.map(brief).joined(separator: ", ")
            return Failure(.text("expected \(expected), found \(brief(value))"))
        }
        switch value {
        case .string(let text):
            if let pattern = node.pattern, !pattern.matches(text) {
                return Failure(.text("expected a string matching \(pattern.source), found \(brief(value))"))
            }
        case .number(let number):
            if let minimum = node.minimum, number < minimum {
                return Failure(.text("expected a number of at least \(minimum.text), found \(number.text)"))
            }
        case .array(let items):
            if let failure = checkArray(node, items, depth: depth) { return failure }
        case .object(let members):
            if let failure = checkObject(node, members, depth: depth) { return failure }
        case .null, .bool:
            break
        }
        if let ref = node.ref, let failure = check(ref, value, depth: depth + 1) { return failure }
        for branch in node.allOf {
            if let failure = check(branch, value, depth: depth + 1) { return failure }
        }
        if !node.anyOf.isEmpty {
            var failures: [Failure] = []
            for branch in node.anyOf {
                guard let failure = check(branch, value, depth: depth + 1) else { break }
                failures.append(failure)
            }
            if failures.count == node.anyOf.count {
                return mostSpecific(failures, value: value, names: node.anyOfNames, exactlyOne: false)
            }
        }
        if !node.oneOf.isEmpty {
            var failures: [Failure] = []
            var matched: [Int] = []
            for (position, branch) in node.oneOf.enumerated() {
                if let failure = check(branch, value, depth: depth + 1) {
                    failures.append(failure)
                } else {
                    matched.append(position)
                }
            }
            if matched.isEmpty {
                return mostSpecific(failures, value: value, names: node.oneOfNames, exactlyOne: true)
            }
            if matched.count > 1 {
                if let names = node.oneOfNames {
                    let present = matched.map { names[$0] }
                    let found = present.count == 2 && names.count == 2 ? "both" : list(present.map(JSONValue.quoted), "and")
                    return Failure(.text("expected exactly one of \(list(names.map(JSONValue.quoted), "or")), found \(found)"))
                }
                return Failure(.text("matches alternatives \(list(matched.map { String($0 + 1) }, "and")) of a oneOf, expected exactly one"))
            }
        }
        if let ifSchema = node.ifSchema {
            let holds = check(ifSchema, value, depth: depth + 1) == nil
            if let branch = holds ? node.thenSchema : node.elseSchema, var failure = check(branch, value, depth: depth + 1) {
                if failure.condition == nil { failure.condition = holds ? node.condition : node.negatedCondition }
                return failure
            }
        }
        return nil
    }

    private func checkArray(_ node: Node, _ items: [JSONValue], depth: Int) -> Failure? {
        if let minItems = node.minItems, items.count < minItems {
            return Failure(.text("expected at least \(counted(minItems, "item")), found \(items.isEmpty ? "none" : String(items.count))"))
        }
        for (position, item) in items.enumerated() {
            guard let schema = position < node.prefixItems.count ? node.prefixItems[position] : node.items else { continue }
            if let failure = check(schema, item, depth: depth + 1) { return failure.inside(.index(position)) }
        }
        if node.uniqueItems {
            var first: [String: Int] = [:]
            for (position, item) in items.enumerated() {
                if let earlier = first.updateValue(position, forKey: item.canonicalText) {
                    return Failure(.text("expected unique items, found \(brief(item)) again (it is also item \(earlier))")).inside(.index(position))
                }
            }
        }
        return nil
    }

    private func checkObject(_ node: Node, _ members: [(key: String, value: JSONValue)], depth: Int) -> Failure? {
        for member in members {
            if let schema = node.properties[Array(member.key.utf8)] {
                if let failure = check(schema, member.value, depth: depth + 1) { return failure.inside(.key(member.key)) }
            } else if let schema = node.additionalProperties {
                if nodes[schema].never {
                    let allowed: String
                    switch node.propertyNames.count {
                    case 0: allowed = "no properties are allowed here"
                    case 1: allowed = "only \(JSONValue.quoted(node.propertyNames[0])) is allowed"
                    default: allowed = "allowed: " + node.propertyNames.map(JSONValue.quoted).joined(separator: ", ")
                    }
                    return Failure(.text("unexpected property (\(allowed))")).inside(.key(member.key))
                }
                if let failure = check(schema, member.value, depth: depth + 1) { return failure.inside(.key(member.key)) }
            }
        }
        let missing = node.required.filter { name in !members.contains { $0.key.utf8.elementsEqual(name.utf8) } }
        if !missing.isEmpty { return Failure(.missing(missing)) }
        if let minProperties = node.minProperties, members.count < minProperties {
            return Failure(.text("expected at least \(counted(minProperties, "property", "properties")), found \(members.isEmpty ? "none" : String(members.count))"))
        }
        return nil
    }

    /// The failure to report when no branch of an `anyOf` / `oneOf` matched.
    private func mostSpecific(_ failures: [Failure], value: JSONValue, names: [String]?, exactlyOne: Bool) -> Failure {
        if failures.allSatisfy(\.isTypeMismatchHere) {
            var expected: [JSONType] = []
            for failure in failures {
                if case .type(let types, _) = failure.kind {
                    for type in types where !expected.contains(type) { expected.append(type) }
                }
            }
            return Failure(.type(expected: expected, found: value))
        }
        if let names, failures.allSatisfy(\.isMissingHere) {
            let quoted = list(names.map(JSONValue.quoted), "or")
            return Failure(.text(exactlyOne
                ? "expected exactly one of \(quoted), found \(names.count == 2 ? "neither" : "none")"
                : "expected at least one of \(quoted), found none"))
        }
        var best: Failure?
        for failure in failures where !failure.isTypeMismatchHere {
            if let current = best, current.reversedPath.count >= failure.reversedPath.count { continue }
            best = failure
        }
        return best ?? failures[0]
    }
}

/// `a`, `a or b`, `a, b or c`.
private func list(_ items: [String], _ conjunction: String) -> String {
    guard items.count > 1 else { return items.first ?? "" }
    return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items[items.count - 1]
}

/// `1 item`, `3 items`.
private func counted(_ number: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(number) \(number == 1 ? singular : plural ?? singular + "s")"
}

/// A value as a message shows it: short JSON, or its kind when long.
private func brief(_ value: JSONValue) -> String {
    let limit = 60
    switch value {
    case .string(let text):
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return JSONValue.quoted(text) }
        let quoted = JSONValue.quoted(String(String.UnicodeScalarView(scalars.prefix(limit))))
        return quoted.dropLast() + "…\""
    case .number(let number):
        return number.text.count > limit ? String(number.text.prefix(limit)) + "…" : number.text
    case .null, .bool:
        return value.jsonText
    case .array, .object:
        let text = value.jsonText
        return text.count > limit ? value.kindDescription : text
    }
}

// MARK: Loading

extension JSONSchema {
    /// Turns schema JSON into nodes, checking each keyword as it goes; `$ref`s
    /// are resolved once every definition is known.
    private struct Compiler {
        var nodes: [Node] = []
        var definitions: [String: Int] = [:]
        var references: [(node: Int, name: String, path: JSONPath)] = []

        mutating func compileRoot(_ schema: JSONValue) throws(JSONSchemaLoadError) -> Int {
            let root = try compile(schema, at: JSONPath())
            for reference in references {
                guard let target = definitions[reference.name] else {
                    throw JSONSchemaLoadError(path: reference.path, problem: "no definition \(JSONValue.quoted(reference.name)) in the root's $defs")
                }
                nodes[reference.node].ref = target
            }
            return root
        }

        private func failure(_ path: JSONPath, _ problem: String) -> JSONSchemaLoadError {
            JSONSchemaLoadError(path: path, problem: problem)
        }

        mutating func compile(_ schema: JSONValue, at path: JSONPath) throws(JSONSchemaLoadError) -> Int {
            var node = Node()
            let members: [(key: String, value: JSONValue)]
            switch schema {
            case .bool(let value):
                node.never = !value
                members = []
            case .object(let keywords):
                members = keywords
            default:
                throw failure(path, "expected a schema (an object or a boolean), found \(schema.kindDescription)")
            }
            let isRoot = path.components.isEmpty
            var referenceName: String?
            for (keyword, value) in members {
                let here = path.appending(.key(keyword))
                switch keyword {
                case "$schema":
                    guard isRoot else { throw failure(here, "$schema is only supported at the root") }
                    guard value == .string(JSONSchema.draft202012) else {
                        throw failure(here, "expected \(JSONValue.quoted(JSONSchema.draft202012)), found \(brief(value))")
                    }
                case "$id":
                    guard isRoot else { throw failure(here, "$id is only supported at the root") }
                    _ = try string(value, at: here)
                case "$defs":
                    guard isRoot else { throw failure(here, "$defs is only supported at the root") }
                    for (name, definition) in try object(value, at: here) {
                        definitions[name] = try compile(definition, at: here.appending(.key(name)))
                    }
                case "$ref":
                    let target = try string(value, at: here)
                    let prefix = "#/$defs/"
                    let name = String(target.dropFirst(prefix.count))
                    guard target.hasPrefix(prefix), !name.isEmpty, !name.contains(where: { $0 == "/" || $0 == "~" || $0 == "%" }) else {
                        throw failure(here, "only references of the form \"#/$defs/NAME\" are supported, found \(brief(value))")
                    }
                    referenceName = name
                case "$comment", "title", "description":
                    _ = try string(value, at: here)
                case "examples":
                    _ = try array(value, at: here)
                case "default":
                    break
                case "type":
                    node.types = try types(value, at: here)
                case "const":
                    node.constValue = value
                case "enum":
                    let values = try array(value, at: here)
                    guard !values.isEmpty else { throw failure(here, "expected at least one value") }
                    node.enumValues = values
                case "pattern":
                    let source = try string(value, at: here)
                    do {
                        node.pattern = try SchemaPattern(source)
                    } catch {
                        throw failure(here, "the pattern \(JSONValue.quoted(source)) is not supported: \(error.problem) (at character \(error.position + 1))")
                    }
                case "minimum":
                    guard case .number(let number) = value else { throw failure(here, "expected a number, found \(value.kindDescription)") }
                    node.minimum = number
                case "minItems":
                    node.minItems = try count(value, at: here)
                case "minProperties":
                    node.minProperties = try count(value, at: here)
                case "uniqueItems":
                    guard case .bool(let flag) = value else { throw failure(here, "expected a boolean, found \(value.kindDescription)") }
                    node.uniqueItems = flag
                case "items":
                    node.items = try compile(value, at: here)
                case "prefixItems":
                    node.prefixItems = try schemas(value, at: here)
                case "properties":
                    for (name, subschema) in try object(value, at: here) {
                        node.properties[Array(name.utf8)] = try compile(subschema, at: here.appending(.key(name)))
                        node.propertyNames.append(name)
                    }
                case "additionalProperties":
                    node.additionalProperties = try compile(value, at: here)
                case "required":
                    node.required = try names(value, at: here)
                case "allOf":
                    node.allOf = try schemas(value, at: here)
                case "anyOf":
                    node.anyOf = try schemas(value, at: here)
                    node.anyOfNames = Self.requiredAlternatives(value)
                case "oneOf":
                    node.oneOf = try schemas(value, at: here)
                    node.oneOfNames = Self.requiredAlternatives(value)
                case "if":
                    node.ifSchema = try compile(value, at: here)
                    (node.condition, node.negatedCondition) = Self.describeCondition(value)
                case "then":
                    node.thenSchema = try compile(value, at: here)
                case "else":
                    node.elseSchema = try compile(value, at: here)
                default:
                    throw failure(here, "unsupported keyword \(JSONValue.quoted(keyword)); this validator implements \(JSONSchema.supportedKeywords.joined(separator: ", "))")
                }
            }
            if node.ifSchema == nil {
                for keyword in ["then", "else"] where members.contains(where: { $0.key == keyword }) {
                    throw failure(path.appending(.key(keyword)), "\(JSONValue.quoted(keyword)) without \"if\" would be ignored")
                }
            }
            nodes.append(node)
            if let referenceName {
                references.append((node: nodes.count - 1, name: referenceName, path: path.appending(.key("$ref"))))
            }
            return nodes.count - 1
        }

        private func string(_ value: JSONValue, at path: JSONPath) throws(JSONSchemaLoadError) -> String {
            guard case .string(let text) = value else { throw failure(path, "expected a string, found \(value.kindDescription)") }
            return text
        }

        private func array(_ value: JSONValue, at path: JSONPath) throws(JSONSchemaLoadError) -> [JSONValue] {
            guard case .array(let items) = value else { throw failure(path, "expected an array, found \(value.kindDescription)") }
            return items
        }

        private func object(_ value: JSONValue, at path: JSONPath) throws(JSONSchemaLoadError) -> [(key: String, value: JSONValue)] {
            guard case .object(let members) = value else { throw failure(path, "expected an object, found \(value.kindDescription)") }
            return members
        }

        private func count(_ value: JSONValue, at path: JSONPath) throws(JSONSchemaLoadError) -> Int {
            guard case .number(let number) = value, let count = number.int64, count >= 0, count <= Int64(Int32.max) else {
                throw failure(path, "expected a non-negative integer, found \(brief(value))")
            }
            return Int(count)
        }

        private func names(_ value: JSONValue, at path: JSONPath) throws(JSONSchemaLoadError) -> [String] {
            var names: [String] = []
            for (position, item) in try array(value, at: path).enumerated() {
                let name = try string(item, at: path.appending(.index(position)))
                guard !names.contains(where: { $0.utf8.elementsEqual(name.utf8) }) else {
                    throw failure(path.appending(.index(position)), "\(JSONValue.quoted(name)) is listed twice")
                }
                names.append(name)
            }
            return names
        }

        private func types(_ value: JSONValue, at path: JSONPath) throws(JSONSchemaLoadError) -> [JSONType] {
            let items: [JSONValue]
            if case .array(let list) = value {
                guard !list.isEmpty else { throw failure(path, "expected at least one type") }
                items = list
            } else {
                items = [value]
            }
            var types: [JSONType] = []
            for (position, item) in items.enumerated() {
                let itemPath = value == item ? path : path.appending(.index(position))
                guard case .string(let name) = item, let type = JSONType(rawValue: name) else {
                    throw failure(itemPath, "expected one of \"null\", \"boolean\", \"object\", \"array\", \"number\", \"string\", \"integer\", found \(brief(item))")
                }
                guard !types.contains(type) else { throw failure(itemPath, "\(JSONValue.quoted(name)) is listed twice") }
                types.append(type)
            }
            return types
        }

        private mutating func schemas(_ value: JSONValue, at path: JSONPath) throws(JSONSchemaLoadError) -> [Int] {
            let items = try array(value, at: path)
            guard !items.isEmpty else { throw failure(path, "expected at least one schema") }
            var indices: [Int] = []
            for (position, item) in items.enumerated() {
                indices.append(try compile(item, at: path.appending(.index(position))))
            }
            return indices
        }

        /// The names, when every branch is exactly `{"required": [NAME]}`.
        private static func requiredAlternatives(_ value: JSONValue) -> [String]? {
            guard case .array(let branches) = value else { return nil }
            var names: [String] = []
            for branch in branches {
                guard case .object(let members) = branch, members.count == 1, members[0].key == "required",
                      case .array(let required) = members[0].value, required.count == 1, case .string(let name) = required[0]
                else { return nil }
                names.append(name)
            }
            return names
        }

        /// `level is "bucket"` (and `level is not "bucket"`) when `if` only
        /// compares properties with `const` (and may require them).
        private static func describeCondition(_ value: JSONValue) -> (String?, String?) {
            guard case .object(let members) = value, !members.isEmpty else { return (nil, nil) }
            var parts: [(name: String, value: JSONValue)] = []
            for member in members {
                switch member.key {
                case "required":
                    continue
                case "properties":
                    guard case .object(let properties) = member.value else { return (nil, nil) }
                    for property in properties {
                        guard case .object(let keywords) = property.value, keywords.count == 1, keywords[0].key == "const" else { return (nil, nil) }
                        parts.append((name: property.key, value: keywords[0].value))
                    }
                default:
                    return (nil, nil)
                }
            }
            guard !parts.isEmpty else { return (nil, nil) }
            let condition = parts.map { "\($0.name) is \(brief($0.value))" }.joined(separator: " and ")
            let negated = parts.count == 1 ? "\(parts[0].name) is not \(brief(parts[0].value))" : nil
            return (condition, negated)
        }
    }
}
