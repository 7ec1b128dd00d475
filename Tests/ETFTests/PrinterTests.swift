import ETF
import TestSupport
import Testing

/// TermPrinter options and mechanics: output encoding, the local node, flushing,
/// printing a subterm. What it prints for each tag is in DecoderTagTests and the corpus.
@Suite("Printer")
struct PrinterTests {
    typealias B = ETFBytes

    func printed(_ body: [UInt8], encoding: TermPrinter.Encoding = .latin1, localNode: String = "nonode@nohost") throws -> [UInt8] {
        let term = try CorpusPrinting.decode(B.term(body)).get()
        return CorpusPrinting.print(term, printer: TermPrinter(encoding: encoding, localNode: localNode))
    }

    /// Bytes from OTP 25 with standard_io switched to Unicode:
    ///
    ///     erl -noshell -eval 'io:setopts([{encoding, unicode}]), io:format("~w~n", [binary_to_term(B)]), halt().'
    ///
    /// for B the same bytes; the Latin-1 forms are what plain `erl -noshell` writes.
    @Test("characters 128-255 in atoms: one byte in latin1, two in utf8; higher ones escaped in both")
    func encodings() throws {
        let quoted = B.atom("é \u{A0}ж")
        #expect(try printed(quoted, encoding: .latin1) == [0x27, 0xE9, 0x20, 0xA0] + Array("\\x{436}'".utf8))
        #expect(try printed(quoted, encoding: .utf8) == [0x27, 0xC3, 0xA9, 0x20, 0xC2, 0xA0] + Array("\\x{436}'".utf8))
        let bare = B.atom("été")
        #expect(try printed(bare, encoding: .latin1) == [0xE9, 0x74, 0xE9])
        #expect(try printed(bare, encoding: .utf8) == [0xC3, 0xA9, 0x74, 0xC3, 0xA9])
        // The same atom sent as Latin-1 bytes prints the same.
        #expect(try printed(B.latin1Atom([0xE9, 0x74, 0xE9]), encoding: .utf8) == [0xC3, 0xA9, 0x74, 0xC3, 0xA9])
        // Binaries and byte lists are numbers whatever the encoding.
        #expect(try printed(B.binary([0xE9]), encoding: .utf8) == Array("<<233>>".utf8))
        #expect(try printed(B.string([0xE9]), encoding: .utf8) == Array("[233]".utf8))
    }

    /// Identifiers of other nodes show the node name where Erlang shows a channel
    /// number (Fixtures/etf/README.md, "external"): `<foo@bar.5.0>`, with the name
    /// printed as `~w` prints an atom.
    @Test("pids, ports and references of other nodes")
    func foreignIdentifiers() throws {
        let foo = B.atom("foo@bar")
        #expect(try printed(B.pid(node: foo, id: 5, serial: 0, creation: 3)) == Array("<foo@bar.5.0>".utf8))
        #expect(try printed(B.pid(node: B.atom("x-1@host"), id: 1, serial: 2)) == Array("<'x-1@host'.1.2>".utf8))
        #expect(try printed(B.pid(node: B.atom("ж@host"), id: 1, serial: 2)) == Array("<'\\x{436}@host'.1.2>".utf8))
        #expect(try printed(B.port(node: foo, id: .max)) == Array("#Port<foo@bar.18446744073709551615>".utf8))
        // A foreign reference shows all its ids, most significant first, unpadded.
        #expect(try printed(B.ref(node: foo, ids: [7])) == Array("#Ref<foo@bar.7>".utf8))
        #expect(try printed(B.ref(node: foo, ids: [1, 2, 3, 4, 5])) == Array("#Ref<foo@bar.5.4.3.2.1>".utf8))
        // A local one (nonode@nohost, creation 0) shows three: the node keeps three words.
        #expect(try printed(B.ref(ids: [7])) == Array("#Ref<0.0.0.7>".utf8))
        // Another creation of the local node's name is another incarnation: unpadded (as the BEAM prints it).
        #expect(try printed(B.ref(creation: 9, ids: [7])) == Array("#Ref<0.7>".utf8))
    }

    @Test("the local node is a printer setting")
    func localNodeSetting() throws {
        let pid = B.pid(node: B.atom("foo@bar"), id: 5, serial: 0)
        #expect(try printed(pid, localNode: "foo@bar") == Array("<0.5.0>".utf8))
        #expect(try printed(B.pid(id: 5, serial: 0), localNode: "foo@bar") == Array("<nonode@nohost.5.0>".utf8))
        #expect(try printed(B.port(node: B.atom("foo@bar"), id: 9), localNode: "foo@bar") == Array("#Port<0.9>".utf8))
        // A named node's creation is not known here: its name on a short reference
        // does not make it the node's own (OTP 25 prints `#Ref<0.1>` for
        // REFERENCE_EXT, NEW_REFERENCE_EXT and creation-0 references of its name).
        #expect(try printed(B.ref(node: B.atom("foo@bar"), ids: [1]), localNode: "foo@bar") == Array("#Ref<0.1>".utf8))
        #expect(try printed(B.oldRef(node: B.atom("foo@bar"), id: 7), localNode: "foo@bar") == Array("#Ref<0.7>".utf8))
        #expect(try printed(B.newRef(node: B.atom("foo@bar"), ids: [7, 8]), localNode: "foo@bar") == Array("#Ref<0.8.7>".utf8))
        #expect(try printed(B.ref(node: B.atom("foo@bar"), creation: 5, ids: [1, 2, 3]), localNode: "foo@bar") == Array("#Ref<0.3.2.1>".utf8))
        var printer = TermPrinter()
        printer.localNode = "foo@bar"
        let term = try CorpusPrinting.decode(B.term(pid)).get()
        #expect(CorpusPrinting.print(term, printer: printer) == Array("<0.5.0>".utf8))
    }

    /// OTP 25 writes atoms that fit Latin-1 as ATOM_EXT / SMALL_ATOM_EXT (Latin-1
    /// bytes) by default, node names included; the atom is the same whichever
    /// encoding carried it.
    @Test("a node name sent as Latin-1 bytes is still the local node")
    func latin1LocalNode() throws {
        let latin1 = B.pid(node: B.smallLatin1Atom([0xE9, 0x40, 0x68]), id: 1, serial: 2)
        let utf8 = B.pid(node: B.atom("é@h"), id: 1, serial: 2)
        #expect(try printed(latin1, localNode: "é@h") == Array("<0.1.2>".utf8))
        #expect(try printed(utf8, localNode: "é@h") == Array("<0.1.2>".utf8))
        // A different name that happens to share bytes is not local: Latin-1 "Ã©@h" vs UTF-8 "é@h".
        let mojibake = B.pid(node: B.smallLatin1Atom([0xC3, 0xA9, 0x40, 0x68]), id: 1, serial: 2)
        #expect(try printed(mojibake, localNode: "é@h") == [0x3C, 0x27, 0xC3, 0xA9, 0x40, 0x68, 0x27] + Array(".1.2>".utf8))
    }

    @Test("output is flushed past the threshold, and the pieces add up to the whole")
    func flushing() throws {
        let term = try CorpusPrinting.decode(B.term(B.tuple(B.binary([UInt8](repeating: 200, count: 10_000)), B.list((0..<300).map { _ in B.atom("abc") })))).get()
        let whole = CorpusPrinting.print(term)
        var printer = TermPrinter()
        printer.flushThreshold = 64
        var out: [UInt8] = []
        var pieces: [[UInt8]] = []
        printer.print(term, into: &out) { (buffer: inout [UInt8]) in
            pieces.append(buffer)
            buffer.removeAll()
        }
        #expect(pieces.count > 100)
        #expect(pieces.allSatisfy { $0.count >= 64 })
        #expect(Array(pieces.joined()) + out == whole)
    }

    struct Stop: Error, Equatable {}

    @Test("an error thrown by flush stops printing and reaches the caller")
    func flushError() throws {
        let term = try CorpusPrinting.decode(B.term(B.binary([UInt8](repeating: 1, count: 1000)))).get()
        var printer = TermPrinter()
        printer.flushThreshold = 16
        var out: [UInt8] = []
        var calls = 0
        #expect(throws: Stop()) {
            try printer.print(term, into: &out) { (_: inout [UInt8]) throws(Stop) in
                calls += 1
                throw Stop()
            }
        }
        #expect(calls == 1)
    }

    @Test("a subterm prints on its own")
    func subterm() throws {
        let term = try CorpusPrinting.decode(B.term(B.tuple(B.atom("a"), B.map([(B.smallInt(2), B.nil), (B.smallInt(1), B.tuple())])))).get()
        let map = term.child(1, of: term.root)
        var out: [UInt8] = []
        TermPrinter().print(term, node: map, into: &out) { (_: inout [UInt8]) in }
        #expect(out == Array("#{1 => {},2 => []}".utf8))
        #expect(TermPrinter().localNode == "nonode@nohost" && TermPrinter().encoding == .latin1)
    }
}
