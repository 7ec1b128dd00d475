/// Every kind of category level, and the parsing of level specs.
///
/// A new kind of level is a file in `Levels/` and one line in `kinds`.
public enum CategoryLevels {
    public static var kinds: [any CategoryLevelKind.Type] {
        [
        StatusLevel.self,
        RegisteredNameLevel.self,
        InitialCallLevel.self,
        ProcLibInitialCallLevel.self,
        ProcessLabelLevel.self,
        PidLevel.self,
        NodeLevel.self,
        CurrentFunctionLevel.self,
        BucketLevel.self,
        ]
    }

    /// The level `spec` names: a keyword, with arguments in parentheses where
    /// the kind takes them (`bucket(message_queue_len,0,1,10,100)`).
    public static func parse(_ spec: String, catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        let text = spec.filter { $0 != " " && $0 != "\t" }
        var keyword = Substring(text)
        var arguments: [String] = []
        if let open = text.firstIndex(of: "(") {
            guard text.hasSuffix(")") else { throw CategorySpecError(spec: spec, problem: "a '(' needs a closing ')' at the end") }
            keyword = text[..<open]
            let inner = text[text.index(after: open)..<text.index(before: text.endIndex)]
            arguments = inner.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if arguments == [""] { arguments = [] }
        }
        guard let kind = kinds.first(where: { $0.keyword == keyword }) else {
            throw CategorySpecError(spec: spec, problem: "no such level; known: \(usages)")
        }
        return try kind.make(arguments: arguments, catalogue: &catalogue)
    }

    /// Every kind's keyword.
    public static var keywords: [String] { kinds.map { $0.keyword } }

    /// Every kind's usage line, comma-separated.
    public static var usages: String { kinds.map { $0.usage }.joined(separator: ", ") }
}

extension CategoryLevelKind {
    /// For kinds that take no arguments.
    static func noArguments(_ arguments: [String]) throws(CategorySpecError) {
        guard arguments.isEmpty else { throw CategorySpecError(spec: "\(keyword)(\(arguments.joined(separator: ",")))", problem: "\(keyword) takes no arguments") }
    }
}
