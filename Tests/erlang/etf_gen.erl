%% etf_gen: random Erlang term generator for flameconv's ETF decoder tests.
%%
%% For every option set it writes
%%   OUTDIR/<set>.etf       frames: <<Len:32/big, term_to_binary(T, Opts)/binary>>
%%   OUTDIR/<set>.expected  for each frame, in order: iolist_to_binary(io_lib:format("~w~n", [T]))
%% plus two special sets:
%%   legacy    hand-crafted bytes in encodings OTP 25 reads but no longer writes
%%   external  pids/ports/refs of other nodes; the node-history-dependent channel
%%             number Erlang prints is replaced by the node atom (flameconv's rendering)
%% and <set>.labels for those two (one line per frame, saying what it is).
%%
%% Usage (compiled, so local funs are real module funs):
%%   erlc -o DIR etf_gen.erl
%%   erl -noshell -pa DIR -run etf_gen main OUTDIR SEED COUNT -s init stop
%%
%% The term *shapes* are a pure function of SEED; only the numbers inside
%% make_ref()/self()/port values change between runs, and the expected text is
%% always produced from the very terms that were encoded, in the same run.
-module(etf_gen).

-export([main/1]).
%% Targets for export funs (fun etf_gen:F/A) so the corpus holds some of ours.
-export([fun_target/0, fun_target/2]).

-define(DEFAULT_SEED, 1).
-define(DEFAULT_COUNT, 2000).

%%====================================================================
%% Entry point
%%====================================================================

main(Args) ->
    try run(Args) of
        ok -> ok
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "etf_gen failed: ~p:~p~n~p~n",
                      [Class, Reason, Stack]),
            erlang:halt(1)
    end.

run([OutDir]) -> run([OutDir, integer_to_list(?DEFAULT_SEED)]);
run([OutDir, Seed]) -> run([OutDir, Seed, integer_to_list(?DEFAULT_COUNT)]);
run([OutDir, SeedStr, CountStr]) ->
    Seed = list_to_integer(SeedStr),
    Count = list_to_integer(CountStr),
    ok = filelib:ensure_dir(filename:join(OutDir, "x")),
    %% Pools are built before any seeding and use no randomness, so the
    %% random choices made from them are the same every run.
    Pools = make_pools(),
    Sets = option_sets(),
    lists:foreach(
      fun({Index, {Name, Opts, Heavy}}) ->
              seed(Seed, Index),
              Terms = edge_terms(Heavy, Pools)
                  ++ [random_term(Pools) || _ <- lists:seq(1, Count)],
              Frames = [encode_checked(T, Opts) || T <- Terms],
              Expected = [expected(T) || T <- Terms],
              write_set(OutDir, Name, Frames, Expected),
              report(Name, Terms, Frames, Expected)
      end, lists:zip(lists:seq(1, length(Sets)), Sets)),
    seed(Seed, 1000),
    Legacy = legacy_items(),
    write_crafted(OutDir, "legacy", Legacy, fun expected/1),
    seed(Seed, 1001),
    External = external_items(Pools, Count),
    write_crafted(OutDir, "external", External, fun expected_external/1),
    ok.

%% Every option set: {Name, term_to_binary options, heavy edge terms}.
%% Heavy terms (a 100 KB binary, 65535/65536-element byte lists, a
%% 20000-digit bignum) only go into two sets to keep the committed corpus small.
option_sets() ->
    [{"default", [], all},
     {"compressed", [compressed], some},
     {"compressed_0", [{compressed, 0}], none},
     {"compressed_1", [{compressed, 1}], none},
     {"compressed_9", [{compressed, 9}], none},
     {"minor_0", [{minor_version, 0}], none},
     {"minor_1", [{minor_version, 1}], none},
     {"minor_2", [{minor_version, 2}], none},
     {"deterministic", [deterministic], none},
     {"deterministic_minor_2", [deterministic, {minor_version, 2}], none},
     {"deterministic_compressed_minor_0",
      [deterministic, compressed, {minor_version, 0}], none},
     {"compressed_9_minor_2", [{compressed, 9}, {minor_version, 2}], none}].

%% exsss needs a non-zero state; mixing in the set index gives every set its
%% own, reproducible stream.
seed(Seed, Index) ->
    _ = rand:seed(exsss, {Seed, Index, 16#5eed}),
    ok.

%%====================================================================
%% Encoding, checking, writing
%%====================================================================

encode_checked(T, Opts) ->
    Bin = term_to_binary(T, Opts),
    check_roundtrip(T, binary_to_term(Bin)),
    Bin.

%% =:= must hold; funs are the one case where the brief allows ==
%% (on OTP 25 decoded funs are in fact =:= too, so this rarely matters).
check_roundtrip(T, D) ->
    case T =:= D orelse (has_fun(T) andalso T == D) of
        true -> ok;
        false -> error({roundtrip_mismatch, T, D})
    end.

has_fun(T) when is_function(T) -> true;
has_fun([H | Tl]) -> has_fun(H) orelse has_fun(Tl);
has_fun(T) when is_tuple(T) -> has_fun(tuple_to_list(T));
has_fun(T) when is_map(T) -> has_fun(maps:to_list(T));
has_fun(_) -> false.

%% Exactly what io:format("~w~n", [T]) writes to a latin1 standard_io.
%% iolist_to_binary/1 fails on chars > 255, which doubles as the check that
%% ~w output is Latin-1 only.
expected(T) ->
    iolist_to_binary(io_lib:format("~w~n", [T])).

frame(Bin) -> <<(byte_size(Bin)):32/big, Bin/binary>>.

write_set(Dir, Name, Frames, Expected) ->
    ok = file:write_file(filename:join(Dir, Name ++ ".etf"),
                         [frame(F) || F <- Frames]),
    ok = file:write_file(filename:join(Dir, Name ++ ".expected"), Expected).

%% Crafted sets: items are {Label, EtfBytes}. The frame holds our bytes as-is
%% (never re-encoded); the expected text comes from what OTP decodes them to.
write_crafted(Dir, Name, Items, ExpectFun) ->
    Frames = [Bin || {_, Bin} <- Items],
    Terms = [binary_to_term(Bin) || Bin <- Frames],
    Expected = [ExpectFun(T) || T <- Terms],
    write_set(Dir, Name, Frames, Expected),
    ok = file:write_file(filename:join(Dir, Name ++ ".labels"),
                         [[Label, $\n] || {Label, _} <- Items]),
    report(Name, Terms, Frames, Expected).

%% One line per set on stdout: sizes and how many terms hold large maps and
%% how many frames actually came out compressed (tag 80).
report(Name, Terms, Frames, Expected) ->
    LargeMaps = lists:sum([count_large_maps(T) || T <- Terms]),
    WithLarge = length([T || T <- Terms, count_large_maps(T) > 0]),
    Compressed = length([B || <<131, 80, _/binary>> = B <- Frames]),
    io:format("~-34s terms=~5w etf=~8w expected=~8w large_maps=~4w "
              "(in ~w terms) tag80_frames=~w~n",
              [Name, length(Terms), iolist_size([frame(F) || F <- Frames]),
               iolist_size(Expected), LargeMaps, WithLarge, Compressed]).

count_large_maps(T) when is_map(T) ->
    Self = case map_size(T) > 32 of true -> 1; false -> 0 end,
    Self + count_large_maps(maps:to_list(T));
count_large_maps([H | Tl]) -> count_large_maps(H) + count_large_maps(Tl);
count_large_maps(T) when is_tuple(T) -> count_large_maps(tuple_to_list(T));
count_large_maps(_) -> 0.

%%====================================================================
%% Random helpers
%%====================================================================

uniform(N) -> rand:uniform(N).
between(Lo, Hi) -> Lo - 1 + rand:uniform(Hi - Lo + 1).
pick(List) -> lists:nth(rand:uniform(length(List)), List).
pick_t(Tuple) -> element(rand:uniform(tuple_size(Tuple)), Tuple).
random_bytes(N) -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, N)]).

%% Choose by weight: [{Weight, Fun}], calls the chosen fun.
weighted(Choices) ->
    Total = lists:sum([W || {W, _} <- Choices]),
    weighted(rand:uniform(Total), Choices).
weighted(N, [{W, F} | _]) when N =< W -> F();
weighted(N, [{W, _} | Rest]) -> weighted(N - W, Rest).

%%====================================================================
%% Pools of pids, ports and refs (built once, without randomness)
%%====================================================================

make_pools() ->
    Waiter = fun() -> receive stop -> ok end end,
    Spawned = [spawn(Waiter) || _ <- lists:seq(1, 4)],
    Dead = spawn(fun() -> ok end),          % a dead pid prints all the same
    CraftedPids = [local_pid(0, 0), local_pid(32767, 8191), local_pid(12, 3)],
    Pids = [self(), whereis(init), Dead | Spawned] ++ CraftedPids,
    %% Real ports: inet sockets are ports; plus crafted local port ids up to
    %% the 28-bit maximum OTP 25 accepts for the local node.
    UdpPorts = [begin {ok, S} = gen_udp:open(0), S end || _ <- lists:seq(1, 3)],
    Ports = UdpPorts ++ [local_port(0), local_port(1 bsl 28 - 1), local_port(77)],
    %% Refs: make_ref(), monitor refs, aliases, and crafted 1- and 2-id local
    %% refs (which print zero-padded to three numbers).
    Monitors = [erlang:monitor(process, P) || P <- lists:sublist(Spawned, 2)],
    Aliases = [erlang:alias() || _ <- lists:seq(1, 2)],
    CraftedRefs = [local_ref([5]), local_ref([1, 2]), local_ref([0, 0, 0]),
                   local_ref([1 bsl 18 - 1, 1 bsl 32 - 1, 1 bsl 32 - 1])],
    Refs = [make_ref() || _ <- lists:seq(1, 4)] ++ Monitors ++ Aliases ++ CraftedRefs,
    #{pids => list_to_tuple(Pids), ports => list_to_tuple(Ports),
      refs => list_to_tuple(Refs), external => false}.

%% ETF atom bytes as OTP 25 writes them with minor_version 2.
atom_bytes(A) ->
    B = atom_to_binary(A, utf8),
    case byte_size(B) of
        S when S < 256 -> <<119, S, B/binary>>;
        S -> <<118, S:16, B/binary>>
    end.

local_pid(N, S) ->
    binary_to_term(<<131, 88, (atom_bytes(node()))/binary, N:32, S:32, 0:32>>).
local_port(Id) ->
    binary_to_term(<<131, 89, (atom_bytes(node()))/binary, Id:32, 0:32>>).
local_ref(Ids) ->
    binary_to_term(<<131, 90, (length(Ids)):16, (atom_bytes(node()))/binary, 0:32,
                     (<< <<I:32>> || I <- Ids >>)/binary>>).

%%====================================================================
%% Edge terms: every size class and boundary, present in every set
%%====================================================================

edge_terms(Heavy, P) ->
    edge_integers() ++ edge_floats() ++ edge_atoms() ++ edge_lists()
        ++ edge_tuples() ++ edge_binaries() ++ edge_maps() ++ edge_identifiers(P)
        ++ edge_funs() ++ [edge_mixture(P)]
        ++ heavy_terms(Heavy).

edge_integers() ->
    %% SMALL_INTEGER (0..255), INTEGER (32-bit signed), the 2^27 boundary of
    %% 32-bit smallints, 2^59 of 64-bit smallints, then SMALL_BIG/LARGE_BIG
    %% either side of the 255-byte limit.
    Bounds = [1 bsl 8, 1 bsl 27, 1 bsl 31, 1 bsl 32, 1 bsl 59, 1 bsl 63, 1 bsl 64],
    Around = lists:usort([S * (B + D) || B <- Bounds, D <- [-1, 0, 1], S <- [1, -1]]),
    Big = [S * X || S <- [1, -1],
                    X <- [1 bsl (8 * 255) - 1, 1 bsl (8 * 255), 1 bsl (8 * 256) - 1,
                          1 bsl (8 * 256)]],
    [0, 1, 127, 128, 255, -1, -128, -255, -256, [0, 255, 256, -1],
     lists:seq(0, 255), Around, pow10(100), -pow10(100) + 1,
     pow10(3000) - 1, -pow10(3000)] ++ Big.

pow10(N) -> list_to_integer("1" ++ lists:duplicate(N, $0)).

edge_floats() ->
    [0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.1 + 0.2, 0.5, 1.5, 100.0, 1.0e15, 1.0e16,
     1.0e21, 1.0e22, 1.0e23, 123456789012345680.0, 9007199254740993.0,
     1.0e-4, 1.0e-5, 0.0001234, 1.234e-5, 123456.0, 1234567.0,
     5.0e-324, -5.0e-324, 1.0e-323, 2.2250738585072014e-308,
     2.225073858507201e-308, 1.7976931348623157e308, -1.7976931348623157e308,
     1.0e308, 1.0e-300, 3.141592653589793, 2.718281828459045, 1.0e100,
     float(1 bsl 53), float(1 bsl 63), 4.35, 0.3, 2.5e-7].

edge_atoms() ->
    [special_atoms(),
     list_to_atom(lists:duplicate(255, $a)),
     list_to_atom(lists:duplicate(255, 200)),        % Latin-1, 255 chars
     list_to_atom(lists:duplicate(255, 16#1F600)),   % 4-byte UTF-8, 255 chars
     list_to_atom(lists:seq(0, 31) ++ [127]),
     list_to_atom(lists:seq(128, 255)),
     list_to_atom([$a | lists:seq(256, 300)])].

%% Atoms that exercise ~w's quoting rules.
special_atoms() ->
    ['', 'and', 'andalso', 'band', 'begin', 'bnot', 'bor', 'bsl', 'bsr',
     'bxor', 'case', 'catch', 'cond', 'div', 'end', 'fun', 'if', 'let', 'not',
     'of', 'or', 'orelse', 'receive', 'rem', 'try', 'when', 'xor', 'after',
     'maybe', 'else', 'true', 'false', 'undefined', 'nil', ok,
     'Abc', 'ABC', '_x', '_', 'x@y', 'x@', '@x', 'a.b', 'a b', 'a-b', 'a+b',
     'a\nb', 'a\tb', 'a\'b', 'a\\b', 'a"b', '\'', '\\', '[]', '{}', '$',
     '9abc', 'abc9', 'aBC', 'a_B_9@x', 'Ωmega', 'ß', 'ä', 'ÿ', 'À', '×', '÷',
     list_to_atom([16#436]), list_to_atom([$a, 16#436]), list_to_atom([16#1F600]),
     list_to_atom([0]), list_to_atom([127]), list_to_atom([128]),
     list_to_atom([159]), list_to_atom([160]), list_to_atom([173]),
     list_to_atom([$a, 27, $b]), list_to_atom([$a, 8, 11, 12, 13])].

edge_lists() ->
    [[], [[]], [[[[]]]], [a | b], [1, 2 | 3], [[] | []], [a | <<1>>], [1 | 2.0],
     "abc", [0], [255], [256], lists:seq(0, 255), lists:seq(1, 256),
     lists:duplicate(255, $x), lists:duplicate(256, $x), [$a, 1.0, b],
     [16#436, 16#1F600], [-1, 1], [1 | {}], [[] | {a}], [<<>> | <<1:1>>]].

edge_tuples() ->
    [{}, {{}}, {a}, {1, 2}, list_to_tuple(lists:seq(1, 255)),
     list_to_tuple(lists:seq(1, 256)), list_to_tuple(lists:duplicate(300, [])),
     {{{{{deep}}}}}].

edge_binaries() ->
    [<<>>, <<0>>, <<255>>, <<"abc">>, <<1, 2, 3>>, random_bytes(255),
     random_bytes(1000)
     | [<<0:N>> || N <- lists:seq(1, 7)]]
        ++ [<<255:N>> || N <- lists:seq(1, 7)]
        ++ [<<1, 2, 3, 5:3>>, <<(random_bytes(20))/binary, 1:1>>,
            <<(random_bytes(300))/binary, 100:7>>].

edge_maps() ->
    [#{}, #{a => 1}, #{1 => int, 1.0 => float}, #{0.0 => z, 1 => a, a => 1},
     #{[] => nil, {} => tuple, <<>> => bin, #{} => map, [a] => list},
     #{#{a => 1} => #{b => #{c => d}}},
     maps:from_list([{K, K} || K <- lists:seq(1, 32)]),
     maps:from_list([{K, K} || K <- lists:seq(1, 33)]),
     maps:from_list([{K, v} || K <- lists:seq(1, 300)]),
     maps:from_list([{list_to_atom("k" ++ integer_to_list(K)), K}
                     || K <- lists:seq(1, 40)]),
     maps:from_list([{K, K} || K <- lists:seq(1, 20)] ++
                    [{float(K), K} || K <- lists:seq(1, 20)])].

edge_identifiers(#{pids := Pids, ports := Ports, refs := Refs}) ->
    tuple_to_list(Pids) ++ tuple_to_list(Ports) ++ tuple_to_list(Refs) ++
        [make_ref(), self(), {self(), make_ref()}].

edge_funs() ->
    [local_fun(0, none), local_fun(1, 42), local_fun(2, {a, "b", <<"c">>}),
     local_fun(3, [1.5, -0.0]), fun lists:map/2, fun erlang:'+'/2,
     fun erlang:'++'/2, fun erlang:'=:='/2, fun erlang:'and'/2,
     fun 'a-b':'c d'/0, fun 'Elixir.Foo':bar/1, fun etf_gen:fun_target/0,
     fun ?MODULE:fun_target/2, erlang:make_fun(lists, map, 255),
     erlang:make_fun('ÿ', 'ä', 1), erlang:make_fun('a\x{436}', 'x@y', 2),
     erlang:make_fun('maybe', 'cond', 3), erlang:make_fun('Abc', '', 0),
     erlang:make_fun(list_to_atom([0, 27, 127, 128, 160]), 'a\'b', 0),
     crafted_fun('zz', 7, 12345, []), crafted_fun('a-b', 0, 0, [1]),
     crafted_fun('Èa', 1, 4294967295, [x, y]),
     crafted_fun(list_to_atom([16#436]), 2, 99, [])].

%% A few levels of everything inside everything.
edge_mixture(P) ->
    {[#{k => {<<1:1>>, [1.0 | 2]}, [a] => self()}, pick_t(maps:get(refs, P))],
     #{{1, 2} => [#{x => [[[<<"deep">>]]]}], 3.0 => fun lists:map/2},
     [[{}], {[]}, #{}, <<>>, '', 0.0, -0.0]}.

%% Big items: only in two sets (see option_sets/0).
heavy_terms(none) -> [];
heavy_terms(some) ->
    [binary:copy(<<"0123456789abcdef">>, 6400),     % 100 KB, compresses well
     random_bytes(20000),                            % does not compress
     pow10(20000) + 7];                              % ~8300-byte LARGE_BIG
heavy_terms(all) ->
    heavy_terms(some)
        ++ [lists:duplicate(65535, $a),              % longest STRING_EXT
            lists:duplicate(65536, $a)].             % one more: LIST_EXT

%%====================================================================
%% Random terms
%%====================================================================

%% Wide containers (large maps, large tuples) are chosen at the top only,
%% so their frequency is easy to state: about 3% and 1% of random terms.
random_term(P) ->
    weighted([{96, fun() -> bounded_term(P) end},
              {3, fun() -> gen_large_map(P, 1) end},
              {1, fun() -> gen_large_tuple(P) end}]).

%% Nesting multiplies sizes and a few huge terms would dominate the corpus:
%% terms printing to more than 6 KB are drawn again, except one in 20, so
%% big terms stay in but stay rare.
bounded_term(P) ->
    T = term(P, depth()),
    case iolist_size(io_lib:format("~w", [T])) > 6000 andalso uniform(20) > 1 of
        true -> bounded_term(P);
        false -> T
    end.

%% Mostly shallow; sometimes five levels deep.
depth() ->
    weighted([{30, fun() -> 0 end}, {30, fun() -> 1 end}, {22, fun() -> 2 end},
              {12, fun() -> 3 end}, {6, fun() -> between(4, 5) end}]).

%% Depth-limited recursion: at depth 0 only leaves; otherwise mostly leaves
%% so terms stay a reasonable size, with every container kind reachable.
term(P, D) when D =< 0 -> leaf(P);
term(P, D) ->
    weighted([{40, fun() -> leaf(P) end},
              {15, fun() -> gen_list(P, D) end},
              {5, fun() -> gen_improper(P, D) end},
              {15, fun() -> gen_tuple(P, D) end},
              {12, fun() -> gen_map(P, D) end}]).

leaf(P) ->
    weighted([{18, fun gen_integer/0},
              {12, fun gen_float/0},
              {16, fun gen_atom/0},
              {8, fun gen_string/0},
              {9, fun gen_binary/0},
              {5, fun gen_bitstring/0},
              {3, fun() -> gen_pid(P) end},
              {3, fun() -> gen_port(P) end},
              {3, fun() -> gen_ref(P) end},
              {4, fun() -> gen_fun(P) end},
              {2, fun() -> [] end}]).

%%--------------------------------------------------------------------
%% Integers: every ETF integer encoding and both sides of its limits.
%%--------------------------------------------------------------------
gen_integer() ->
    weighted([{30, fun() -> between(0, 255) end},                 % SMALL_INTEGER_EXT
              {8, fun() -> -between(1, 256) end},
              {15, fun() -> near_boundary() end},
              {20, fun() -> random_sign(uniform(1 bsl between(1, 64))) end},
              {10, fun() -> random_sign(between(1 bsl 31, 1 bsl 64)) end},
              {10, fun() -> big_of_bytes(between(9, 64)) end},    % SMALL_BIG_EXT
              {5, fun() -> big_of_bytes(between(250, 260)) end},  % 255/256 bytes
              {1, fun() -> big_of_bytes(between(300, 1500)) end}]). % up to ~3600 digits

near_boundary() ->
    B = pick([1 bsl 8, 1 bsl 27, 1 bsl 31, 1 bsl 32, 1 bsl 59, 1 bsl 63, 1 bsl 64]),
    random_sign(B + between(-3, 3)).

random_sign(X) -> case uniform(2) of 1 -> X; 2 -> -X end.

%% An integer whose magnitude needs exactly N bytes.
big_of_bytes(N) ->
    <<Rest:(8 * (N - 1))>> = random_bytes(N - 1),
    random_sign((between(1, 255) bsl (8 * (N - 1))) bor Rest).

%%--------------------------------------------------------------------
%% Floats: all finite bit patterns are possible; plus the classes that
%% stress shortest-round-trip printing and the fixed/scientific switch.
%%--------------------------------------------------------------------
gen_float() ->
    weighted([{25, fun() -> float_from_bits(uniform(2) - 1, between(0, 2046),
                                            uniform(1 bsl 52) - 1) end},
              {8, fun() -> float_from_bits(uniform(2) - 1, 0, uniform(1 bsl 52) - 1) end},
              {4, fun() -> pick([0.0, -0.0]) end},
              {10, fun() -> random_sign_f(list_to_float("1.0e" ++ integer_to_list(between(-323, 308)))) end},
              {10, fun() -> random_sign_f(float(uniform(1 bsl between(1, 70)))) end},
              {15, fun() -> decimal_float() end},
              {5, fun() -> pick([5.0e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                                 -1.7976931348623157e308, 1.0e308, -5.0e-324]) end},
              {23, fun() -> random_sign_f(rand:uniform() * pick([1.0, 1.0e6, 1.0e-6, 1.0e15,
                                                                 1.0e16, 1.0e21, 1.0e-5])) end}]).

float_from_bits(Sign, Exp, Mant) ->
    <<F/float>> = <<Sign:1, Exp:11, Mant:52>>,   % Exp < 2047: never NaN/inf
    F.

random_sign_f(F) -> case uniform(2) of 1 -> F; 2 -> -F end.

%% "0.1 style": a few decimal digits times a power of ten, the values people
%% actually write, which are rarely exact in binary.
decimal_float() ->
    Digits = integer_to_list(between(1, 999999)),
    Exp = between(-30, 30),
    random_sign_f(list_to_float("0." ++ Digits ++ "e" ++ integer_to_list(Exp))).

%%--------------------------------------------------------------------
%% Atoms: quoting, escapes, Latin-1 and Unicode, lengths 0..255 chars.
%%--------------------------------------------------------------------
gen_atom() ->
    weighted([{25, fun() -> pick(special_atoms()) end},
              {25, fun() -> list_to_atom(chars_from("abcdefghijklmnopqrstuvwxyz_@0123456789",
                                                    between(1, 12))) end},
              {10, fun() -> list_to_atom([pick("ABCXYZ_") | chars_from("aZ_9@.-' \\\"", between(0, 8))]) end},
              {15, fun() -> list_to_atom([between(0, 255) || _ <- lists:seq(1, between(0, 20))]) end},
              {5, fun() -> list_to_atom([pick(lists:seq(0, 31) ++ [127, 128, 159, 215, 223, 247, 255])
                                         || _ <- lists:seq(1, between(1, 6))]) end},
              {12, fun() -> list_to_atom([unicode_char() || _ <- lists:seq(1, between(1, 10))]) end},
              {5, fun() -> list_to_atom([mixed_char() || _ <- lists:seq(1, between(1, 30))]) end},
              {3, fun() -> long_atom() end}]).

chars_from(Alphabet, N) -> [pick(Alphabet) || _ <- lists:seq(1, N)].

%% A code point > 255 from each UTF-8 length class, never a surrogate.
unicode_char() ->
    weighted([{4, fun() -> between(256, 16#7FF) end},
              {4, fun() -> pick([between(16#800, 16#D7FF), between(16#E000, 16#FFFD)]) end},
              {2, fun() -> between(16#10000, 16#10FFFF) end}]).

mixed_char() ->
    case uniform(3) of
        1 -> between($a, $z);
        2 -> between(0, 255);
        3 -> unicode_char()
    end.

long_atom() ->
    Len = between(200, 255),
    case uniform(3) of
        1 -> list_to_atom(chars_from("abcxyz_@", Len));
        2 -> list_to_atom([between(128, 255) || _ <- lists:seq(1, Len)]);
        3 -> list_to_atom([mixed_char() || _ <- lists:seq(1, Len)])
    end.

%%--------------------------------------------------------------------
%% Strings: byte lists (STRING_EXT when all < 256 and length =< 65535);
%% ~w prints them as integer lists. Some go above 255 (LIST_EXT).
%%--------------------------------------------------------------------
gen_string() ->
    Len = weighted([{80, fun() -> between(0, 20) end},
                    {19, fun() -> between(21, 300) end},
                    {1, fun() -> between(301, 3000) end}]),
    weighted([{60, fun() -> [between(32, 126) || _ <- lists:seq(1, Len)] end},
              {30, fun() -> [between(0, 255) || _ <- lists:seq(1, Len)] end},
              {10, fun() -> [pick([between(0, 255), unicode_char()]) || _ <- lists:seq(1, Len)] end}]).

%%--------------------------------------------------------------------
%% Binaries and bitstrings.
%%--------------------------------------------------------------------
gen_binary() ->
    weighted([{5, fun() -> <<>> end},
              {45, fun() -> random_bytes(between(1, 16)) end},
              {25, fun() -> random_bytes(between(17, 256)) end},
              {10, fun() -> list_to_binary([between(32, 126) || _ <- lists:seq(1, between(1, 64))]) end},
              {3, fun() -> random_bytes(between(257, 4096)) end},
              %% 8 KB and up now and then, ~100 KB very rarely (the heavy
              %% edge terms guarantee one 100 KB binary in two sets)
              {1, fun() -> case uniform(1000) of
                               1 -> random_bytes(between(50000, 100000));
                               _ -> random_bytes(between(4097, 8192))
                           end end}]).

gen_bitstring() ->
    Bytes = random_bytes(weighted([{80, fun() -> between(0, 8) end},
                                   {20, fun() -> between(9, 200) end}])),
    Bits = between(1, 7),
    <<Bytes/binary, (uniform(1 bsl Bits) - 1):Bits>>.

%%--------------------------------------------------------------------
%% Pids, ports, refs: local ones from the pools (plus fresh refs); in the
%% external set, often ones from another node.
%%--------------------------------------------------------------------
gen_pid(P = #{pids := Pids}) ->
    maybe_external(P, fun() -> pick_t(Pids) end, fun random_ext_pid/0).
gen_port(P = #{ports := Ports}) ->
    maybe_external(P, fun() -> pick_t(Ports) end, fun random_ext_port/0).
gen_ref(P = #{refs := Refs}) ->
    maybe_external(P, fun() -> case uniform(4) of
                                   1 -> make_ref();
                                   _ -> pick_t(Refs)
                               end end,
                   fun random_ext_ref/0).

maybe_external(#{external := true}, Local, External) ->
    case uniform(4) of 1 -> Local(); _ -> External() end;
maybe_external(_, Local, _) -> Local().

%%--------------------------------------------------------------------
%% Funs: local closures with and without free variables (real module
%% funs, hence a compiled module), export funs, and NEW_FUN_EXT funs of
%% other modules built from bytes.
%%--------------------------------------------------------------------
gen_fun(#{external := true}) ->
    %% Funs with random module names print them raw inside #Fun<...>, which
    %% could fool the channel rewriting below; the external set keeps to
    %% plain funs.
    pick([local_fun(0, none), local_fun(1, 7), fun lists:map/2]);
gen_fun(P) ->
    weighted([{20, fun() -> local_fun(uniform(4) - 1, free_value(P)) end},
              {10, fun() -> pick([fun lists:map/2, fun erlang:'+'/2, fun erlang:'-'/1,
                                  fun erlang:'=:='/2, fun 'a-b':'c d'/0,
                                  fun ?MODULE:fun_target/0]) end},
              {8, fun() -> erlang:make_fun(gen_atom(), gen_atom(), between(0, 255)) end},
              {4, fun() -> crafted_fun(gen_atom(), between(0, 1000), uniform(1 bsl 32) - 1,
                                       [leaf_no_fun(P) || _ <- lists:seq(1, uniform(3) - 1)]) end}]).

free_value(P) -> leaf_no_fun(P).

leaf_no_fun(P) ->
    case leaf(P) of
        F when is_function(F) -> gen_integer();
        T -> T
    end.

%% Four fun sites so the corpus has several indexes; the ones with a
%% variable capture it (an environment in NEW_FUN_EXT).
local_fun(0, _) -> fun() -> ok end;
local_fun(1, V) -> fun(X) -> {X, V} end;
local_fun(2, V) -> fun(X, Y) -> [V, X | Y] end;
local_fun(3, V) -> W = {V, V}, fun(A, B, C) -> {W, A, B, C} end.

fun_target() -> ok.
fun_target(A, B) -> {A, B}.

%% NEW_FUN_EXT for a fun of module M that need not exist; OTP 25 accepts it
%% and prints #Fun<M.OldIndex.OldUniq>.
crafted_fun(M, OldIndex, OldUniq, Free) ->
    Pid = <<88, (atom_bytes(node()))/binary, 0:32, 0:32, 0:32>>,
    FreeBytes = << <<(strip131(term_to_binary(V)))/binary>> || V <- Free >>,
    Body = <<1, 0:128, 0:32, (length(Free)):32, (atom_bytes(M))/binary,
             (strip131(term_to_binary(OldIndex)))/binary,
             (strip131(term_to_binary(OldUniq)))/binary, Pid/binary, FreeBytes/binary>>,
    binary_to_term(<<131, 112, (byte_size(Body) + 4):32, Body/binary>>).

strip131(<<131, Rest/binary>>) -> Rest.

%%--------------------------------------------------------------------
%% Containers.
%%--------------------------------------------------------------------
container_len() ->
    weighted([{65, fun() -> between(0, 4) end},
              {31, fun() -> between(5, 10) end},
              {4, fun() -> between(11, 40) end}]).

gen_list(P, D) ->
    elements(P, D, container_len()).

%% Long containers hold leaves only, short ones may nest further.
elements(P, _D, N) when N > 10 -> [leaf(P) || _ <- lists:seq(1, N)];
elements(P, D, N) -> [term(P, D - 1) || _ <- lists:seq(1, N)].

%% Improper: at least one element and a non-list tail.
gen_improper(P, D) ->
    Tail = case leaf(P) of
               L when is_list(L) -> {L};
               T -> T
           end,
    lists:foldr(fun(E, Acc) -> [E | Acc] end, Tail,
                [term(P, D - 1) || _ <- lists:seq(1, between(1, 5))]).

gen_tuple(P, D) ->
    list_to_tuple(elements(P, D, container_len())).

%% LARGE_TUPLE_EXT: more than 255 elements, leaves only to bound the size.
gen_large_tuple(P) ->
    list_to_tuple([leaf_small(P) || _ <- lists:seq(1, between(256, 400))]).

%% Small maps (flatmaps, =< 32 keys) print in key order; large ones (> 32)
%% are HAMTs and print in internal hash order on OTP 25.
gen_map(P, D) ->
    N = weighted([{45, fun() -> between(0, 3) end},
                  {45, fun() -> between(4, 12) end},
                  {10, fun() -> between(13, 32) end}]),
    fill_map(P, D, N, #{}).

gen_large_map(P, D) ->
    N = weighted([{8, fun() -> between(33, 64) end}, {2, fun() -> between(65, 300) end}]),
    fill_map(P, min(D, 1), N, #{}).

%% Keep drawing keys until the map has exactly N (keys may collide).
fill_map(_, _, N, M) when map_size(M) >= N -> M;
fill_map(P, D, N, M) ->
    Value = case N > 12 of
                true -> leaf_small(P);      % wide maps: keep values small
                false -> term(P, D - 1)
            end,
    fill_map(P, D, N, M#{map_key(P) => Value}).

%% Keys of mixed types; 1 and 1.0 are different keys, and both appear.
map_key(P) ->
    weighted([{25, fun() -> between(-5, 100) end},
              {8, fun() -> float(between(-5, 100)) end},
              {5, fun() -> gen_float() end},
              {5, fun() -> gen_integer() end},
              {20, fun() -> gen_atom() end},
              {8, fun() -> list_to_tuple([leaf_small(P) || _ <- lists:seq(1, uniform(3))]) end},
              {8, fun() -> random_bytes(between(0, 6)) end},
              {8, fun() -> [leaf_small(P) || _ <- lists:seq(1, uniform(3) - 1)] end},
              {4, fun() -> fill_map(P, 1, between(0, 3), #{}) end},
              {3, fun() -> gen_bitstring() end},
              {3, fun() -> gen_pid(P) end},
              {2, fun() -> gen_ref(P) end}]).

%% Small leaves for wide containers (no big binaries/bignums/long strings).
leaf_small(P) ->
    weighted([{30, fun() -> between(-300, 300) end},
              {10, fun() -> random_sign(uniform(1 bsl 70)) end},
              {15, fun() -> gen_float() end},
              {25, fun() -> list_to_atom(chars_from("abcdefxyz_", between(1, 6))) end},
              {5, fun() -> pick(special_atoms()) end},
              {8, fun() -> random_bytes(between(0, 8)) end},
              {4, fun() -> [between(32, 126) || _ <- lists:seq(1, between(0, 6))] end},
              {3, fun() -> gen_pid(P) end}]).

%%====================================================================
%% Legacy set: bytes OTP 25's term_to_binary no longer writes
%%====================================================================

%% Each item is {Label, FullEtfBytes}; every item must decode on OTP 25.
legacy_items() ->
    Node = node(),
    Items = legacy_atoms() ++ legacy_floats() ++ legacy_identifiers(Node)
        ++ legacy_funs(Node) ++ legacy_integers() ++ legacy_strings()
        ++ legacy_containers() ++ legacy_compressed(),
    [{L, check_decodes(L, B)} || {L, B} <- Items].

check_decodes(Label, Bin) ->
    case catch binary_to_term(Bin) of
        {'EXIT', R} -> error({legacy_item_rejected, Label, R});
        _ -> Bin
    end.

e(Bytes) -> <<131, Bytes/binary>>.

%% ATOM_EXT (100, 16-bit length) and SMALL_ATOM_EXT (115) are Latin-1.
latin1_atom(Chars) -> <<100, (length(Chars)):16, (list_to_binary(Chars))/binary>>.
small_latin1_atom(Chars) -> <<115, (length(Chars)), (list_to_binary(Chars))/binary>>.

legacy_atoms() ->
    Samples = ["", "abc", "Abc", "and", "cond", "maybe", "_x", "x@y", "a b",
               "a\nb", "a'b", "a\\b", lists:seq(0, 31) ++ [127],
               lists:seq(128, 159), [215, 223, 247], [228, 98], lists:seq(160, 255),
               lists:duplicate(255, 200), lists:duplicate(255, $z)],
    [{"ATOM_EXT " ++ label_chars(S), e(latin1_atom(S))} || S <- Samples]
        ++ [{"SMALL_ATOM_EXT " ++ label_chars(S), e(small_latin1_atom(S))} || S <- Samples]
        ++ [{"ATOM_UTF8_EXT 118 short atom", e(<<118, 3:16, "abc">>)},
            {"ATOM_UTF8_EXT 118 unicode", e(<<118, 4:16, "a", 16#D0, 16#B6, "b">>)},
            {"SMALL_ATOM_UTF8_EXT 119 empty", e(<<119, 0>>)}].

label_chars(S) -> lists:flatten(io_lib:format("~w", [lists:sublist(S, 12)])).

%% FLOAT_EXT (99): 31 bytes, "%.20e" text padded with NULs. minor_version 0
%% still writes these; here also short text and values near the limits.
legacy_floats() ->
    Values = [0.0, -0.0, 0.1, 1.0, -1.5, 1.0e22, 5.0e-324, 2.2250738585072014e-308,
              1.7976931348623157e308, 123456789.125, 1.0e-5, 3.141592653589793],
    [{"FLOAT_EXT " ++ float_to_list(V, [short]), e(float_ext(float_to_list(V, [{scientific, 20}])))}
     || V <- Values]
        ++ [{"FLOAT_EXT short text 1.5", e(float_ext("1.5"))},
            {"FLOAT_EXT text 1.0e3", e(float_ext("1.0e3"))},
            {"FLOAT_EXT text -0.0", e(float_ext("-0.0"))}].

float_ext(Text) ->
    B = list_to_binary(Text),
    <<99, B/binary, 0:((31 - byte_size(B)) * 8)>>.

%% Local identifiers in old encodings: node() with creation 0, and numbers
%% within what OTP 25 accepts for the local node (pid 15+13 bits, port 28
%% bits, first ref word 18 bits).
legacy_identifiers(Node) ->
    A = latin1_atom(atom_to_list(Node)),
    SA = small_latin1_atom(atom_to_list(Node)),
    U = atom_bytes(Node),
    [{"PID_EXT 103 <0.5.1>", e(<<103, A/binary, 5:32, 1:32, 0>>)},
     {"PID_EXT 103 small atom node max numbers", e(<<103, SA/binary, 32767:32, 8191:32, 0>>)},
     {"NEW_PID_EXT 88 <0.77.2>", e(<<88, U/binary, 77:32, 2:32, 0:32>>)},
     {"NEW_PID_EXT 88 ATOM_EXT node", e(<<88, A/binary, 0:32, 0:32, 0:32>>)},
     {"PORT_EXT 102 #Port<0.9>", e(<<102, A/binary, 9:32, 0>>)},
     {"NEW_PORT_EXT 89 max id", e(<<89, U/binary, (1 bsl 28 - 1):32, 0:32>>)},
     {"V4_PORT_EXT 120 small id", e(<<120, U/binary, 9:64, 0:32>>)},
     {"V4_PORT_EXT 120 max local id", e(<<120, U/binary, (1 bsl 28 - 1):64, 0:32>>)},
     {"REFERENCE_EXT 101", e(<<101, A/binary, 7:32, 0>>)},
     {"REFERENCE_EXT 101 max id", e(<<101, A/binary, (1 bsl 18 - 1):32, 0>>)}]
    ++ [{"NEW_REFERENCE_EXT 114 ids=" ++ label_chars(Ids),
         e(<<114, (length(Ids)):16, A/binary, 0, (<< <<I:32>> || I <- Ids >>)/binary>>)}
        || Ids <- [[1], [1, 2], [3, 2, 1], [1 bsl 18 - 1, 1 bsl 32 - 1, 0]]]
    ++ [{"NEWER_REFERENCE_EXT 90 ids=" ++ label_chars(Ids),
         e(<<90, (length(Ids)):16, U/binary, 0:32, (<< <<I:32>> || I <- Ids >>)/binary>>)}
        || Ids <- [[1], [1, 2], [3, 2, 1], [262143, 4294967295, 4294967295]]].
%% NEWER_REFERENCE_EXT with 4 or 5 ids for the local node is rejected by
%% OTP 25 (badarg); those lengths are covered in the external set.

%% EXPORT_EXT (113) with SMALL_INTEGER and INTEGER arity; NEW_FUN_EXT (112)
%% built by hand.
legacy_funs(Node) ->
    Exp = fun(M, F, ArityBytes) ->
                  e(<<113, (atom_bytes(M))/binary, (atom_bytes(F))/binary, ArityBytes/binary>>)
          end,
    [{"EXPORT_EXT lists:map/2", Exp(lists, map, <<97, 2>>)},
     {"EXPORT_EXT INTEGER_EXT arity", Exp(lists, map, <<98, 2:32>>)},
     {"EXPORT_EXT ATOM_EXT names", e(<<113, (latin1_atom("a-b"))/binary,
                                       (latin1_atom([200]))/binary, 97, 255>>)},
     {"EXPORT_EXT erlang:'+'/2", Exp(erlang, '+', <<97, 2>>)}]
    ++ [{"NEW_FUN_EXT " ++ Label, e(new_fun_ext(Node, M, Arity, I, U, Free))}
        || {Label, M, Arity, I, U, Free} <-
               [{"zz no env", zz, 0, 7, 12345, []},
                {"etf_gen env", etf_gen, 1, 0, 1, [42, <<"x">>]},
                {"quoted module", 'a-b', 2, 3, 4294967295, [[]]},
                {"unicode module", list_to_atom([16#436]), 0, 1, 2, []}]].

new_fun_ext(Node, M, Arity, OldIndex, OldUniq, Free) ->
    FreeBytes = << <<(strip131(term_to_binary(V)))/binary>> || V <- Free >>,
    Body = <<Arity, (crypto_free_uniq())/binary, OldIndex:32, (length(Free)):32,
             (atom_bytes(M))/binary, 98, OldIndex:32, 98, OldUniq:32,
             88, (atom_bytes(Node))/binary, 0:32, 0:32, 0:32, FreeBytes/binary>>,
    <<112, (byte_size(Body) + 4):32, Body/binary>>.

%% 16 bytes of "MD5" for the fun; any value is accepted when decoding.
crypto_free_uniq() -> <<16#0123456789ABCDEF0123456789ABCDEF:128>>.

%% Integers in non-canonical encodings the decoder must still read.
legacy_integers() ->
    [{"SMALL_BIG_EXT 0 digits +", e(<<110, 0, 0>>)},
     {"SMALL_BIG_EXT 0 digits -", e(<<110, 0, 1>>)},
     {"LARGE_BIG_EXT 0 digits", e(<<111, 0:32, 0>>)},
     {"SMALL_BIG_EXT leading zero bytes = 5", e(<<110, 3, 0, 5, 0, 0>>)},
     {"SMALL_BIG_EXT fits small int -5", e(<<110, 1, 1, 5>>)},
     {"LARGE_BIG_EXT 1 byte", e(<<111, 1:32, 0, 200>>)},
     {"LARGE_BIG_EXT 300 bytes", e(<<111, 300:32, 1, (binary:copy(<<255>>, 300))/binary>>)},
     {"SMALL_BIG_EXT 2^64-1", e(<<110, 8, 0, (binary:copy(<<255>>, 8))/binary>>)},
     {"INTEGER_EXT small value 5", e(<<98, 5:32>>)},
     {"INTEGER_EXT -1", e(<<98, -1:32>>)}].

%% STRING_EXT (107) edge lengths; 65535 is the maximum.
legacy_strings() ->
    [{"STRING_EXT len " ++ integer_to_list(N), e(<<107, N:16, (random_bytes(N))/binary>>)}
     || N <- [0, 1, 2, 255, 256, 1000]]
        ++ [{"STRING_EXT len 65535", e(<<107, 65535:16, (binary:copy(<<"z">>, 65535))/binary>>)},
            {"LIST_EXT of small ints", e(<<108, 2:32, 97, 1, 97, 2, 106>>)},
            {"LIST_EXT with 0 elements", e(<<108, 0:32, 106>>)},
            {"LIST_EXT improper", e(<<108, 1:32, 97, 1, 97, 2>>)}].

legacy_containers() ->
    Unsorted = fun(Pairs) -> << <<(strip131(term_to_binary(K)))/binary,
                                  (strip131(term_to_binary(V)))/binary>> || {K, V} <- Pairs >> end,
    Big = [{K, K * 2} || K <- lists:reverse(lists:seq(1, 40))],
    [{"MAP_EXT unsorted keys", e(<<116, 3:32, (Unsorted([{c, 1}, {a, 2}, {b, 3}]))/binary>>)},
     {"MAP_EXT 1.0 before 1", e(<<116, 2:32, (Unsorted([{1.0, f}, {1, i}]))/binary>>)},
     {"MAP_EXT 40 keys descending", e(<<116, 40:32, (Unsorted(Big))/binary>>)},
     {"LARGE_TUPLE_EXT with 2 elements", e(<<105, 2:32, 97, 1, 97, 2>>)},
     {"BIT_BINARY_EXT junk in unused bits", e(<<77, 1:32, 3, 16#FF>>)},
     {"BIT_BINARY_EXT 8 bits", e(<<77, 1:32, 8, 5>>)},
     {"BIT_BINARY_EXT empty", e(<<77, 0:32, 0>>)}].

%% The whole term as COMPRESSED (80), even where that is larger, and zlib
%% level 0 (stored blocks).
legacy_compressed() ->
    Inner = strip131(term_to_binary({small, [1, 2, 3]})),
    Big = strip131(term_to_binary(lists:duplicate(100, hello))),
    [{"COMPRESSED tiny term", e(<<80, (byte_size(Inner)):32, (zlib:compress(Inner))/binary>>)},
     {"COMPRESSED zlib level 0", e(<<80, (byte_size(Big)):32, (zlib_level(Big, none))/binary>>)}].

zlib_level(Data, Level) ->
    Z = zlib:open(),
    ok = zlib:deflateInit(Z, Level),
    Out = zlib:deflate(Z, Data, finish),
    ok = zlib:deflateEnd(Z),
    zlib:close(Z),
    iolist_to_binary(Out).

%%====================================================================
%% External set: identifiers of other nodes
%%====================================================================

ext_nodes() ->
    ['foo@bar', 'x-1@host', 'a@b', 'node@127.0.0.1', 'Node@Host',
     'n_1@h.example.com', list_to_atom([16#436] ++ "@host"), 'flame@localhost'].

ext_creation() -> pick([0, 1, 2, 4294967295, uniform(1 bsl 32) - 1]).

ext_number() ->
    weighted([{6, fun() -> between(0, 1000) end},
              {2, fun() -> uniform(1 bsl 15) - 1 end},
              {2, fun() -> uniform(1 bsl 32) - 1 end},
              {1, fun() -> pick([0, 1 bsl 32 - 1]) end}]).

ext_pid(Node, N, S, Cre) ->
    binary_to_term(e(<<88, (atom_bytes(Node))/binary, N:32, S:32, Cre:32>>)).

%% Ids above 32 bits only fit V4_PORT_EXT.
ext_port(Node, Id, Cre) when Id < 1 bsl 32 ->
    binary_to_term(e(<<89, (atom_bytes(Node))/binary, Id:32, Cre:32>>));
ext_port(Node, Id, Cre) ->
    binary_to_term(e(<<120, (atom_bytes(Node))/binary, Id:64, Cre:32>>)).

ext_ref(Node, Cre, Ids) ->
    binary_to_term(e(<<90, (length(Ids)):16, (atom_bytes(Node))/binary, Cre:32,
                       (<< <<I:32>> || I <- Ids >>)/binary>>)).

random_ext_pid() -> ext_pid(pick(ext_nodes()), ext_number(), ext_number(), ext_creation()).
random_ext_port() ->
    Id = weighted([{6, fun ext_number/0}, {1, fun() -> uniform(1 bsl 64) - 1 end}]),
    ext_port(pick(ext_nodes()), Id, ext_creation()).
random_ext_ref() ->
    ext_ref(pick(ext_nodes()), ext_creation(), [ext_number() || _ <- lists:seq(1, between(1, 5))]).

external_items(Pools, Count) ->
    P = Pools#{external := true},
    Fixed = [ext_pid(N, 5, 0, 0) || N <- ext_nodes()]
        ++ [ext_pid('foo@bar', 5, 0, C) || C <- [1, 4294967295]]
        ++ [ext_port('foo@bar', 9, 0), ext_port('x-1@host', 1 bsl 40, 1)]
        ++ [ext_ref('foo@bar', 0, lists:seq(1, L)) || L <- lists:seq(1, 5)]
        ++ [[ext_pid('foo@bar', 1, 2, 0), self(), ext_port('a@b', 3, 0)],
            {ext_ref('x-1@host', 2, [1, 2, 3]), #{ext_pid('Node@Host', 0, 0, 1) => x}}],
    Encoded = [{"term_to_binary " ++ kind(T), term_to_binary(T)} || T <- Fixed],
    Old = [{"PID_EXT 103 foo@bar", e(<<103, (latin1_atom("foo@bar"))/binary, 5:32, 0:32, 0>>)},
           {"PORT_EXT 102 x-1@host", e(<<102, (latin1_atom("x-1@host"))/binary, 9:32, 1>>)},
           {"REFERENCE_EXT 101 foo@bar", e(<<101, (latin1_atom("foo@bar"))/binary, 7:32, 2>>)},
           {"NEW_REFERENCE_EXT 114 a@b", e(<<114, 3:16, (latin1_atom("a@b"))/binary, 3, 1:32, 2:32, 3:32>>)},
           {"NEW_PORT_EXT 89 foo@bar", e(<<89, (atom_bytes('foo@bar'))/binary, 9:32, 4294967295:32>>)},
           {"V4_PORT_EXT 120 foo@bar 2^64-1", e(<<120, (atom_bytes('foo@bar'))/binary, (1 bsl 64 - 1):64, 0:32>>)}],
    Random = [{"random nested", term_to_binary(random_external_term(P))}
              || _ <- lists:seq(1, max(1, Count div 4))],
    Items = Encoded ++ Old ++ Random,
    %% every item must round-trip and hold at least one foreign identifier
    [case count_external(binary_to_term(B)) > 0 of
         true -> ok;
         false -> error({no_external_identifier, L})
     end || {L, B} <- Items],
    Items.

kind(T) when is_pid(T) -> "pid";
kind(T) when is_port(T) -> "port";
kind(T) when is_reference(T) -> "ref";
kind(_) -> "nested".

%% Random nested term that surely holds a foreign identifier somewhere.
random_external_term(P) ->
    T = term(P, between(1, 3)),
    case count_external(T) of
        0 -> [T, pick([random_ext_pid(), random_ext_port(), random_ext_ref()])];
        _ -> T
    end.

is_identifier(X) -> is_pid(X) orelse is_port(X) orelse is_reference(X).

%% Printed foreign identifiers: fun environments are not printed, so funs
%% are not looked into.
external_ids(X) ->
    case is_identifier(X) of
        true -> case node(X) =:= node() of true -> []; false -> [X] end;
        false -> external_ids_in(X)
    end.
external_ids_in([H | Tl]) -> external_ids(H) ++ external_ids(Tl);
external_ids_in(T) when is_tuple(T) -> external_ids_in(tuple_to_list(T));
external_ids_in(M) when is_map(M) ->
    lists:append([external_ids(K) ++ external_ids(V) || {K, V} <- maps:to_list(M)]);
external_ids_in(_) -> [].

count_external(T) -> length(external_ids(T)).

%% Erlang's own ~w text, with each foreign channel number replaced by the
%% node atom as ~w prints it. The channel of each identifier is read from
%% formatting that identifier alone, never guessed.
expected_external(T) ->
    Ids = external_ids(T),
    Channels = lists:foldl(fun add_channel/2, #{}, Ids),
    Text = binary_to_list(expected(T)),
    {Out, Replaced} = replace_channels(Text, Channels, [], 0, none),
    case Replaced =:= length(Ids) of
        true -> list_to_binary(Out);
        false -> error({channel_replacement_mismatch, T, Replaced, length(Ids)})
    end.

add_channel(Id, Acc) ->
    Single = lists:flatten(io_lib:format("~w", [Id])),
    {match, [Ch]} = re:run(Single, "^(?:#Port|#Ref)?<([0-9]+)\\.", [{capture, all_but_first, list}]),
    NodeText = lists:flatten(io_lib:format("~w", [node(Id)])),
    case Acc of
        #{Ch := Other} when Other =/= NodeText -> error({channel_clash, Ch, Other, NodeText});
        _ -> Acc#{Ch => NodeText}
    end.

%% Scan ~w output: skip quoted atoms (the only place arbitrary text can
%% appear), skip "<<" (binaries), and rewrite "<Channel." where Channel is
%% one of the foreign channels of this term. Local ones print as "<0.".
replace_channels([], _, Acc, N, _) -> {lists:reverse(Acc), N};
replace_channels([$' | Rest], Chs, Acc, N, _) ->
    {Quoted, After} = take_quoted(Rest, [$']),
    replace_channels(After, Chs, lists:reverse(Quoted) ++ Acc, N, $');
replace_channels([$< | Rest], Chs, Acc, N, Prev) when Prev =/= $< ->
    {Digits, After} = lists:splitwith(fun(C) -> C >= $0 andalso C =< $9 end, Rest),
    case {Digits, After} of
        {[_ | _], [$. | _]} when is_map_key(Digits, Chs) ->
            NodeText = maps:get(Digits, Chs),
            replace_channels(After, Chs, lists:reverse([$< | NodeText]) ++ Acc, N + 1, $0);
        _ ->
            replace_channels(Rest, Chs, [$< | Acc], N, $<)
    end;
replace_channels([C | Rest], Chs, Acc, N, _) ->
    replace_channels(Rest, Chs, [C | Acc], N, C).

take_quoted([$\\, C | Rest], Acc) -> take_quoted(Rest, [C, $\\ | Acc]);
take_quoted([$' | Rest], Acc) -> {lists:reverse([$' | Acc]), Rest};
take_quoted([C | Rest], Acc) -> take_quoted(Rest, [C | Acc]).
