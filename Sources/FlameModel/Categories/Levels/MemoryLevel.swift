/// The process's memory, in power-of-four buckets (`mem_lt_four_KiB` …
/// `mem_lt_sixty_four_GiB`, `mem_ge_sixty_four_GiB`).
public final class MemoryLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "memory"
    public static let usage = "memory"
    public let spec = "memory"
    private var labels: [UInt32] = []

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return MemoryLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        if labels.isEmpty {
            labels = (0...Self.sizes.count).map { profile.internCategory(Array(Self.bucketName($0).utf8)) }
        }
        return labels[Self.bucket(event.metrics.value(MetricCatalogue.memory) ?? 0)]
    }

    /// The bucket of `bytes`: 0 below 4 KiB, then one per power of four.
    static func bucket(_ bytes: Int64) -> Int {
        var limit: Int64 = 4096
        for index in 0..<sizes.count {
            if bytes < limit { return index }
            limit *= 4
        }
        return sizes.count
    }

    static func bucketName(_ index: Int) -> String {
        index < sizes.count ? "mem_lt_" + sizes[index] : "mem_ge_" + sizes[sizes.count - 1]
    }

    /// The buckets' upper bounds: 4 KiB, then ×4 up to 64 GiB.
    static let sizes = [
        "four_KiB", "sixteen_KiB", "sixty_four_KiB", "two_hundred_fifty_six_KiB",
        "one_MiB", "four_MiB", "sixteen_MiB", "sixty_four_MiB", "two_hundred_fifty_six_MiB",
        "one_GiB", "four_GiB", "sixteen_GiB", "sixty_four_GiB",
    ]
}
