#if canImport(Glibc)
import Glibc
#endif

/// Threads that compress `GzipBlock`s into gzip members, taking them in the
/// order they were submitted; one libdeflate compressor each.
///
/// Locking: `queue`, `stopping` and each submitted block's `finished` are read
/// and written under `lock` only. A block's buffers belong to the one worker
/// that took it from the queue until it sets `finished`, then to the writer.
/// Hence `@unchecked Sendable`: the threads share this object through that
/// lock, which the compiler cannot see.
final class GzipWorkers: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    /// Signalled when a block is queued or the workers are to stop.
    private let workReady: UnsafeMutablePointer<pthread_cond_t>
    /// Broadcast when a block is finished.
    private let blockDone: UnsafeMutablePointer<pthread_cond_t>
    private var queue: [GzipBlock] = []
    private var queueHead = 0
    private var stopping = false
    private var threads: [pthread_t] = []

    /// The worker threads' stacks: libdeflate keeps its state on the heap, so
    /// little is needed, and less address space is reserved than glibc's
    /// 8 MiB default (flameconv may run under `ulimit -v`).
    static let stackSize = 512 << 10

    /// Starts `count` threads compressing at `level`; nil when not one could
    /// start (no memory, a thread limit), the caller then compresses on its
    /// own thread.
    static func start(count: Int, level: Int32) -> GzipWorkers? {
        let workers = GzipWorkers(count: count, level: level)
        return workers.threads.isEmpty ? nil : workers
    }

    /// The compressors are made here, on the calling thread, so that the
    /// workers allocate nothing (no malloc arena of their own).
    private init(count: Int, level: Int32) {
        lock = .allocate(capacity: 1)
        workReady = .allocate(capacity: 1)
        blockDone = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(workReady, nil)
        pthread_cond_init(blockDone, nil)
        var deflaters: [MemberDeflater] = []
        for _ in 0..<count {
            guard let deflater = MemberDeflater(level: level) else { break }
            deflaters.append(deflater)
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, Self.stackSize)
        defer { pthread_attr_destroy(&attributes) }
        // Signals that end the process go to the converting thread, not to a
        // worker: the threads start with them blocked (faults stay deliverable).
        withAsyncSignalsBlocked {
            for deflater in deflaters {
                let start = Unmanaged.passRetained(WorkerStart(workers: self, deflater: deflater)).toOpaque()
                var thread = pthread_t()
                let status = pthread_create(&thread, &attributes, { argument in
                    let start = Unmanaged<WorkerStart>.fromOpaque(argument!).takeRetainedValue()
                    start.workers.work(with: start.deflater)
                    return nil
                }, start)
                guard status == 0 else {
                    Unmanaged<WorkerStart>.fromOpaque(start).release()
                    break
                }
                threads.append(thread)
            }
        }
    }

    deinit {
        stop()
        destroySynchronization()
    }

    /// What a new thread is given: the workers it is one of, its compressor.
    private final class WorkerStart {
        let workers: GzipWorkers
        let deflater: MemberDeflater
        init(workers: GzipWorkers, deflater: MemberDeflater) {
            self.workers = workers
            self.deflater = deflater
        }
    }

    var threadCount: Int { threads.count }

    /// Queues `block` to be compressed.
    func submit(_ block: GzipBlock) {
        pthread_mutex_lock(lock)
        block.finished = false
        queue.append(block)
        pthread_cond_signal(workReady)
        pthread_mutex_unlock(lock)
    }

    /// Whether `block`, submitted, is compressed (or failed) yet.
    func isFinished(_ block: GzipBlock) -> Bool {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return block.finished
    }

    /// Waits until `block`, submitted, is compressed (or failed).
    func wait(for block: GzipBlock) {
        pthread_mutex_lock(lock)
        while !block.finished { pthread_cond_wait(blockDone, lock) }
        pthread_mutex_unlock(lock)
    }

    /// Ends the threads once each has finished the block it holds; blocks
    /// still queued are dropped. Returns when every thread has ended.
    func stop() {
        pthread_mutex_lock(lock)
        stopping = true
        pthread_cond_broadcast(workReady)
        pthread_mutex_unlock(lock)
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
        pthread_mutex_lock(lock)
        queue.removeAll()
        queueHead = 0
        pthread_mutex_unlock(lock)
    }

    private func destroySynchronization() {
        pthread_cond_destroy(blockDone)
        pthread_cond_destroy(workReady)
        pthread_mutex_destroy(lock)
        blockDone.deallocate()
        workReady.deallocate()
        lock.deallocate()
    }

    /// A worker thread's loop: take the oldest queued block, compress it, say so.
    private func work(with deflater: MemberDeflater) {
        pthread_mutex_lock(lock)
        while true {
            while queueHead == queue.count && !stopping { pthread_cond_wait(workReady, lock) }
            if stopping { break }
            let block = queue[queueHead]
            queueHead += 1
            if queueHead == queue.count {
                queue.removeAll(keepingCapacity: true)
                queueHead = 0
            }
            pthread_mutex_unlock(lock)
            block.compress(with: deflater)
            pthread_mutex_lock(lock)
            block.finished = true
            pthread_cond_broadcast(blockDone)
        }
        pthread_mutex_unlock(lock)
    }
}

/// Runs `body` with every signal blocked but the faults a thread raises on
/// itself (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS): threads created
/// in it start so, and leave the signals that end the process (SIGINT,
/// SIGTERM …, whose handlers remove partial outputs) to the converting thread.
func withAsyncSignalsBlocked(_ body: () -> Void) {
    var blocked = sigset_t()
    sigfillset(&blocked)
    for fault in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS] { sigdelset(&blocked, fault) }
    var previous = sigset_t()
    pthread_sigmask(SIG_BLOCK, &blocked, &previous)
    body()
    pthread_sigmask(SIG_SETMASK, &previous, nil)
}
