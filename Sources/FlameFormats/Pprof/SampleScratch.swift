/// Where one pprof sample is put together, through unchecked writes, before
/// one copy into the sink's buffer; reserved beforehand for all of it.
final class SampleScratch {
    var base: UnsafeMutablePointer<UInt8>
    var capacity: Int

    init() {
        capacity = 4096
        base = .allocate(capacity: capacity)
    }

    func reserve(_ n: Int) {
        guard n > capacity else { return }
        base.deallocate()
        capacity = max(n, capacity * 2)
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }
}
