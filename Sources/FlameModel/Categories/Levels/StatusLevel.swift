/// The process status (`running`, `waiting` …), as flame_prof groups.
public final class StatusLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "status"
    public static let usage = "status"
    public let spec = "status"
    private let cache = LabelCache()

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return StatusLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        let status = event.sample.status
        return cache.label(status, profile) {
            status == Symbols.none ? Array("unknown".utf8) : Array(profile.symbols.name(status))
        }
    }
}
