/// Tells linear work from quadratic without a wall-clock limit: the same job at
/// two sizes, timed on this machine in this build, and the ratio of the times.
///
/// A fixed limit in seconds fails on a slow or loaded machine (a sanitizer
/// build, two cores shared with other jobs) and passes a quadratic regression
/// on a fast one; a ratio does neither. Each size runs `tries` times and keeps
/// its fastest time, so a pause in one run does not count.
public enum GrowthCheck {
    /// How many times longer `large` took than `small`.
    public static func ratio(tries: Int = 3, small: () -> Void, large: () -> Void) -> Double {
        func fastest(_ work: () -> Void) -> Double {
            var best = Double.infinity
            for _ in 0..<tries {
                let clock = ContinuousClock()
                let elapsed = clock.measure(work)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                best = min(best, seconds)
            }
            return best
        }
        return fastest(large) / max(fastest(small), 1e-9)
    }
}
