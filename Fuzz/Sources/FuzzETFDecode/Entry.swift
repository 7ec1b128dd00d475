import FuzzETFHarness

// libFuzzer entry point; the body is Fuzz/Harness/ETF/ETFHarness.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzETFDecode(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    ETFHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
