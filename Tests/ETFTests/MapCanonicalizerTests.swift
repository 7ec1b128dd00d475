import Testing

/// The large-map tolerance of the corpus tests must accept exactly a reordering
/// of the pairs of maps over 32 keys, and nothing else.
@Suite("Map canonicalizer (corpus tolerance)")
struct MapCanonicalizerTests {
    let canonicalizer = MapCanonicalizer(sortingMapsLargerThan: 2)

    func canonical(_ text: String) throws -> MapCanonicalizer.Result {
        try canonicalizer.canonicalize(latin1Bytes(text))
    }

    func verdict(_ printed: String, _ expected: String) -> CorpusComparison.Verdict {
        CorpusComparison.tolerate(printed: latin1Bytes(printed), expected: latin1Bytes(expected), canonicalizer: canonicalizer)
    }

    @Test("sorts the pairs of a map over the limit, and only those")
    func sortsLargeMapsOnly() throws {
        let large = try canonical("#{c => 1,a => 2,b => 3}")
        #expect(latin1String(large.text) == "#{a => 2,b => 3,c => 1}")
        #expect(large.sortedMaps == 1)
        #expect(large.largestMap == 3)
        let small = try canonical("#{b => 1,a => 2}")
        #expect(latin1String(small.text) == "#{b => 1,a => 2}")
        #expect(small.sortedMaps == 0)
    }

    @Test("nested large maps are sorted before the pairs holding them")
    func nested() throws {
        let a = try canonical("#{x => #{c => 1,a => 2,b => 3},#{z => 1,y => 2,w => 3} => k,m => []}")
        let b = try canonical("#{m => [],#{w => 3,z => 1,y => 2} => k,x => #{b => 3,c => 1,a => 2}}")
        #expect(a.text == b.text)
        #expect(a.sortedMaps == 3)
    }

    @Test("delimiters inside quoted atoms, pids, refs, funs and binaries do not split pairs")
    func delimitersInsideLeaves() throws {
        let pairs = [
            "'a,b => c}' => 1", "'it\\'s' => 'x\\\\'", "<'x,1@h>'.5.0> => <0.1.2>",
            "#Ref<'n,@h'.1.2.3> => #Port<0.9>", "#Fun<a>b,c.1.-2> => fun 'a,b':'c/d'/2",
            "<<1,2:3>> => <<>>", "[1,2|3] => {a,{}}", "-1.5e-5 => 'hello world'",
        ]
        let forward = "#{" + pairs.joined(separator: ",") + "}"
        let backward = "#{" + pairs.reversed().joined(separator: ",") + "}"
        let a = try canonical(forward)
        let b = try canonical(backward)
        #expect(a.largestMap == pairs.count)
        #expect(a.text == b.text)
        #expect(latin1String(a.text) == "#{" + pairs.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.joined(separator: ",") + "}")
    }

    @Test("leaves are copied unchanged", arguments: [
        "[]", "{}", "#{}", "<<>>", "''", "'\\''", "[a|b]", "{1,2.5,-3}", "<0.85.0>", "<foo@bar.5.0>",
        "#Ref<0.1.2.3>", "#Port<'a b@c'.7>", "#Fun<Èa.1.-1>", "fun erlang:'+'/2", "fun a:b/0", "[\u{E9}t\u{E9}]",
    ])
    func leavesUnchanged(_ text: String) throws {
        #expect(latin1String(try canonical(text).text) == text)
    }

    @Test("a reordered large map is tolerated")
    func toleratesReorder() {
        #expect(verdict("#{a => 1,b => 2,c => 3}", "#{c => 3,a => 1,b => 2}") == .tolerated)
    }

    @Test("other differences are not tolerated", arguments: [
        ("#{a => 1,b => 2,c => 4}", "#{c => 3,a => 1,b => 2}"),  // a value differs
        ("#{a => 1,b => 2}", "#{b => 2,a => 1}"),  // small maps must keep OTP's order
        ("[#{a => 1,b => 2,c => 3},x]", "[#{c => 3,a => 1,b => 2},y]"),  // a difference outside the map
        ("#{a => 1,b => 2,c => 3,d => 4}", "#{c => 3,a => 1,b => 2}"),  // a pair too many
        ("#{a => 1,b => 2,'c' => 3}", "#{c => 3,a => 1,b => 2}"),  // quoting differs
        ("#{a => 1,b => 2,c => 3", "#{c => 3,a => 1,b => 2}"),  // unparseable
    ])
    func rejectsOtherDifferences(_ printed: String, _ expected: String) {
        #expect(verdict(printed, expected) != .tolerated)
    }

    @Test("a change inside a large map of a real corpus line is caught")
    func realLineMutation() throws {
        let set = try CorpusSet.load("default")
        let real = MapCanonicalizer(sortingMapsLargerThan: CorpusComparison.flatmapLimit)
        let line = try #require(CorpusSet.splitLines(set.expected).first { line in
            ((try? real.canonicalize(line))?.sortedMaps ?? 0) > 0
        }, "the default set has a map of more than 32 keys")
        let text = latin1String(line)
        // Changing one digit (the last one below 9, so it stays a digit) is caught.
        var mutated = line
        let digit = try #require(mutated.lastIndex { $0 >= 0x30 && $0 <= 0x38 })
        mutated[digit] += 1
        #expect(CorpusComparison.tolerate(printed: mutated, expected: line, canonicalizer: real) != .tolerated, "\(text.prefix(200))")
        #expect(CorpusComparison.tolerate(printed: line, expected: line, canonicalizer: real) == .tolerated)
    }
}
