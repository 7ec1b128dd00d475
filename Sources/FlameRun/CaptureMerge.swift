import FlameDump
import FlameModel

/// The reading half of a run: the captures merged by tick time into one
/// stream, as a sequence of steps.
///
/// Within a capture, files follow `seq` order. A capture is opened only when
/// the merge reaches its start (the earliest `started_at` of its files) and
/// closed after its last tick, so descriptors and memory follow the captures
/// that overlap in time, not all the captures given. Each step (`next`) reads
/// what it must (the next tick of the capture handed out last, the first tick
/// of each capture that opens) and ends at the next tick in time order, or at
/// the end. Every name and metric a tick refers to is interned, in the tables
/// passed in, before the step that hands it out: one run on one thread passes
/// the run's own tables; a pipelined run, the reader thread's.
final class CaptureMerge {
    /// One capture being read.
    final class Source {
        /// Place in the capture order: ties in time go to the lower one.
        let index: Int
        let reader: CaptureReader
        /// Its next tick, read ahead: what the merge compares.
        @exclusivity(unchecked) var current = Tick()
        var hasCurrent = false

        init(index: Int, reader: CaptureReader) {
            self.index = index
            self.reader = reader
        }

        /// The file and byte a message about the current tick names.
        var place: (file: String, offset: Int) { (reader.currentPath ?? reader.capture.id, current.offset) }
    }

    enum Step {
        /// Capture `index` was opened (before its first tick is read).
        case opened(index: Int, info: CaptureInfo, start: Int64)
        /// The source read a tick, or found it had none left: its reader's
        /// reports and counts may have grown.
        case read(Source)
        /// The next tick in time order is the source's `current`.
        case tick(Source)
        /// The source has no tick left: its reader holds all it will report.
        case closed(Source)
        /// A capture starts before `maxOpenCaptures` others have ended: the run stops here.
        case tooManyOpen(String)
        /// Every capture was read.
        case end
    }

    private let captures: [CaptureFiles]
    private let limits: DumpLimits
    private let maxOpenCaptures: Int
    private var logsCounts: Bool
    /// Captures not opened yet, by start time (ties: capture order).
    private let pending: [(index: Int, start: Int64)]
    private var nextPending = 0
    /// Captures being read, in capture order.
    private(set) var open: [Source] = []
    /// The source whose tick was handed out last: its next tick is read first.
    private var handedOut: Source?
    private var done = false

    /// `logsCounts`: each reader keeps what it counts for `CaptureReader.takeCountsNoted`.
    init(captures: [CaptureFiles], limits: DumpLimits, maxOpenCaptures: Int, logsCounts: Bool = false) {
        self.captures = captures
        self.limits = limits
        self.maxOpenCaptures = maxOpenCaptures
        self.logsCounts = logsCounts
        pending = captures.enumerated().map { index, capture in
            (index, capture.files.map(\.header.startedAt).min() ?? Int64.min)
        }.sorted { ($0.start, $0.index) < ($1.start, $1.index) }
    }

    /// From now on no reader keeps what it counts (`CaptureReader.logsCounts`):
    /// a pipelined run that goes on on one thread reads the counts themselves.
    func stopLoggingCounts() {
        logsCounts = false
        var ignored: [(what: ReaderCount, seen: Occurrences)] = []
        for source in open {
            source.reader.logsCounts = false
            source.reader.takeCountsNoted(into: &ignored)
        }
    }

    /// The steps up to the next tick, the stop or the end, replacing what
    /// `steps` held. After `.tooManyOpen` or `.end`, nothing more.
    func next(into steps: inout [Step], symbols: inout Symbols, catalogue: inout MetricCatalogue) {
        steps.removeAll(keepingCapacity: true)
        guard !done else {
            steps.append(.end)
            return
        }
        if let source = handedOut {
            handedOut = nil
            source.hasCurrent = source.reader.nextTick(into: &source.current, symbols: &symbols, catalogue: &catalogue)
            steps.append(.read(source))
            if !source.hasCurrent { close(source, &steps) }
        }
        // The capture whose tick comes first (ties: capture order).
        var chosen: Source?
        for source in open where chosen == nil || source.current.wallMicros < chosen!.current.wallMicros {
            chosen = source
        }
        // Open the captures that start before that tick: one of them may come first.
        while nextPending < pending.count, chosen == nil || pending[nextPending].start <= chosen!.current.wallMicros {
            guard open.count < maxOpenCaptures else {
                done = true
                steps.append(.tooManyOpen(tooManyOpen()))
                return
            }
            guard let source = openNext(&steps, &symbols, &catalogue) else { continue }
            if chosen == nil || source.current.wallMicros < chosen!.current.wallMicros
                || (source.current.wallMicros == chosen!.current.wallMicros && source.index < chosen!.index) {
                chosen = source
            }
        }
        guard let source = chosen else {
            done = true
            steps.append(.end)
            return
        }
        handedOut = source
        steps.append(.tick(source))
    }

    /// Opens the next pending capture and reads its first tick; nil when it has
    /// none (it is then closed already).
    private func openNext(_ steps: inout [Step], _ symbols: inout Symbols, _ catalogue: inout MetricCatalogue) -> Source? {
        let index = pending[nextPending].index
        nextPending += 1
        let capture = captures[index]
        let reader = CaptureReader(capture: capture, limits: limits)
        reader.logsCounts = logsCounts
        let header = capture.files.first?.header
        steps.append(.opened(index: index, info: CaptureInfo(id: capture.id, node: header?.node, wordSize: header?.wordSize),
                             start: header?.startedAt ?? 0))
        let source = Source(index: index, reader: reader)
        source.hasCurrent = reader.nextTick(into: &source.current, symbols: &symbols, catalogue: &catalogue)
        steps.append(.read(source))
        guard source.hasCurrent else {
            steps.append(.closed(source))
            return nil
        }
        open.insert(source, at: open.firstIndex { $0.index > index } ?? open.endIndex)
        return source
    }

    private func close(_ source: Source, _ steps: inout [Step]) {
        open.removeAll { $0 === source }
        steps.append(.closed(source))
    }

    private func tooManyOpen() -> String {
        let capture = captures[pending[nextPending].index]
        let file = capture.files.first?.path ?? capture.id
        return "\(file): capture \(capture.id) starts before \(open.count) other captures given with it have ended: "
            + "at most \(maxOpenCaptures) captures that overlap in time are merged at once"
    }
}

extension CaptureReader {
    /// What a closed (or, at a stop, open) capture's reader leaves for the summary.
    var counted: ReaderCounts {
        ReaderCounts(files: reports, openErrors: openErrors, skippedSamples: skippedSamples,
                     metricEntriesDropped: metricEntriesDropped, metricNamesTooLong: metricNamesTooLong)
    }
}

/// What a capture's reader reports: its files, and what it skipped and left out.
struct ReaderCounts {
    var files: [CaptureReader.FileReport] = []
    var openErrors: [DumpError] = []
    var skippedSamples: [String: Occurrences] = [:]
    var metricEntriesDropped: Occurrences?
    var metricNamesTooLong: Occurrences?

    /// Adds what a reader noted (`CaptureReader.takeCountsNoted`), in order.
    mutating func add(_ what: ReaderCount, _ seen: Occurrences) {
        switch what {
        case .skippedSample(let reason):
            if skippedSamples[reason] == nil { skippedSamples[reason] = seen } else { skippedSamples[reason]!.add(seen) }
        case .metricEntryDropped:
            if metricEntriesDropped == nil { metricEntriesDropped = seen } else { metricEntriesDropped!.add(seen) }
        case .metricNameTooLong:
            if metricNamesTooLong == nil { metricNamesTooLong = seen } else { metricNamesTooLong!.add(seen) }
        }
    }
}
