/// The registered name; for an unregistered process its initial call
/// (proc_lib's `'$initial_call'` when there is one), so that pools of
/// unnamed workers still group by what they run.
public final class RegisteredNameLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "registered_name"
    public static let usage = "registered_name"
    public let spec = "registered_name"
    private let names = LabelCache()
    private let initialCalls = LabelCache()

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return RegisteredNameLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        let sample = event.sample
        if sample.registeredName != Symbols.none {
            return names.label(sample.registeredName, profile) { Array(profile.symbols.name(sample.registeredName)) }
        }
        let function = sample.dictionaryInitialCall != Symbols.none ? sample.dictionaryInitialCall : sample.initialCall
        return initialCalls.label(function, profile) {
            function == Symbols.none ? Array("unregistered".utf8) : profile.symbols.functionText(function)
        }
    }
}
