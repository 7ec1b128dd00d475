// decodeprof FILE [ROUNDS]: decodes every frame of a framed dump ROUNDS times
// (default 10) from memory into one reused Term and prints MB/s per round. A
// plain loop with nothing else in it, to run under perf or valgrind.
import DumpSynth
import ETF

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let args = CommandLine.arguments
guard args.count >= 2 else {
    print("usage: decodeprof FILE [ROUNDS]")
    exit(2)
}
let rounds = args.count > 2 ? Int(args[2]) ?? 10 : 10
guard let f = fopen(args[1], "rb") else {
    print("cannot open \(args[1])")
    exit(1)
}
fseek(f, 0, SEEK_END)
let size = ftell(f)
fseek(f, 0, SEEK_SET)
let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in count = fread(buffer.baseAddress, 1, size, f) }
fclose(f)
let frames = DumpSynthesizer.frameRanges(of: bytes)
let termBytes = frames.reduce(0) { $0 + $1.count }

var decoder = TermDecoder()
var term = Term()
var nodes = 0
let clock = ContinuousClock()
var best = Duration.seconds(1000)
for _ in 0..<rounds {
    let start = clock.now
    bytes.withUnsafeBytes { all in
        for range in frames {
            do {
                try decoder.decode(UnsafeRawBufferPointer(rebasing: all[range]), baseOffset: range.lowerBound, into: &term)
            } catch {
                fatalError("\(error)")
            }
            nodes &+= term.nodes.count
        }
    }
    let elapsed = clock.now - start
    best = min(best, elapsed)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    print("round: \(termBytes) bytes, \(frames.count) frames, \(Int(Double(termBytes) / 1e6 / seconds)) MB/s")
}
let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) * 1e-18
print("best: \(Int(Double(termBytes) / 1e6 / seconds)) MB/s, \(nodes / rounds) nodes per round")
