import FlameModel

/// pprof's string table: every string once, `""` at index 0.
struct PprofStrings {
    private(set) var strings: [String] = [""]
    private var indexes: [String: UInt32] = ["": 0]
    /// About the bytes held: each string twice (list and key), and slots.
    private(set) var byteEstimate = 0

    /// The index of `text`, added on first use.
    mutating func intern(_ text: String) -> UInt32 {
        if let known = indexes[text] { return known }
        let index = UInt32(strings.count)
        byteEstimate += 2 * text.utf8.count + 64
        strings.append(text)
        indexes[text] = index
        return index
    }

    mutating func intern(_ utf8: some Collection<UInt8>) -> UInt32 {
        intern(String(decoding: utf8, as: UTF8.self))
    }
}

/// The functions and locations of a profile, made at `finish` from the frames
/// the samples used. A location is one `ProfileFrame` (its id is the frame id
/// + 1, so samples name it without a lookup); a function is an Erlang
/// function, proc_lib's initial call of one (`(M:F/A)`, as the other formats
/// name that frame), or native code.
struct PprofCode {
    private(set) var functions: [Perftools_Profiles_Function] = []
    private(set) var locations: [Perftools_Profiles_Location] = []
    /// One mapping that every location belongs to: Erlang code has no
    /// addresses, but pprof asks for the main binary's mapping, and its flags
    /// tell pprof the names are already there (nothing to symbolize).
    private(set) var mappings: [Perftools_Profiles_Mapping] = []
    /// pprof function ids by `Symbols.functions` id; 0 when not made yet.
    private var plainIDs: [UInt64] = []
    private var procLibIDs: [UInt64] = []
    private var nativeID: UInt64 = 0

    /// Makes the locations of the frames `used` marks (indexed by frame id).
    mutating func build(used: [Bool], profile: Profile, strings: inout PprofStrings) {
        let symbols = profile.symbols
        plainIDs = Array(repeating: 0, count: symbols.functions.count)
        procLibIDs = plainIDs
        var mapping = Perftools_Profiles_Mapping()
        mapping.id = 1
        mapping.filename = Int64(strings.intern(Self.mappingName))
        mapping.hasFunctions_p = true
        mapping.hasFilenames_p = true
        mapping.hasLineNumbers_p = true
        mappings = [mapping]
        for (frameID, isUsed) in used.enumerated() where isUsed {
            let frame = profile.frame(UInt32(frameID))
            var line = Perftools_Profiles_Line()
            line.functionID = function(of: frame, symbols, &strings)
            line.line = Int64(frame.line(symbols) ?? 0)
            var location = Perftools_Profiles_Location()
            location.id = UInt64(frameID) + 1
            location.mappingID = 1
            location.line = [line]
            locations.append(location)
        }
    }

    /// The mapping's file name: a virtual one, as pprof spells those.
    static let mappingName = "[beam]"

    private mutating func function(of frame: ProfileFrame, _ symbols: Symbols, _ strings: inout PprofStrings) -> UInt64 {
        switch frame {
        case .native:
            if nativeID == 0 { nativeID = add(name: "native", system: "", file: 0, &strings) }
            return nativeID
        case .procLibInitialCall(let id):
            if procLibIDs[Int(id)] == 0 {
                let text = String(decoding: symbols.functionText(id), as: UTF8.self)
                procLibIDs[Int(id)] = add(name: "(\(text))", system: text, file: 0, &strings)
            }
            return procLibIDs[Int(id)]
        case .function(let id), .initialCall(let id):
            return plain(id, file: Symbols.none, symbols, &strings)
        case .code(let frameID):
            let code = symbols.frames[Int(frameID)]
            return plain(code.function, file: code.file, symbols, &strings)
        }
    }

    /// An Erlang function's id; its file is the first one a stack frame of it names.
    private mutating func plain(_ id: UInt32, file: UInt32, _ symbols: Symbols, _ strings: inout PprofStrings) -> UInt64 {
        var known = plainIDs[Int(id)]
        if known == 0 {
            let text = String(decoding: symbols.functionText(id), as: UTF8.self)
            known = add(name: text, system: text, file: 0, &strings)
            plainIDs[Int(id)] = known
        }
        if file != Symbols.none, functions[Int(known) - 1].filename == 0 {
            functions[Int(known) - 1].filename = Int64(strings.intern(symbols.name(file)))
        }
        return known
    }

    private mutating func add(name: String, system: String, file: Int64, _ strings: inout PprofStrings) -> UInt64 {
        var function = Perftools_Profiles_Function()
        function.id = UInt64(functions.count) + 1
        function.name = Int64(strings.intern(name))
        function.systemName = Int64(strings.intern(system))
        function.filename = file
        // Erlang reports the line of each call, not where a function starts: left 0.
        function.startLine = 0
        functions.append(function)
        return function.id
    }
}
