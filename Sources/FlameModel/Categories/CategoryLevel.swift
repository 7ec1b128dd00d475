/// One level of grouping: it gives each event the label of its group.
///
/// Levels are chosen per run as an ordered list (`CategoryLevels.parse`); the
/// first is the outermost grouping. A level's label is readable text with its
/// unit; each output spells labels by its own rules.
public protocol CategoryLevel: AnyObject {
    /// How the level is written on the command line and in a config file:
    /// `status`, `bucket(memory,log2)`.
    var spec: String { get }

    /// The label of `event`'s group: an id of `profile.categoryNames`.
    func label(of event: ProfileEvent, in profile: Profile) -> UInt32
}

/// A kind of level, as the registry in `CategoryLevels` lists them.
public protocol CategoryLevelKind {
    /// The word that starts the level's spec: `status`, `bucket`.
    static var keyword: String { get }
    /// One line for `--help` and error messages: `bucket(METRIC,log2|decimal|T1,T2,…)`.
    static var usage: String { get }
    /// The level for `arguments` (what stood between the parentheses, split at commas).
    static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel
}

/// Why a level spec cannot be used, for the user.
public struct CategorySpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var spec: String
    public var problem: String

    public init(spec: String, problem: String) {
        self.spec = spec
        self.problem = problem
    }

    public var description: String { "category level '\(spec)': \(problem)" }
}

/// Labels of a level whose groups are few and follow one id of the sample
/// (an atom, a function): each label is made once, then found by index.
final class LabelCache {
    // One thread reads and writes these, one access at a time: no runtime
    // exclusivity check on every sample.
    @exclusivity(unchecked) private var ids: [UInt32] = []
    @exclusivity(unchecked) private var none: UInt32?

    /// The label for `key`, made by `make` on first sight. `Symbols.none` has a slot of its own.
    @inline(__always)
    func label(_ key: UInt32, _ profile: Profile, _ make: () -> [UInt8]) -> UInt32 {
        if key == Symbols.none {
            if let none { return none }
            let id = profile.internCategory(make())
            none = id
            return id
        }
        let index = Int(key)
        if index < ids.count, ids[index] != UInt32.max { return ids[index] }
        if index >= ids.count { ids.append(contentsOf: repeatElement(UInt32.max, count: index + 1 - ids.count)) }
        let id = profile.internCategory(make())
        ids[index] = id
        return id
    }
}
