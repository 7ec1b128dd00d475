import FuzzDumpHarness

// libFuzzer entry point; the body is Fuzz/Harness/Dump/DumpHarness.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDumpConvert(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    DumpHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
