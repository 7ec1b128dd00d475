import FuzzDumpHarness
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer entry point; the body is Fuzz/Harness/Dump/DumpHarness.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDumpConvert(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    DumpHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's own mutator, found at run time (it is C, declared in no header here).
private typealias Mutate = @convention(c) (UnsafeMutablePointer<UInt8>?, Int, Int) -> Int
nonisolated(unsafe) private let libFuzzerMutate: Mutate? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "LLVMFuzzerMutate").map { unsafeBitCast($0, to: Mutate.self) }

/// Half the mutations edit the dump's frames and terms (DumpMutator), half
/// are libFuzzer's byte-level ones.
@_cdecl("LLVMFuzzerCustomMutator")
public func fuzzDumpMutate(_ data: UnsafeMutablePointer<UInt8>?, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    if seed & 1 == 0, let data {
        var bytes = Array(UnsafeBufferPointer(start: data, count: size))
        if DumpMutator.mutate(&bytes, seed: seed >> 1, maxSize: maxSize) {
            bytes.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: $0.count) }
            return bytes.count
        }
    }
    return libFuzzerMutate?(data, size, maxSize) ?? size
}
