
/// Which samples reach the output. Deltas are taken before filtering, so a
/// sample's delta is against its process's previous sample even when that one
/// was filtered out.
public struct SampleFilter: Sendable {
    /// Seconds from the capture's start (the first file's `started_at`).
    public var from: Double?
    public var to: Double?
    /// Pids as `number.serial` pairs.
    public var pids: Set<UInt64> = []
    public var statuses: Set<String> = []

    public init(from: Double? = nil, to: Double? = nil, pids: Set<UInt64> = [], statuses: Set<String> = []) {
        self.from = from
        self.to = to
        self.pids = pids
        self.statuses = statuses
    }

    public var isEmpty: Bool { from == nil && to == nil && pids.isEmpty && statuses.isEmpty }

    /// True when a tick at `wallMicros` may hold samples to keep.
    public func keeps(tickAt wallMicros: Int64, captureStart: Int64) -> Bool {
        // Saturating: any two wall times of a damaged capture may be 2^64 µs apart;
        // clamped, the tick is still ~292,000 years before or after the start.
        let seconds = Double(wallMicros.saturatingSubtracting(captureStart)) / 1_000_000
        if let from, seconds < from { return false }
        if let to, seconds > to { return false }
        return true
    }

    public func keeps(_ sample: ProcessSample, symbols: Symbols) -> Bool {
        if !pids.isEmpty, !pids.contains(Self.pidKey(number: sample.pidNumber, serial: sample.pidSerial)) { return false }
        if !statuses.isEmpty {
            guard sample.status != Symbols.none, statuses.contains(symbols.nameText(sample.status)) else { return false }
        }
        return true
    }

    public static func pidKey(number: UInt32, serial: UInt32) -> UInt64 {
        UInt64(number) << 32 | UInt64(serial)
    }

    /// Parses `<0.85.0>`, `0.85.0` or `85` (serial 0) into a pid key.
    public static func parsePid(_ text: String) -> UInt64? {
        var body = Substring(text)
        if body.hasPrefix("<") && body.hasSuffix(">") { body = body.dropFirst().dropLast() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let number = UInt32(parts[0]) else { return nil }
            return pidKey(number: number, serial: 0)
        case 3:
            guard parts[0] == "0", let number = UInt32(parts[1]), let serial = UInt32(parts[2]) else { return nil }
            return pidKey(number: number, serial: serial)
        default:
            return nil
        }
    }
}
