/// The sampled node, from each capture's header: for captures of several
/// nodes converted together.
public final class NodeLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "node"
    public static let usage = "node"
    public let spec = "node"
    private var labels: [UInt32] = []

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return NodeLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        while labels.count <= event.capture {
            let node = profile.captures[labels.count].node ?? "unknown_node"
            labels.append(profile.internCategory(Array(node.utf8)))
        }
        return labels[event.capture]
    }
}
