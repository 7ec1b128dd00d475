/// The initial call as `M:F/A` (proc_lib's `'$initial_call'` when there is one).
public final class InitialCallLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "initial_call"
    public static let usage = "initial_call"
    public let spec = "initial_call"
    private let cache = LabelCache()

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return InitialCallLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        let sample = event.sample
        let function = sample.dictionaryInitialCall != Symbols.none ? sample.dictionaryInitialCall : sample.initialCall
        return cache.label(function, profile) {
            function == Symbols.none ? Array("unknown".utf8) : profile.symbols.functionText(function)
        }
    }
}
