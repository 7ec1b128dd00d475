import Dispatch

/// Runs blocking work (waiting for a child process) on a thread of its own.
///
/// Swift Testing runs tests on as many threads as there are cores; a test that
/// blocks one of them while a slow child runs holds up every other test.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
