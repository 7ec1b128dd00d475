/// The function the process was in when sampled (`current_function`), as
/// `M:F/A`; `native` when it was in native code. Groups by where processes
/// wait or run, whatever their stacks above it.
public final class CurrentFunctionLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "current_function"
    public static let usage = "current_function"
    public let spec = "current_function"
    private let cache = LabelCache()

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return CurrentFunctionLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        let function = event.sample.currentFunction
        return cache.label(function, profile) {
            function == Symbols.none ? Array("native".utf8) : profile.symbols.functionText(function)
        }
    }
}
