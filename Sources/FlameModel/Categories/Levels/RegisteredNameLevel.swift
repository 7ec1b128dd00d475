/// The registered name, or `unregistered`.
public final class RegisteredNameLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "registered_name"
    public static let usage = "registered_name"
    public let spec = "registered_name"
    private let cache = LabelCache()

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return RegisteredNameLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        let name = event.sample.registeredName
        return cache.label(name, profile) {
            name == Symbols.none ? Array("unregistered".utf8) : Array(profile.symbols.name(name))
        }
    }
}
