/// The Erlang side of the hand-made cases: one program that prints, one line per
/// case, what OTP makes of each case's bytes, and the line each case expects.
enum ErlangOracle {
    enum Mode: String {
        /// `~w` of `binary_to_term(Bytes)`.
        case print = "w"
        /// `~w` of `maps:values(binary_to_term(Bytes))`, or `badarg`.
        case values = "v"
    }

    struct Entry {
        var label: String
        var mode: Mode
        var bytes: [UInt8]
        /// The line this repository expects erl to print (Latin-1 scalars).
        var expected: String
    }

    static var entries: [Entry] {
        TagCases.all.map { Entry(label: $0.label, mode: .print, bytes: $0.bytes, expected: $0.expected) }
            + TermOrderCases.all.map { Entry(label: $0.label, mode: .values, bytes: $0.bytes, expected: valuesLine($0.expected)) }
    }

    static func valuesLine(_ values: [Int]?) -> String {
        guard let values else { return "badarg" }
        return "[" + values.map(String.init).joined(separator: ",") + "]"
    }

    /// An expression sequence for `erl_eval`: prints one line per entry, then halts.
    static func program(_ entries: [Entry]) -> String {
        let list = entries.map { "{\($0.mode.rawValue),[" + $0.bytes.map(String.init).joined(separator: ",") + "]}" }
            .joined(separator: ",\n")
        return """
            lists:foreach(fun({Mode, Bytes}) ->
                R = try binary_to_term(list_to_binary(Bytes)) of
                        T when Mode =:= w -> T;
                        T -> maps:values(T)
                    catch error:badarg -> badarg
                    end,
                io:format("~w~n", [R])
            end, [
            \(list)
            ]),
            halt().
            """
    }

    /// `erl` arguments that read the program from `path` and run it.
    static func erlArguments(programPath path: String) -> [String] {
        [
            "-noshell", "-eval",
            "{ok, B} = file:read_file(\"\(path)\"), {ok, T, _} = erl_scan:string(binary_to_list(B)), {ok, Es} = erl_parse:parse_exprs(T), erl_eval:exprs(Es, []).",
        ]
    }
}
