#if canImport(Glibc)
import Glibc
#endif

/// The number of files this process may hold open (`ulimit -n`).
enum DescriptorLimit {
    /// Raises the soft limit toward `count` as far as the hard limit allows;
    /// returns the limit now in force.
    @discardableResult
    static func raise(toAtLeast count: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return count }
        // RLIM_INFINITY is the largest value, so min and >= treat it right.
        if limit.rlim_cur >= rlim_t(count) { return Int(clamping: limit.rlim_cur) }
        let wanted = min(rlim_t(count), limit.rlim_max)
        var raised = limit
        raised.rlim_cur = wanted
        return setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 ? Int(wanted) : Int(clamping: limit.rlim_cur)
    }
}
