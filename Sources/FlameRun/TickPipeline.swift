import FlameDump
import FlameModel
#if canImport(Glibc)
import Glibc
#endif

// A pipelined run (`RunPlan.threads` 2): a reader thread reads, decompresses
// and parses the captures (`CaptureMerge`) into batches of ticks; the run's
// thread takes them in order and does the rest (deltas, filters, categories,
// outputs). What crosses between the two threads is a `TickBatch`, handed
// over through a `BatchChannel`; nothing else is shared.
//
// The reader interns names, functions, frames, stacks and metrics into its
// own `Symbols` and `MetricCatalogue`. Each batch carries what they gained
// since the batch before (`SymbolAdditions`, `CatalogueAdditions`), and each
// tick step the tables' counts when it was read; the run's thread appends
// the additions up to those counts before it feeds the tick. Ids are dense
// and given in order, so the run's tables hold, at every tick, exactly what
// one thread reading and converting in turn would hold: the same ids, and
// the same symbol budget. What each capture's reader reports (files, open
// errors, skipped samples) travels the same way, as steps, so that a run
// that stops early reports what it would have on one thread.

/// One step of the reader, in the order the run must take it.
enum PipelineStep {
    /// Capture `index` was opened.
    indirect case opened(index: Int, info: CaptureInfo, start: Int64)
    /// A file of the capture was read to its end.
    indirect case fileRead(index: Int, report: CaptureReader.FileReport)
    /// A file of the capture could not be opened.
    indirect case openError(index: Int, error: DumpError)
    /// The capture's reader counted `seen.count` of `what` in a row.
    indirect case counted(index: Int, what: ReaderCount, seen: Occurrences)
    /// The next tick in time order is `TickBatch.ticks[slot]`, read from
    /// `file`; the tables held `tables` once it was read.
    case tick(index: Int, slot: Int, file: String, tables: PipelineTables)
    /// The capture has no tick left.
    case closed(index: Int)
    /// A capture starts before `RunPlan.maxOpenCaptures` others have ended: the last step.
    indirect case tooManyOpen(String, tables: PipelineTables)
    /// Every capture was read: the last step.
    case end(tables: PipelineTables)
    /// The reader's tables outgrew what the run's thread should mirror: the
    /// last step. The reader stops here, and the run's thread takes over its
    /// reading (`ReaderJob.takeOver`).
    case handOff(tables: PipelineTables)
}

/// How many entries the reader's tables held at a step.
struct PipelineTables {
    var symbols: Symbols.Counts
    var catalogue: MetricCatalogue.Counts
}

/// A batch of the reader's steps, the ticks they hand out, and what the
/// reader's tables gained meanwhile.
///
/// The box that crosses threads. It has one owner at a time, and changes
/// owner only through `BatchChannel`, under its lock: the reader takes it
/// empty (`takeEmpty`), fills it and sends it (`send`); the run's thread
/// receives it (`receive`), takes its steps and gives it back (`giveBack`).
/// Neither touches a batch it has handed on. Its ticks' buffers are kept
/// from use to use, not made again for every tick.
final class TickBatch: @unchecked Sendable {
    var steps: [PipelineStep] = []
    /// Tick buffers; the first `ticksUsed` hold this batch's ticks.
    var ticks: [Tick] = []
    var ticksUsed = 0
    /// Bytes of samples and values in this batch's ticks.
    var sampleBytes = 0
    var symbols = SymbolAdditions()
    var catalogue = CatalogueAdditions()

    static func bytes(of tick: Tick) -> Int {
        tick.samples.count * MemoryLayout<ProcessSample>.stride + tick.metricValues.count * MemoryLayout<Int64>.stride
    }

    static func capacityBytes(of tick: Tick) -> Int {
        tick.samples.capacity * MemoryLayout<ProcessSample>.stride + tick.metricValues.capacity * MemoryLayout<Int64>.stride
    }

    /// Empties it for the next use. Tick buffers are kept while they hold
    /// at most `keptBytes` together; the rest are let go (a large tick's
    /// buffer is not kept by every slot it ever passed through).
    func reset(keptBytes: Int) {
        steps.removeAll(keepingCapacity: steps.capacity <= 4096)
        var kept = 0
        for slot in ticks.indices {
            let bytes = Self.capacityBytes(of: ticks[slot])
            if kept + bytes > keptBytes {
                ticks[slot] = Tick()
            } else {
                kept += bytes
            }
        }
        ticksUsed = 0
        sampleBytes = 0
    }
}

/// The queue between the reader thread and the run's thread: a fixed set of
/// batches that go round (empty ones to the reader, full ones to the run),
/// so at most that many are ever in flight, and the reader waits when the
/// run falls behind.
///
/// Shared by both threads: every stored property but the lock and condition
/// themselves is read and written only with `mutex` held.
final class BatchChannel: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled on every change: at most one thread waits on each side.
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var empty: [TickBatch]
    private var full: [TickBatch] = []
    private var cancelled = false
    private var readerDone = false

    init(batches: Int) {
        empty = (0..<max(2, batches)).map { _ in TickBatch() }
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(changed, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Reader: an empty batch, waiting for one if need be; nil once the run cancelled.
    func takeEmpty() -> TickBatch? {
        locked {
            while empty.isEmpty && !cancelled { pthread_cond_wait(changed, mutex) }
            return cancelled ? nil : empty.removeLast()
        }
    }

    /// Reader: hands a filled batch to the run.
    func send(_ batch: TickBatch) {
        locked {
            full.append(batch)
            pthread_cond_broadcast(changed)
        }
    }

    /// Run: the next filled batch, in the order sent, waiting for it if need
    /// be. The reader always sends a last batch that ends with `.end` or
    /// `.tooManyOpen`, unless the run cancels it first.
    func receive() -> TickBatch {
        locked {
            while full.isEmpty { pthread_cond_wait(changed, mutex) }
            return full.removeFirst()
        }
    }

    /// Run: a batch whose steps it has taken, for the reader to fill again.
    func giveBack(_ batch: TickBatch) {
        locked {
            empty.append(batch)
            pthread_cond_broadcast(changed)
        }
    }

    /// Run: the reader is to stop at its next step (or at once, if it waits for a batch).
    func cancel() {
        locked {
            cancelled = true
            pthread_cond_broadcast(changed)
        }
    }

    /// Reader: whether the run cancelled it.
    var isCancelled: Bool { locked { cancelled } }

    /// Reader, last: it has let go of everything it read.
    func readerFinished() {
        locked {
            readerDone = true
            pthread_cond_broadcast(changed)
        }
    }

    /// Run: waits until the reader has finished, or `milliseconds` have passed; true when it has.
    func waitForReader(milliseconds: Int) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        deadline.tv_sec += milliseconds / 1000
        deadline.tv_nsec += (milliseconds % 1000) * 1_000_000
        if deadline.tv_nsec >= 1_000_000_000 {
            deadline.tv_sec += 1
            deadline.tv_nsec -= 1_000_000_000
        }
        return locked {
            while !readerDone {
                if pthread_cond_timedwait(changed, mutex, &deadline) == ETIMEDOUT { break }
            }
            return readerDone
        }
    }
}

/// What the reader thread reads, and how it batches: handed to the thread
/// when it starts (`ReaderThread.start`), used only there from then on. The
/// captures' held streams (pipes, standard input) go with it: the run's
/// thread does not read them.
final class ReaderJob {
    let channel: BatchChannel
    private let captures: [CaptureFiles]
    private let limits: DumpLimits
    private let maxOpenCaptures: Int
    /// The run's catalogue as the run starts: the reader's starts as a copy.
    private let catalogue: MetricCatalogue
    private let batchTicks: Int
    private let batchBytes: Int
    /// Past this many bytes of mirrored tables (`Symbols.mirrorByteEstimate`), the reader hands off.
    private let handOffBytes: Int
    /// Where the reader stopped when it handed off: for the run's thread,
    /// once the reader thread has ended (`takeOver`).
    private var handedOff: (merge: CaptureMerge, symbols: Symbols, catalogue: MetricCatalogue)?

    init(channel: BatchChannel, captures: [CaptureFiles], limits: DumpLimits, maxOpenCaptures: Int, catalogue: MetricCatalogue,
         batchTicks: Int, batchBytes: Int, handOffBytes: Int) {
        self.channel = channel
        self.captures = captures
        self.limits = limits
        self.maxOpenCaptures = maxOpenCaptures
        self.catalogue = catalogue
        self.batchTicks = batchTicks
        self.batchBytes = batchBytes
        self.handOffBytes = handOffBytes
    }

    /// After `.handOff` and the end of the reader thread (joined): the merge
    /// where the reader stopped, and its tables, which hold exactly what the
    /// run's mirrored ones hold, with their lookup tables.
    func takeOver() -> (merge: CaptureMerge, symbols: Symbols, catalogue: MetricCatalogue)? {
        defer { handedOff = nil }
        return handedOff
    }

    /// Reads every capture into batches, to the end, the stop, or the run's cancel.
    func run() {
        defer { channel.readerFinished() }
        read()
    }

    private func read() {
        var symbols = Symbols()
        var catalogue = self.catalogue
        let merge = CaptureMerge(captures: captures, limits: limits, maxOpenCaptures: maxOpenCaptures, logsCounts: true)
        var steps: [CaptureMerge.Step] = []
        var sentSymbols = symbols.counts, sentCatalogue = catalogue.counts
        // Per open capture: how many of its reader's file reports and open errors were sent.
        var reported: [Int: (files: Int, openErrors: Int)] = [:]
        var noted: [(what: ReaderCount, seen: Occurrences)] = []
        guard var batch = channel.takeEmpty() else { return }
        while !channel.isCancelled {
            merge.next(into: &steps, symbols: &symbols, catalogue: &catalogue)
            var last = false
            for step in steps {
                switch step {
                case .opened(let index, let info, let start):
                    reported[index] = (0, 0)
                    batch.steps.append(.opened(index: index, info: info, start: start))
                case .read(let source):
                    let index = source.index, reader = source.reader
                    var sent = reported[index] ?? (0, 0)
                    while sent.files < reader.reports.count {
                        batch.steps.append(.fileRead(index: index, report: reader.reports[sent.files]))
                        sent.files += 1
                    }
                    while sent.openErrors < reader.openErrors.count {
                        batch.steps.append(.openError(index: index, error: reader.openErrors[sent.openErrors]))
                        sent.openErrors += 1
                    }
                    reported[index] = sent
                    if reader.hasCountsNoted {
                        noted.removeAll(keepingCapacity: true)
                        reader.takeCountsNoted(into: &noted)
                        for (what, seen) in noted { batch.steps.append(.counted(index: index, what: what, seen: seen)) }
                    }
                case .tick(let source):
                    let slot = batch.ticksUsed
                    if slot == batch.ticks.count { batch.ticks.append(Tick()) }
                    let file = source.place.file
                    // The tick goes out in the batch; the batch's old buffer is read into next.
                    swap(&source.current, &batch.ticks[slot])
                    batch.ticksUsed += 1
                    batch.sampleBytes += TickBatch.bytes(of: batch.ticks[slot])
                    batch.steps.append(.tick(index: source.index, slot: slot, file: file,
                                             tables: PipelineTables(symbols: symbols.counts, catalogue: catalogue.counts)))
                case .closed(let source):
                    reported[source.index] = nil
                    batch.steps.append(.closed(index: source.index))
                case .tooManyOpen(let text):
                    batch.steps.append(.tooManyOpen(text, tables: PipelineTables(symbols: symbols.counts, catalogue: catalogue.counts)))
                    last = true
                case .end:
                    batch.steps.append(.end(tables: PipelineTables(symbols: symbols.counts, catalogue: catalogue.counts)))
                    last = true
                }
            }
            // Between steps the merge stands where one thread would: hand it over there.
            var handingOff = false
            if !last, symbols.mirrorByteEstimate > handOffBytes {
                batch.steps.append(.handOff(tables: PipelineTables(symbols: symbols.counts, catalogue: catalogue.counts)))
                handingOff = true
                last = true
            }
            guard last || batch.ticksUsed >= batchTicks || batch.sampleBytes >= batchBytes else { continue }
            symbols.collectAdditions(since: sentSymbols, into: &batch.symbols)
            catalogue.collectAdditions(since: sentCatalogue, into: &batch.catalogue)
            sentSymbols = symbols.counts
            sentCatalogue = catalogue.counts
            if handingOff { handedOff = (merge, symbols, catalogue) }
            channel.send(batch)
            if last { return }
            guard let next = channel.takeEmpty() else { return }
            batch = next
        }
    }
}

/// The reader's own thread.
enum ReaderThread {
    /// Its stack: reading is iterative (docs/LIMITS.md), so the usual main
    /// thread's size is plenty, whatever `ulimit -s` says.
    static let stackBytes = 8 << 20

    /// Starts `job` on a new thread (`QuietThread`), or returns nil when no
    /// thread could be made (the caller then reads on its own thread).
    static func start(_ job: ReaderJob) -> pthread_t? {
        QuietThread.start(stackBytes: stackBytes) { job.run() }
    }
}
