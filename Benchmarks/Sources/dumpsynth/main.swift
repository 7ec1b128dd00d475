import DumpSynth

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let usage = """
    usage: dumpsynth [--bytes SIZE] [--ticks N] [--processes N] [--seed N] [--interval-ms N]
                     [--minor-version 1|2] [--stack-variety realistic|high] OUT.flame

    Writes a deterministic synthetic flame dump (framed ETF: header, ticks of
    {samples, Ts, [{Pid, Items}]} with a {system, Ts, Info} once a simulated
    second, trailer) of at most SIZE bytes (suffixes K, M, G: powers of 1024),
    or of N ticks. The same options always give the same bytes.
      --bytes SIZE        size limit (default 64M, or none with --ticks)
      --ticks N           stop after N ticks
      --processes N       processes sampled per tick (default 500)
      --seed N            (default 1)
      --interval-ms N     the agent's interval, spacing of Ts (default 10)
      --minor-version V   1: atoms as OTP 25 writes them (default); 2: as OTP 26+
      --stack-variety V   realistic (default): each process moves among a few
                          fixed stacks of its role, as in real captures (well
                          under 1% of samples bring a new stack); high: the
                          stack's depth jitters every tick (about a quarter of
                          the samples bring a new stack; dumpsynth 1's output)
    """

func fail(_ message: String) -> Never {
    let text = message + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

func need<T>(_ value: T?, _ message: String) -> T {
    guard let value else { fail(message) }
    return value
}

func parseSize(_ text: String) -> Int? {
    var digits = text
    var scale = 1
    if let last = text.last?.uppercased() {
        switch last {
        case "K": scale = 1 << 10
        case "M": scale = 1 << 20
        case "G": scale = 1 << 30
        default: break
        }
        if scale != 1 { digits = String(text.dropLast()) }
    }
    guard let n = Int(digits), n > 0 else { return nil }
    return n * scale
}

var options = SynthOptions()
var targetBytes = 64 << 20
var bytesGiven = false
var maxTicks = Int.max
var output: String?
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let arg = args.removeFirst()
    func value() -> String {
        guard !args.isEmpty else { fail("\(arg) needs a value\n\(usage)") }
        return args.removeFirst()
    }
    switch arg {
    case "--bytes":
        targetBytes = need(parseSize(value()), "bad --bytes")
        bytesGiven = true
    case "--ticks": maxTicks = need(Int(value()).flatMap { $0 > 0 ? $0 : nil }, "bad --ticks")
    case "--processes": options.processes = need(Int(value()).flatMap { $0 > 0 ? $0 : nil }, "bad --processes")
    case "--seed": options.seed = need(UInt64(value()), "bad --seed")
    case "--interval-ms": options.intervalMs = need(Int(value()).flatMap { $0 > 0 ? $0 : nil }, "bad --interval-ms")
    case "--minor-version":
        let v = Int(value())
        guard v == 1 || v == 2 else { fail("--minor-version is 1 or 2") }
        options.minorVersion = v!
    case "--stack-variety":
        options.stackVariety = need(StackVariety(rawValue: value()), "--stack-variety is realistic or high")
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        if arg.hasPrefix("-") || output != nil { fail(usage) }
        output = arg
    }
}
guard let output else { fail(usage) }
if maxTicks != .max && !bytesGiven { targetBytes = Int.max }

guard let file = fopen(output, "wb") else { fail("cannot open \(output): \(String(cString: strerror(errno)))") }
struct WriteError: Error {}
do {
    let written = try DumpSynthesizer.writeDump(options: options, targetBytes: targetBytes, maxTicks: maxTicks) { chunk in
        if fwrite(chunk.baseAddress, 1, chunk.count, file) != chunk.count { throw WriteError() }
    }
    guard fclose(file) == 0 else { throw WriteError() }
    print("\(output): \(written) bytes, processes=\(options.processes) seed=\(options.seed) minor_version=\(options.minorVersion) stack_variety=\(options.stackVariety.rawValue)")
} catch {
    fail("writing \(output) failed: \(String(cString: strerror(errno)))")
}
