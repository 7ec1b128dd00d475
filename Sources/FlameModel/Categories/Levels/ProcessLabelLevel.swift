/// The process label set with `proc_lib:set_label/1` (`'$process_label'`,
/// OTP 27), as text: an atom or a UTF-8 binary as it is, any other term as
/// `io:format("~w")` writes it.
public final class ProcessLabelLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "process_label"
    public static let usage = "process_label"
    public let spec = "process_label"
    private let cache = LabelCache()

    public init() {}

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        try noArguments(arguments)
        return ProcessLabelLevel()
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        let text = event.sample.processLabel
        return cache.label(text, profile) {
            text == Symbols.none ? Array("unlabelled".utf8) : Array(profile.symbols.name(text))
        }
    }
}
