import ArgumentParser

/// An option value that is one of a few fixed words: its cases' raw values.
///
/// Why not ArgumentParser's own defaults for such enums: they spell each
/// value through string interpolation, which looks up printing conformances
/// at run time, and that was a measurable part of start-up. These give the
/// same text (the raw value) directly.
protocol ChoiceArgument: ExpressibleByArgument, CaseIterable, RawRepresentable where RawValue == String {}

extension ChoiceArgument {
    public var defaultValueDescription: String { rawValue }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public static var allValueDescriptions: [String: String] { [:] }
}
