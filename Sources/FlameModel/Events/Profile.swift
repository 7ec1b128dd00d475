/// The tables a run builds while it reads, shared by every output: names,
/// stacks, metrics and category labels, each id stable for the whole run, so
/// an output can refer to them after the pass.
public final class Profile {
    // One thread reads and writes these, one access at a time: no runtime
    // exclusivity check on every sample.
    @exclusivity(unchecked) public var symbols = Symbols()
    @exclusivity(unchecked) public var stacks = StackTable()
    @exclusivity(unchecked) public var catalogue: MetricCatalogue
    /// Category labels (UTF-8), for every level.
    @exclusivity(unchecked) public var categoryNames = ByteInterner(capacity: 256)
    /// The category levels, in order: the first is the outermost grouping.
    public let levels: [any CategoryLevel]
    public private(set) var captures: [CaptureInfo] = []

    public init(catalogue: MetricCatalogue = MetricCatalogue(), levels: [any CategoryLevel]) {
        self.catalogue = catalogue
        self.levels = levels
    }

    /// Adds a capture; its index is what events carry.
    public func addCapture(_ info: CaptureInfo) -> Int {
        captures.append(info)
        return captures.count - 1
    }

    public func categoryName(_ id: UInt32) -> ArraySlice<UInt8> { categoryNames.bytes(of: id) }

    public func categoryText(_ id: UInt32) -> String { String(decoding: categoryNames.bytes(of: id), as: UTF8.self) }

    /// The id of label `text`, made on first use.
    public func internCategory(_ text: [UInt8]) -> UInt32 {
        text.withUnsafeBytes { categoryNames.intern($0).id }
    }

    /// The stack id of `sample`, `place` its index in its tick's samples,
    /// made on first sight. (From this module: `@exclusivity(unchecked)` holds
    /// only here; another module's access to `stacks` is checked at run time.)
    @inline(__always)
    public func stack(of sample: ProcessSample, at place: Int, symbols: Symbols) -> UInt32 {
        stacks.stack(of: sample, at: place, symbols: symbols)
    }

    /// The frames of stack `id`, innermost first.
    public func frames(of stack: UInt32) -> [UInt32] { stacks.stacks[Int(stack)] }

    public func frame(_ id: UInt32) -> ProfileFrame { stacks.frames[Int(id)] }
}
