@testable import FlameFormats
@testable import FlameRun
@testable import FlameModel
import FlameDump
import Testing

/// Frame lines of one sample (docs/perf-output.md), from samples parsed out of hand-made ETF.
@Suite("FrameText")
struct FrameTextTests {
    func texts(_ sample: SampleSpec, _ dialect: PerfDialect = .flameProf, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        var parser = TickParser()
        let tick = try parser.tick([sample])
        let s = try #require(tick.samples.first, sourceLocation: sourceLocation)
        var table = StackTable()
        let stack = table.stack(of: s, symbols: parser.symbols)
        return table.stacks[Int(stack)].map { frame in
            var text: [UInt8] = []
            FrameText.text(table.frames[Int(frame)], parser.symbols, dialect, &text)
            return String(decoding: text, as: UTF8.self)
        }
    }

    // Stacks are first looked up by the sample's place in its tick: samples
    // that swap places, or a new key at a known place, must get their own.
    @Test("a stack follows its sample's key, not its place in the tick")
    func stackByPlace() throws {
        var parser = TickParser()
        let a = SampleSpec(pid: (85, 0), stack: [Self.gsLoop])
        let b = SampleSpec(pid: (86, 0), stack: [Self.initP])
        let c = SampleSpec(pid: (87, 0), currentFunction: E.mfa("erlang", "hibernate", 3), stack: [])
        var table = StackTable()
        var byPlace = StackTable()
        for samples in [[a, b], [b, a], [c, a, b], [a, b, c], [a, b, c]] {
            let tick = try parser.tick(samples)
            for (place, sample) in tick.samples.enumerated() {
                #expect(byPlace.stack(of: sample, at: place, symbols: parser.symbols) == table.stack(of: sample, symbols: parser.symbols))
            }
        }
        #expect(table.stacks.count == 3)
        #expect(byPlace.stacks == table.stacks)
    }

    static let gsLoop = E.frame("gen_server", "loop", 7, file: "gen_server.erl", line: 437)
    static let initP = E.frame("proc_lib", "init_p_do_apply", 3, file: "proc_lib.erl", line: 240)

    @Test("current_function equal to the first frame is written once, as the frame (with its line)")
    func currentFunctionOnce() throws {
        let s = SampleSpec(currentFunction: E.mfa("lists", "reverse", 1),
                           stack: [E.frame("lists", "reverse", 1, file: "lists.erl", line: 147), Self.gsLoop, Self.initP])
        #expect(try texts(s) == [
            "lists:reverse/1;147 (lists.erl)", "gen_server:loop/7;437 (gen_server.erl)",
            "proc_lib:init_p_do_apply/3;240 (proc_lib.erl)", "proc_lib:init_p/5 (proc_lib.erl)", "(m:init/1) (m.erl)",
        ])
    }

    @Test("current_function other than the first frame comes first, as M:F/A (M.erl)")
    func currentFunctionDifferent() throws {
        let s = SampleSpec(currentFunction: E.mfa("erlang", "hibernate", 3), stack: [Self.gsLoop], initialCall: E.mfa("m", "init", 1), dictionary: [])
        #expect(try texts(s) == ["erlang:hibernate/3 (erlang.erl)", "gen_server:loop/7;437 (gen_server.erl)", "m:init/1 (m.erl)"])
    }

    @Test("recursion: a run of one M:F/A is written once, keeping the outermost; separate runs stay")
    func recursion() throws {
        let s = SampleSpec(currentFunction: E.mfa("m", "f", 1),
                           stack: [E.frame("m", "f", 1, file: "m.erl", line: 5), E.frame("m", "f", 1, file: "m.erl", line: 6),
                                   E.frame("m", "f", 1, file: "m.erl", line: 7), E.frame("m", "g", 0, file: "m.erl", line: 1),
                                   E.frame("m", "f", 1, file: "m.erl", line: 8), E.frame("m", "f", 2, file: "m.erl", line: 9)],
                           initialCall: E.mfa("m", "f", 2), dictionary: [])
        #expect(try texts(s) == ["m:f/1;7 (m.erl)", "m:g/0;1 (m.erl)", "m:f/1;8 (m.erl)", "m:f/2;9 (m.erl)"])
    }

    @Test("initial_call equal to the outermost frame is left out; '$initial_call' too, but only when initial_call was")
    func initialCalls() throws {
        // initial_call same as the outermost frame: dropped; '$initial_call' then follows the frame.
        var s = SampleSpec(currentFunction: E.mfa("m", "loop", 1), stack: [E.frame("m", "loop", 1, file: "m.erl", line: 3)],
                           initialCall: E.mfa("m", "loop", 1), dictionary: [E.tuple(E.atom("$initial_call"), E.mfa("m", "init", 1))])
        #expect(try texts(s) == ["m:loop/1;3 (m.erl)", "(m:init/1) (m.erl)"])
        // '$initial_call' equal to a written initial_call: kept (flame_prof compares it only with the outermost frame).
        s = SampleSpec(stack: [Self.gsLoop], initialCall: E.mfa("m", "start", 0), dictionary: [E.tuple(E.atom("$initial_call"), E.mfa("m", "start", 0))])
        #expect(try texts(s) == ["m:loop/1 (m.erl)", "gen_server:loop/7;437 (gen_server.erl)", "m:start/0 (m.erl)", "(m:start/0) (m.erl)"])
        // Both dropped: everything equals the outermost frame.
        s = SampleSpec(currentFunction: E.mfa("m", "start", 0), stack: [], initialCall: E.mfa("m", "start", 0),
                       dictionary: [E.tuple(E.atom("$initial_call"), E.mfa("m", "start", 0))])
        #expect(try texts(s) == ["m:start/0 (m.erl)"])
        // '$initial_call' equal to the outermost frame but initial_call between them: kept.
        s = SampleSpec(currentFunction: E.mfa("m", "init", 1), stack: [], initialCall: E.mfa("proc_lib", "init_p", 5),
                       dictionary: [E.tuple(E.atom("$initial_call"), E.mfa("m", "init", 1))])
        #expect(try texts(s) == ["m:init/1 (m.erl)", "proc_lib:init_p/5 (proc_lib.erl)", "(m:init/1) (m.erl)"])
        // A '$initial_call' that is not {M, F, A} is ignored, and so are the other dictionary keys.
        s = SampleSpec(stack: [], initialCall: E.mfa("proc_lib", "init_p", 5),
                       dictionary: [E.tuple(E.atom("$ancestors"), E.list([E.atom("sup")])), E.tuple(E.atom("$initial_call"), E.atom("nope"))])
        #expect(try texts(s) == ["m:loop/1 (m.erl)", "proc_lib:init_p/5 (proc_lib.erl)"])
    }

    @Test("current_function undefined (native code) is `native ()`; portable `native (native)`")
    func native() throws {
        let s = SampleSpec(currentFunction: E.atom("undefined"), stack: [], initialCall: E.mfa("erlang", "apply", 2), dictionary: [])
        #expect(try texts(s) == ["native ()", "erlang:apply/2 (erlang.erl)"])
        #expect(try texts(s, .portable) == ["native (native)", "erlang:apply/2 (erlang.erl)"])
    }

    @Test("locations: file+line `M:F/A;L (File)`, file only, line only, none; in either order; binary file names")
    func locations() throws {
        let s = SampleSpec(currentFunction: E.mfa("a", "x", 0), stack: [
            E.frame("a", "x", 0, file: "src/a.erl", line: 12),
            E.frame("b", "y", 1, file: "lib/b.erl", line: 34, lineFirst: true),
            E.frame("c", "z", 2, file: "c_file.erl"),
            E.frame("d", "w", 3, line: 56),
            E.frame("e", "v", 4),
            E.tuple(E.atom("f"), E.atom("u"), E.int(5), E.list([E.tuple(E.atom("file"), E.binary("bin/f.erl")), E.tuple(E.atom("line"), E.int(7))])),
            // A crash's frame: an argument list in place of the arity counts as its length.
            E.tuple(E.atom("g"), E.atom("t"), E.list([E.int(1), E.atom("a")]), E.nil),
        ], initialCall: E.mfa("g", "t", 2), dictionary: [])
        #expect(try texts(s) == [
            "a:x/0;12 (src/a.erl)", "b:y/1;34 (lib/b.erl)", "c:z/2 (c_file.erl)", "d:w/3;56 (d.erl)", "e:v/4 (e.erl)",
            "f:u/5;7 (bin/f.erl)", "g:t/2 (g.erl)",
        ])
    }

    @Test("atoms are written as their text, never quoted, Latin-1 atoms as UTF-8")
    func atomText() throws {
        let s = SampleSpec(currentFunction: E.mfa("Elixir.Foo", "-init/1-fun-0-", 1), stack: [],
                           initialCall: E.tuple(E.latin1Atom(Array("m\u{F6}d".unicodeScalars.map { UInt8($0.value) })), E.atom("f"), E.int(0)), dictionary: [])
        #expect(try texts(s) == ["Elixir.Foo:-init/1-fun-0-/1 (Elixir.Foo.erl)", "möd:f/0 (möd.erl)"])
    }

    @Test("portable: + ; ( ) -> quotes, blanks and % are escaped as %XX; `;L` becomes `:L`; `[M:F/A]` for '$initial_call'")
    func portableEscapes() throws {
        let s = SampleSpec(currentFunction: E.mfa("erlang", "+", 2), stack: [
            E.frame("m", "a->b", 1, file: "my file (1).erl", line: 3),
            E.frame("m", "f;g", 0), E.frame("m", "h(x)", 0), E.frame("m", "it's", 0),
            E.frame("m", "say \"hi\"", 0), E.frame("m", "100%", 0), E.frame("m", "tab\there", 0),
        ], initialCall: E.mfa("proc_lib", "init_p", 5), dictionary: [E.tuple(E.atom("$initial_call"), E.mfa("m", "in(it)", 1))])
        #expect(try texts(s, .portable) == [
            "erlang:%2B/2 (erlang.erl)",
            "m:a-%3Eb/1:3 (my%20file%20%281%29.erl)",
            "m:f%3Bg/0 (m.erl)", "m:h%28x%29/0 (m.erl)", "m:it%27s/0 (m.erl)", "m:say%20%22hi%22/0 (m.erl)", "m:100%25/0 (m.erl)",
            "m:tab%09here/0 (m.erl)",
            "proc_lib:init_p/5 (proc_lib.erl)", "[m:in%28it%29/1] (m.erl)",
        ])
        // The flame_prof dialect writes them as they are.
        #expect(try texts(s, .flameProf)[0...1] == ["erlang:+/2 (erlang.erl)", "m:a->b/1;3 (my file (1).erl)"])
        #expect(try texts(s, .flameProf).last == "(m:in(it)/1) (m.erl)")
    }

    @Test("portable comm: no digit, no blank, two characters or more, and distinct names stay distinct")
    func portableComm() {
        func comm(_ s: String) -> String { String(decoding: FrameText.portableComm(Array(s.utf8)), as: UTF8.self) }
        #expect(comm("running") == "running")
        #expect(comm("garbage_collecting") == "garbage_collecting")
        #expect(comm("erlang:apply/2") == "erlang:apply/-two")
        #expect(comm("worker_1") == "worker_-one")
        #expect(comm("worker_10") == "worker_-one-zero")
        #expect(comm("my-server") == "my--server")
        #expect(comm("a b<c>") == "a-xcab-xdmc-xdo")
        #expect(comm("x") == "x-_")
        #expect(comm("") == "-_")
        #expect(comm("é") == "-xmd-xkj")
        // Names a reader would merge if they were cut at a digit or folded to one replacement character.
        let names = ["worker_1", "worker_2", "worker_12", "worker_-one", "worker_one", "r2d2", "r_d_", "a b", "a_b", "a-b", "a--b",
                     "x", "x_", "x-_", "", "-_", "mem_lt_16KiB", "mem_lt_64KiB", "é", "è", "-xmd-xkj", "0", "-zero"]
        let comms = names.map(comm)
        #expect(Set(comms).count == names.count, "\(comms)")
        for c in comms {
            #expect(c.utf8.count >= 2)
            #expect(!c.contains { $0.isNumber || $0.isWhitespace || $0 == ";" || $0 == "<" || $0 == ">" }, "\(c)")
        }
    }

    @Test("category pseudo frames: `NAME (category)`, escaped in the portable dialect")
    func categoryLine() {
        #expect(String(decoding: FrameText.categoryLine(Array("m:f/1".utf8), dialect: .flameProf), as: UTF8.self) == "\tffffffff m:f/1 (category)\n")
        #expect(String(decoding: FrameText.categoryLine(Array("a b+c".utf8), dialect: .portable), as: UTF8.self) == "\tffffffff a%20b%2Bc (category)\n")
    }

    @Test("a whole sample in the text: frames innermost first, `<TAB>ffffffff TEXT`, a blank line after")
    func inText() {
        let text = convertTicks([(0, [SampleSpec(currentFunction: E.mfa("lists", "reverse", 1),
                                                 stack: [E.frame("lists", "reverse", 1, file: "lists.erl", line: 147), Self.gsLoop, Self.initP])])])
        #expect(text.hasPrefix("running\t0.85.0 [000] 1700000000.000000: cpu-clock:\tmetric_erlang_reductions: 100, 1\t"))
        #expect(text.hasSuffix("""
            \n\tffffffff lists:reverse/1;147 (lists.erl)
            \tffffffff gen_server:loop/7;437 (gen_server.erl)
            \tffffffff proc_lib:init_p_do_apply/3;240 (proc_lib.erl)
            \tffffffff proc_lib:init_p/5 (proc_lib.erl)
            \tffffffff (m:init/1) (m.erl)\n\n
            """))
    }
}
