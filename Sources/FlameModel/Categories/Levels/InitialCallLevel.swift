/// The `initial_call` item as `M:F/A`: for proc_lib processes (gen_servers
/// and the like) that is `proc_lib:init_p/5`; see `proc_lib_initial_call`.
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
        let function = event.sample.initialCall
        return cache.label(function, profile) {
            function == Symbols.none ? Array("unknown".utf8) : profile.symbols.functionText(function)
        }
    }
}
