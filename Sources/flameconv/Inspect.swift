import ArgumentParser
import ETF
import FlameFormats
import FlameRun
import FlameModel
import FlameDump

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print every term of every file, one per line, as Erlang's io:format(\"~w~n\") prints it.",
        discussion: """
            Files may hold length-prefixed frames or plain concatenated terms, and may be \
            gzip or zstd compressed; all of this is detected from the bytes. On bad input the \
            terms before the bad spot are printed, then the error (file, offset, reason) goes \
            to standard error and the exit status is 1.

            Pids, ports and references of the local node print as that node prints them \
            (<0.85.0>). The local node is taken from a flame_dump header, else --local-node. \
            Those of other nodes show the node name where Erlang shows a channel number only \
            that node knows: <foo@bar.85.0>.

            Examples:
              flameconv inspect capture-000000.flame
              flameconv inspect --encoding utf8 terms.etf.zst | less
            """
    )

    @Argument(help: ArgumentHelp("Files to print; - is standard input.", valueName: "file"))
    var files: [String]

    @Option(help: "How atom characters 128-255 are written: latin1 (as OTP 25's io:format writes them under erl -noshell) or utf8.")
    var encoding: TermPrinter.Encoding = .latin1

    @Option(help: ArgumentHelp("The node whose pids print as local, when a file has no flame_dump header.", valueName: "node"))
    var localNode: String = "nonode@nohost"

    @Flag(help: "Print each term's byte offset before it.")
    var offsets = false

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    func run() throws {
        PartialOutputs.installSignalHandlers()
        try OutputClash.refuse(nil, among: InputWalk.expand(files).files)
        let output = OutputFile()
        var failed = false
        var buffer: [UInt8] = []
        buffer.reserveCapacity(2 << 20)
        do {
            for path in files {
                do {
                    try inspect(path, output, &buffer)
                } catch let error as DumpError {
                    try output.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                    Diagnostics.error(LimitHint.text(error))
                    failed = true
                }
            }
            try output.write(buffer)
        } catch OutputError.brokenPipe {
            return
        } catch let error as OutputError {
            Diagnostics.error(error.description)
            throw ExitCode(1)
        }
        if failed { throw ExitCode(1) }
    }

    private func inspect(_ path: String, _ output: OutputFile, _ buffer: inout [UInt8]) throws {
        let input = path == "-" ? try FileInput(standardInputNamed: InputWalk.standardInputName) : try FileInput(path: path)
        let reader = FrameReader(source: try ByteSource(input: input), limits: limits.dumpLimits)
        var decoder = TermDecoder(limits: limits.dumpLimits.term)
        var printer = TermPrinter(encoding: encoding, localNode: localNode)
        var term = Term()
        var first = true
        let flush: (inout [UInt8]) throws(OutputError) -> Void = { (bytes: inout [UInt8]) throws(OutputError) in
            try output.write(bytes)
            bytes.removeAll(keepingCapacity: true)
        }
        while let frame = try reader.next() {
            do throws(ETFError) {
                try decoder.decode(frame.bytes, baseOffset: frame.offset, into: &term, heldByCaller: reader.bufferBytes)
            } catch {
                throw DumpError(path: input.path, offset: error.offset, reason: .term(error))
            }
            if first, let node = DumpHeader.nodeName(in: term) { printer.localNode = node }
            first = false
            if offsets {
                buffer.append(contentsOf: Array("\(frame.offset): ".utf8))
            }
            try printer.print(term, into: &buffer, flush: flush)
            decoder.recycle(&term)
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 { try flush(&buffer) }
        }
    }
}

extension TermPrinter.Encoding: ChoiceArgument {}
