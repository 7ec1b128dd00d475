import Synchronization

/// The captures to convert, handed out one at a time by an atomic counter.
final class SharedWork: Sendable {
    private let captures: [BatchCaptureBox]
    private let nextIndex = Atomic<Int>(0)

    init(_ captures: [BatchCapture]) {
        self.captures = captures.map(BatchCaptureBox.init)
    }

    func next() -> BatchCapture? {
        let index = nextIndex.add(1, ordering: .relaxed).oldValue
        return index < captures.count ? captures[index].capture : nil
    }
}

/// A capture handed to exactly one job: its reopen closures are `@Sendable`,
/// and nothing else in it is changed after discovery.
struct BatchCaptureBox: @unchecked Sendable {
    let capture: BatchCapture
}
