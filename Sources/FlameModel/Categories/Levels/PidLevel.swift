/// The process itself, as `<0.N.S>`: one group per process.
public final class PidLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "pid"
    public static let usage = "pid"
    public let spec = "pid"
    /// Labels by pid key: one entry per process seen, like the deltas' own table.
    private var labels: [UInt64: UInt32] = [:]

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return PidLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        let sample = event.sample
        if let known = labels[sample.pidKey] { return known }
        let id = profile.internCategory(Array("<0.\(sample.pidNumber).\(sample.pidSerial)>".utf8))
        labels[sample.pidKey] = id
        return id
    }
}
