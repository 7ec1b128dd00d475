/// What the process runs, as `M:F/A`: proc_lib's `'$initial_call'` from the
/// dictionary (the module a gen_server, gen_statem or supervisor was started
/// with), else the `initial_call` item.
public final class ProcLibInitialCallLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "proc_lib_initial_call"
    public static let usage = "proc_lib_initial_call"
    public let spec = "proc_lib_initial_call"
    private let cache = LabelCache()

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return ProcLibInitialCallLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        let sample = event.sample
        let function = sample.dictionaryInitialCall != Symbols.none ? sample.dictionaryInitialCall : sample.initialCall
        return cache.label(function, profile) {
            function == Symbols.none ? Array("unknown".utf8) : profile.symbols.functionText(function)
        }
    }
}
