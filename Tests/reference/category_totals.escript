#!/usr/bin/env escript
%% -*- erlang -*-
%%! +A0 -noinput
%%
%% category_totals: an independent reference for the category levels,
%% metrics, deltas and weights of docs/categories.md. It reads dumps of
%% docs/dump-format.md with binary_to_term only and shares no code with the
%% Swift converter (the byte-source and term-reading part at the end is
%% copied from flame_prof_ref.escript, the project's other oracle; the
%% category and metric logic is written here from the docs).
%%
%% Usage:
%%   escript category_totals.escript [--category LEVEL]... [--weight W]
%%           [--metrics A,B,...] [--per-capture | --each] DUMP_OR_DIR...
%%
%%   LEVEL: status | registered_name | initial_call | proc_lib_initial_call
%%          | process_label | pid | node
%%          | bucket(METRIC[_delta],log2|log4|decimal|T1,T2,...)
%%   W:     samples (default) | METRIC | METRIC_delta
%%   METRIC: a sampled metric (reductions, message_queue_len, memory,
%%          total_heap_size, heap_size, stack_size, minor_gcs, any
%%          garbage_collection_info entry), NAME_bytes for a metric counted
%%          in words, or reductions_per_second.
%%
%% Output (stdout), one JSON object:
%%   {"samples": N, "left_out": L, "left_out_by": {"missing NAME": n, ...},
%%    "categories": [{"path": [...], "samples": N, "weight": W,
%%                    "unweighed": U,
%%                    "metrics": {"NAME": {"value": S, "delta": D}, ...}},
%%                   ...]}
%%   categories sorted by path. "metrics" sums, per category, the value and
%%   delta of every sampled metric (as the node reported it: words stay
%%   words) over the samples holding it, plus the metrics named by
%%   --metrics (derived ones included). "left_out" counts the samples
%%   lacking one of the --metrics names (what the perf text leaves out),
%%   "left_out_by" by the first one missing in --metrics order; each
%%   category's "perf": {"samples": N, "metrics": {...}} counts the samples
%%   kept and sums the --metrics over them (what the perf text holds).
%%   With --per-capture: {"captures": [{"capture": ID, ...the above...}]},
%%   in capture-id order; without it the totals of all captures are added.
%%   With --each, every DUMP_OR_DIR is a run of its own (one VM for many
%%   small inputs): {"inputs": [{"input": PATH, "captures": [...]}, ...]}.
%%   With --choice 'OPTIONS' (repeatable; OPTIONS are --category, --weight
%%   and --metrics, blank-separated) the inputs are read once and the
%%   output is {"choices": [OUTPUT, ...]}, one per --choice, in order.
%%
%% Decisions (docs/categories.md, docs/perf-output.md; where the docs are
%% silent, what this script does):
%%  * Every entry {Pid, List} of a samples term is a sample (Pid a pid, List
%%    a proper list); anything else ({Pid, undefined}, junk) is skipped, and
%%    so is an entry with an integer beyond 64 bits where a metric is read.
%%    Items are {Atom, Term}; other elements of the list are ignored.
%%  * Sampled metrics: reductions, message_queue_len, memory,
%%    total_heap_size (integer items), every garbage_collection_info entry
%%    with an integer value (heap_size and stack_size among them), minor_gcs
%%    from garbage_collection. The heap_size and stack_size items of
%%    process_info are not metrics (docs/categories.md): the entries of the
%%    same names are, as in flame_prof's perf text. Taken: ?NAME_CLASH.
%%  * Deltas per process (pid number and serial), per metric, within a
%%    capture across its files in seq order, against the last value that
%%    process reported for that metric. First: 1 for reductions, 0 else;
%%    reductions d+1 / -d; minor_gcs now-before when now > before, else now;
%%    others now-before.
%%  * NAME_bytes = NAME x word size (value and delta), word size from the
%%    header of the sample's file, else 8. reductions_per_second = the
%%    reductions gained (now - before) since the process's previous sample
%%    holding reductions, per second of tick time between the two, rounded
%%    to the nearest integer (?RATE_ROUNDING); absent on a process's first
%%    sample (and when no time passed). Its delta follows
%%    the rule for "others", against the previous rate.
%%  * Labels: atoms as atom_to_list text (UTF-8); M:F/A; node from the
%%    file's header, unknown_node without one (the docs do not say).
%%  * Weights: samples = 1; METRIC = its value, METRIC_delta = its delta, as
%%    the metric is (a metric in words weighs in words; NAME_bytes in
%%    bytes); a sample without the metric weighs 0 and is counted unweighed.
%%  * Buckets: of the value in bytes for a metric counted in words. Powers
%%    B^k..B^(k+1) (lower bound in); 0 is =0 and -1 is =-1; below that,
%%    -B^(k+1)..-B^k holds -B^(k+1) <= v < -B^k, half-open like every
%%    range (so -B^k itself is in the bucket above). A bucket holding one
%%    integer only reads =V. Thresholds: <T1, T(i)..T(i+1), >=Tn.
%%    Units: bytes per bound, with the largest binary prefix the value is a
%%    whole multiple of (4KiB..8KiB, 1000B..10000B); other units once after
%%    the range or value (10..100msg, =0msg, <0msg, 1..10red/s); counts none.

-mode(compile).

-define(CHUNK, 1048576).
-define(GZ_CHUNK, 262144).
-define(MAX_CONCAT_TERM, 1073741824).
%% process_info items read as metrics, in this order, before
%% garbage_collection_info's entries.
-define(INT_ITEMS, [reductions, message_queue_len, memory, total_heap_size]).
%% heap_size and stack_size come twice (process_info and
%% garbage_collection_info), which wins: gc_info | process_info.
-define(NAME_CLASH, gc_info).
%% to the nearest integer, halves away from zero (what flameconv does; the
%% docs do not say)
-define(RATE_ROUNDING, nearest).
-define(NOT_WORDS, ["reductions", "message_queue_len", "memory", "minor_gcs"]).

main(Args) ->
    case parse_args(Args, new_opts()) of
        {ok, #{paths := []}} -> usage(), halt(2);
        {ok, Opts = #{choices := []}} -> run(Opts, [choice(Opts)]);
        {ok, Opts = #{choices := Cs, levels := [], weight := samples, extra := []}} ->
            case parse_choices(Cs, []) of
                {ok, Choices} -> run(Opts, Choices);
                {error, Msg} -> warn("~ts", [Msg]), usage(), halt(2)
            end;
        {ok, _} -> warn("--choice replaces --category, --weight and --metrics", []), usage(), halt(2);
        help -> usage(), halt(0);
        {error, Msg} -> warn("~ts", [Msg]), usage(), halt(2)
    end.

new_opts() ->
    #{levels => [], weight => samples, extra => [], choices => [],
      per_capture => false, each => false, paths => []}.

%% The grouping options of one run; status when no level is given.
choice(#{levels := [], weight := W, extra := E}) -> #{levels => [status], weight => W, extra => E};
choice(#{levels := L, weight := W, extra := E}) -> #{levels => L, weight => W, extra => E}.

parse_choices([], Acc) -> {ok, lists:reverse(Acc)};
parse_choices([C | Cs], Acc) ->
    case parse_args(string:lexemes(C, " \t"), new_opts()) of
        {ok, O = #{paths := [], choices := []}} -> parse_choices(Cs, [choice(O) | Acc]);
        {ok, _} -> {error, "--choice " ++ C ++ ": only --category, --weight and --metrics"};
        {error, Why} -> {error, "--choice " ++ C ++ ": " ++ Why};
        help -> {error, "--choice " ++ C}
    end.

usage() ->
    io:format(standard_error,
              "usage: escript category_totals.escript [--category LEVEL]... [--weight W] "
              "[--metrics A,B,...] [--per-capture | --each] DUMP_OR_DIR...~n"
              "       escript category_totals.escript --choice 'OPTIONS' [--choice 'OPTIONS']... "
              "[--per-capture | --each] DUMP_OR_DIR...~n", []).

parse_args([], O = #{paths := P, levels := L}) ->
    {ok, O#{paths := lists:reverse(P), levels := lists:reverse(L)}};
parse_args(["--category", Spec | R], O = #{levels := L}) ->
    case parse_level(Spec) of
        {ok, Level} -> parse_args(R, O#{levels := [Level | L]});
        {error, Why} -> {error, "--category " ++ Spec ++ ": " ++ Why}
    end;
parse_args(["--weight", "samples" | R], O) -> parse_args(R, O#{weight := samples});
parse_args(["--weight", W | R], O) ->
    case parse_metric(W) of
        {ok, M} -> parse_args(R, O#{weight := M});
        {error, Why} -> {error, "--weight " ++ W ++ ": " ++ Why}
    end;
parse_args(["--metrics", Ms | R], O) ->
    Names = string:lexemes(Ms, ","),
    case [N || N <- Names, parse_metric(N) =/= {ok, {N, value}}] of
        [] -> parse_args(R, O#{extra := Names});
        Bad -> {error, "--metrics: unknown " ++ string:join(Bad, ", ")}
    end;
parse_args(["--per-capture" | R], O) -> parse_args(R, O#{per_capture := true});
parse_args(["--each" | R], O) -> parse_args(R, O#{each := true});
parse_args(["--choice", C | R], O = #{choices := Cs}) -> parse_args(R, O#{choices := Cs ++ [C]});
parse_args(["-h" | _], _) -> help;
parse_args(["--help" | _], _) -> help;
parse_args(["--" | R], O = #{paths := P}) -> parse_args([], O#{paths := lists:reverse(R, P)});
parse_args(["-" ++ _ = A | _], _) -> {error, "unknown option or missing value " ++ A};
parse_args([A | R], O = #{paths := P}) -> parse_args(R, O#{paths := [A | P]}).

warn(Fmt, Args) -> io:format(standard_error, "category_totals: " ++ Fmt ++ "~n", Args).

%%====================================================================
%% Levels, metrics, weights
%%====================================================================

parse_level(S) when S =:= "status"; S =:= "registered_name"; S =:= "initial_call";
                    S =:= "proc_lib_initial_call"; S =:= "process_label";
                    S =:= "pid"; S =:= "node" ->
    {ok, list_to_atom(S)};
parse_level("bucket(" ++ Rest) ->
    case lists:reverse(Rest) of
        ")" ++ RInner ->
            case string:split(lists:reverse(RInner), ",", all) of
                [Metric | ScaleArgs] when ScaleArgs =/= [] ->
                    case parse_metric(Metric) of
                        {ok, M} ->
                            case parse_scale(ScaleArgs) of
                                {ok, Scale} -> {ok, {bucket, Metric, M, Scale}};
                                Err -> Err
                            end;
                        Err -> Err
                    end;
                _ -> {error, "bucket(METRIC,SCALE) wanted"}
            end;
        _ -> {error, "no closing parenthesis"}
    end;
parse_level(_) -> {error, "unknown level"}.

parse_scale(["log2"]) -> {ok, {power, 2}};
parse_scale(["log4"]) -> {ok, {power, 4}};
parse_scale(["decimal"]) -> {ok, {power, 10}};
parse_scale(Ts) ->
    try [list_to_integer(string:trim(T)) || T <- Ts] of
        Ints ->
            case lists:usort(Ints) =:= Ints of
                true -> {ok, {thresholds, Ints}};
                false -> {error, "thresholds must increase"}
            end
    catch error:badarg -> {error, "unknown scale"}
    end.

%% A metric reference: {Name, value | delta}. Names are checked only for
%% shape here (any garbage_collection_info entry may exist).
parse_metric(Text) ->
    {Name, Which} = case lists:suffix("_delta", Text) of
                        true -> {lists:sublist(Text, length(Text) - 6), delta};
                        false -> {Text, value}
                    end,
    case Name of
        "" -> {error, "empty metric name"};
        "samples" -> {error, "samples is not a metric"};
        _ -> {ok, {Name, Which}}
    end.

is_words(Name) -> not lists:member(Name, ?NOT_WORDS).

%% The unit of a metric, for labels: bytes | Text.
unit("reductions") -> "red";
unit("message_queue_len") -> "msg";
unit("minor_gcs") -> "";
unit("reductions_per_second") -> "red/s";
unit(_) -> bytes.   % memory, NAME_bytes, and every metric counted in words

%%====================================================================
%% Driver
%%====================================================================

%% Every input is read once, each sample counted for every choice.
run(Opts = #{paths := Paths, each := Each}, Choices) ->
    Groups = case Each of
                 true -> [[P] || P <- Paths];
                 false -> [Paths]
             end,
    Runs = [{G, read_input(G, Choices)} || G <- Groups],
    Objects = [object(Opts, [{G, Hs, [{Id, lists:nth(I, Rs)} || {Id, Rs} <- Results]}
                             || {G, {Hs, Results}} <- Runs])
               || I <- lists:seq(1, length(Choices))],
    Json = case Opts of
               #{choices := []} -> [Objects, "\n"];
               _ -> ["{\"choices\": [", lists:join(", ", Objects), "]}\n"]
           end,
    io:put_chars(standard_io, utf8(Json)),
    halt(case [ok || {_, {[_ | _], _}} <- Runs] of [] -> 1; _ -> 0 end).

%% The JSON object of one choice: Runs = [{Paths, Headers, [{Id, Result}]}]
object(#{each := true}, Runs) ->
    ["{\"inputs\": [",
     lists:join(", ", [["{\"input\": ", json_str(P), ", ", per_capture_json(Results), "}"]
                       || {[P], _, Results} <- Runs]),
     "]}"];
object(#{per_capture := true}, [{_, _, Results}]) ->
    ["{", per_capture_json(Results), "}"];
object(_, [{_, _, Results}]) ->
    Sum = lists:foldl(fun({_, R}, Acc) -> add_results(R, Acc) end, empty_result(), Results),
    ["{", totals_json(Sum), "}"].

%% -> {Headers, [{CaptureId, [Result per choice]}]}
read_input(Paths, Choices) ->
    Files = lists:append([expand(P) || P <- Paths]),
    Headers = lists:filtermap(fun read_header/1, Files),
    Captures = group_captures(Headers),
    {Headers, [{Id, capture_totals(Fs, Choices)} || {Id, Fs} <- Captures]}.

per_capture_json(Results) ->
    ["\"captures\": [",
     lists:join(", ", [["{\"capture\": ", json_str(Id), ", ", totals_json(R), "}"]
                       || {Id, R} <- Results]),
     "]"].

expand(Path) ->
    case filelib:is_dir(Path) of
        true ->
            {ok, Names} = file:list_dir(Path),
            lists:append([expand(filename:join(Path, N))
                          || N <- lists:sort(Names), hd(N) =/= $.]);
        false ->
            case filelib:is_regular(Path) of
                true -> [Path];
                false -> warn("~ts: no such file", [Path]), []
            end
    end.

%% Reads only the first term of a file, to place it in its capture.
read_header(Path) ->
    case src_open(Path) of
        {ok, Src} ->
            R = next_term(Src),
            src_close(element(2, R)),
            case R of
                {{term, {flame_dump, 1, Meta}, _Off}, _} when is_map(Meta) ->
                    case header_fields(Meta) of
                        {ok, H} -> {true, own_capture(H#{path => Path})};
                        {error, Why} ->
                            warn("~ts: header lacks ~s; file skipped", [Path, Why]), false
                    end;
                {{term, _, _}, _} ->
                    %% README.md and friends in a folder: not dumps
                    false;
                {eof, _} -> false;
                {{bad, _, _}, _} -> false
            end;
        {error, Why} ->
            warn("~ts: ~s; file skipped", [Path, Why]), false
    end.

%% A key of the wrong type counts as absent (docs/dump-format.md); an atom
%% is taken where a binary is listed and the other way round.
header_fields(Meta) ->
    Need = [{started_at, fun is_integer/1}, {monotonic_start, fun is_integer/1}],
    case [K || {K, F} <- Need, not F(maps:get(K, Meta, undefined))] of
        [] ->
            H0 = maps:with([started_at, monotonic_start], Meta),
            H1 = case maps:get(capture, Meta, undefined) of
                     C when is_binary(C) -> H0#{capture => C};
                     C when is_atom(C), C =/= undefined -> H0#{capture => atom_to_binary(C, utf8)};
                     _ -> H0
                 end,
            H2 = case maps:get(seq, Meta, undefined) of
                     Q when is_integer(Q) -> H1#{seq => Q};
                     _ -> H1#{seq => 0}
                 end,
            H3 = case maps:get(node, Meta, undefined) of
                     N when is_atom(N), N =/= undefined -> H2#{node => atom_to_list(N)};
                     N when is_binary(N) -> H2#{node => unicode:characters_to_list(N)};
                     _ -> H2
                 end,
            H4 = case maps:get(word_size, Meta, undefined) of
                     W when is_integer(W), W > 0 -> H3#{word_size => W};
                     _ -> H3#{word_size => 8}
                 end,
            {ok, H4};
        Missing -> {error, string:join([atom_to_list(K) || K <- Missing], ", ")}
    end.

own_capture(H = #{capture := _}) -> H;
own_capture(H = #{path := P}) ->
    H#{capture => unicode:characters_to_binary(["file:", P])}.

%% Files grouped by capture id, in seq order (ties: path order); of two
%% files with one seq the first in path order is read, the other skipped.
group_captures(Headers) ->
    Ids = lists:usort([C || #{capture := C} <- Headers]),
    [begin
         Fs = [H || H = #{capture := C} <- Headers, C =:= Id],
         Sorted = lists:sort(fun(#{seq := A, path := PA}, #{seq := B, path := PB}) ->
                                     {A, PA} =< {B, PB}
                             end, Fs),
         {Id, dedup_seq(Sorted, none)}
     end || Id <- Ids].

dedup_seq([#{seq := S, path := P} | R], S) ->
    warn("~ts: seq ~B again in its capture; skipped", [P, S]),
    dedup_seq(R, S);
dedup_seq([F = #{seq := S} | R], _) -> [F | dedup_seq(R, S)];
dedup_seq([], _) -> [].

%%====================================================================
%% One capture: its ticks in order, deltas inside
%%====================================================================

empty_result() -> #{tot => #{}, samples => 0, left_out => #{}}.

%% Opts: the choices; R: a result per choice.
capture_totals(Files, Opts) ->
    {_, Res} = lists:foldl(fun(F, {D, R}) -> file_totals(F, Opts, D, R) end,
                           {#{}, [empty_result() || _ <- Opts]}, Files),
    Res.

file_totals(F = #{path := Path}, Opts, D, R) ->
    case src_open(Path) of
        {ok, Src} ->
            {_Header, Src1} = next_term(Src),
            terms(Src1, F, Opts, D, R);
        {error, Why} ->
            warn("~ts: ~s; file skipped", [Path, Why]),
            {D, R}
    end.

terms(Src, F = #{path := Path}, Opts, D, R) ->
    case next_term(Src) of
        {eof, Src1} -> src_close(Src1), {D, R};
        {{bad, Off, Why}, Src1} ->
            src_close(Src1),
            warn("~ts: ~s at byte ~B; used what came before", [Path, Why, Off]),
            {D, R};
        {{term, {samples, Ts, List}, _}, Src1} when is_integer(Ts) ->
            #{started_at := SA, monotonic_start := MS} = F,
            {D1, R1} = tick(List, SA + (Ts - MS), F, Opts, D, R),
            terms(Src1, F, Opts, D1, R1);
        {{term, _, _}, Src1} ->
            terms(Src1, F, Opts, D, R)
    end.

tick([{Pid, Items} | Rest], Wall, F, Opts, D, R) when is_pid(Pid) ->
    case is_proper(Items) andalso not has_bignum_metric(Items) of
        true ->
            {D1, R1} = sample(Pid, Items, Wall, F, Opts, D, R),
            tick(Rest, Wall, F, Opts, D1, R1);
        false ->
            tick(Rest, Wall, F, Opts, D, R)
    end;
tick([_ | Rest], Wall, F, Opts, D, R) -> tick(Rest, Wall, F, Opts, D, R);
tick(_, _Wall, _F, _Opts, D, R) -> {D, R}.   % [] or an improper tail

is_proper([_ | T]) -> is_proper(T);
is_proper([]) -> true;
is_proper(_) -> false.

item(K, Items) ->
    case [V || {K1, V} <- Items, K1 =:= K] of
        [V | _] -> V;
        [] -> absent
    end.

is_int64(V) -> is_integer(V) andalso V >= -(1 bsl 63) andalso V < (1 bsl 63).

%% An integer too large for 64 bits where a metric is read makes the
%% entry malformed (docs/dump-format.md): it is skipped like junk.
has_bignum_metric(Items) ->
    Big = fun(V) -> is_integer(V) andalso not is_int64(V) end,
    lists:any(Big, [item(K, Items) || K <- ?INT_ITEMS])
        orelse case item(garbage_collection_info, Items) of
                   L when is_list(L) -> lists:any(fun({_, V}) -> Big(V); (_) -> false end, L);
                   _ -> false
               end
        orelse case item(garbage_collection, Items) of
                   G when is_list(G) -> lists:any(fun({minor_gcs, V}) -> Big(V); (_) -> false end, G);
                   _ -> false
               end.

%% The sampled metrics of one sample, [{NameText, Value}] without repeats.
raw_metrics(Items) ->
    Ints = [{atom_to_list(K), V} || K <- ?INT_ITEMS, V <- [item(K, Items)], is_int64(V)],
    Gc = case item(garbage_collection_info, Items) of
             L when is_list(L) -> [{atom_to_list(K), V} || {K, V} <- L, is_atom(K), is_int64(V)];
             _ -> []
         end,
    Minor = case item(garbage_collection, Items) of
                G when is_list(G) ->
                    case [V || {minor_gcs, V} <- G, is_int64(V)] of
                        [V | _] -> [{"minor_gcs", V}];
                        [] -> []
                    end;
                _ -> []
            end,
    first_of_each(case ?NAME_CLASH of
                      gc_info -> Gc ++ Ints ++ Minor;
                      process_info -> Ints ++ Gc ++ Minor
                  end, []).

first_of_each([{K, V} | R], Seen) ->
    case lists:member(K, Seen) of
        true -> first_of_each(R, Seen);
        false -> [{K, V} | first_of_each(R, [K | Seen])]
    end;
first_of_each([], _) -> [].

pid_key(Pid) ->
    case term_to_binary(Pid) of
        <<131, 88, _/binary>> = B ->
            Skip = byte_size(B) - 12,
            <<_:Skip/binary, Id:32, Serial:32, _:32>> = B,
            {Id, Serial};
        <<131, 103, _/binary>> = B ->
            Skip = byte_size(B) - 9,
            <<_:Skip/binary, Id:32, Serial:32, _:8>> = B,
            {Id, Serial}
    end.

delta("reductions", _V, error) -> 1;
delta(_K, _V, error) -> 0;
delta("reductions", V, {ok, B}) when V - B >= 0 -> V - B + 1;
delta("reductions", V, {ok, B}) -> B - V;
delta("minor_gcs", V, {ok, B}) when V > B -> V - B;
delta("minor_gcs", V, {ok, _}) -> V;
delta(_, V, {ok, B}) -> V - B.

rate(Gained, Micros) ->
    case ?RATE_ROUNDING of
        trunc -> (Gained * 1000000) div Micros;
        nearest -> nearest_div(Gained * 1000000, Micros)
    end.

%% integer A / B (B > 0) to the nearest, halves away from zero
nearest_div(A, B) when A >= 0 -> (2 * A + B) div (2 * B);
nearest_div(A, B) -> -nearest_div(-A, B).

%% D: #{PidKey => #{last => #{Name => V}, red_at => {Red, Wall}, rate => R}}
sample(Pid, Items, Wall, F = #{word_size := WS}, Opts, D, R) ->
    Key = pid_key(Pid),
    P0 = maps:get(Key, D, #{last => #{}}),
    Last0 = maps:get(last, P0),
    Raw = raw_metrics(Items),
    WithDelta = [{K, {V, delta(K, V, maps:find(K, Last0))}} || {K, V} <- Raw],
    Last1 = maps:merge(Last0, maps:from_list(Raw)),
    {Rate, P1} =
        case lists:keyfind("reductions", 1, Raw) of
            {_, Red} ->
                PR = P0#{red_at => {Red, Wall}},
                case P0 of
                    #{red_at := {Red0, W0}} when Wall > W0 ->
                        RV = rate(Red - Red0, Wall - W0),
                        RD = case P0 of
                                 #{rate := R0} -> RV - R0;
                                 _ -> 0
                             end,
                        {{RV, RD}, PR#{rate => RV}};
                    _ -> {absent, PR}
                end;
            false -> {absent, P0}
        end,
    D1 = D#{Key => P1#{last := Last1}},
    S = #{raw => maps:from_list(WithDelta), rate => Rate, ws => WS, items => Items,
          pid => Key, file => F},
    {D1, [count(S, O, Rr) || {O, Rr} <- lists:zip(Opts, R)]}.

%% {Value, Delta} of a metric name in a sample, or absent.
metric(Name, S = #{raw := Raw, ws := WS}) ->
    case maps:find(Name, Raw) of
        {ok, VD} -> VD;
        error ->
            case Name of
                "reductions_per_second" -> maps:get(rate, S);
                _ ->
                    case lists:suffix("_bytes", Name) of
                        true ->
                            Base = lists:sublist(Name, length(Name) - 6),
                            case is_words(Base) andalso maps:find(Base, Raw) of
                                {ok, {V, Dl}} -> {V * WS, Dl * WS};
                                _ -> absent
                            end;
                        false -> absent
                    end
            end
    end.

pick({V, _}, value) -> V;
pick({_, D}, delta) -> D.

count(S = #{raw := Raw}, #{levels := Levels, weight := Weight, extra := Extra},
      R = #{tot := Tot, samples := N, left_out := LO}) ->
    Path = [label(L, S) || L <- Levels],
    {W, Unweighed} = case Weight of
                         samples -> {1, 0};
                         {Name, Which} ->
                             case metric(Name, S) of
                                 absent -> {0, 1};
                                 VD -> {pick(VD, Which), 0}
                             end
                     end,
    Sums = maps:merge(Raw, maps:from_list([{E, VD} || E <- Extra, VD <- [metric(E, S)], VD =/= absent])),
    C0 = maps:get(Path, Tot, #{samples => 0, weight => 0, unweighed => 0, metrics => #{},
                               perf => {0, #{}}}),
    #{samples := CS, weight := CW, unweighed := CU, metrics := CM, perf := {PS, PM}} = C0,
    C1 = C0#{samples := CS + 1, weight := CW + W, unweighed := CU + Unweighed,
             metrics := add_sums(Sums, CM)},
    {LO1, C2} = case [E || E <- Extra, metric(E, S) =:= absent] of
                    [] ->
                        PerfSums = maps:from_list([{E, metric(E, S)} || E <- Extra]),
                        {LO, C1#{perf := {PS + 1, add_sums(PerfSums, PM)}}};
                    [Missing | _] ->
                        {maps:update_with(Missing, fun(X) -> X + 1 end, 1, LO), C1}
                end,
    R#{tot := Tot#{Path => C2}, samples := N + 1, left_out := LO1}.

add_sums(Add, Sums) ->
    maps:fold(fun(K, {V, Dl}, M) ->
                      {SV, SD} = maps:get(K, M, {0, 0}),
                      M#{K => {SV + V, SD + Dl}}
              end, Sums, Add).

add_results(#{tot := T1, samples := N1, left_out := L1}, #{tot := T2, samples := N2, left_out := L2}) ->
    Tot = maps:fold(fun(P, C, Acc) ->
                            case Acc of
                                #{P := C2} ->
                                    #{perf := {PS1, PM1}} = C,
                                    #{perf := {PS2, PM2}} = C2,
                                    Acc#{P := #{samples => maps:get(samples, C) + maps:get(samples, C2),
                                                weight => maps:get(weight, C) + maps:get(weight, C2),
                                                unweighed => maps:get(unweighed, C) + maps:get(unweighed, C2),
                                                metrics => add_sums(maps:get(metrics, C), maps:get(metrics, C2)),
                                                perf => {PS1 + PS2, add_sums(PM1, PM2)}}};
                                _ -> Acc#{P => C}
                            end
                    end, T2, T1),
    LO = maps:fold(fun(K, V, Acc) -> maps:update_with(K, fun(X) -> X + V end, V, Acc) end, L2, L1),
    #{tot => Tot, samples => N1 + N2, left_out => LO}.

%%====================================================================
%% Labels
%%====================================================================

label(status, #{items := Items}) ->
    case item(status, Items) of
        A when is_atom(A), A =/= absent -> atom_to_list(A);
        _ -> "unknown"
    end;
label(registered_name, #{items := Items}) ->
    case item(registered_name, Items) of
        A when is_atom(A), A =/= absent -> atom_to_list(A);
        _ ->
            case proc_lib_initial_call(Items) of
                none -> "unregistered";
                Text -> Text
            end
    end;
label(initial_call, #{items := Items}) ->
    case mfa(item(initial_call, Items)) of
        none -> "unknown";
        Text -> Text
    end;
label(proc_lib_initial_call, #{items := Items}) ->
    case proc_lib_initial_call(Items) of
        none -> "unknown";
        Text -> Text
    end;
label(process_label, #{items := Items}) ->
    case dict_get('$process_label', Items) of
        none -> "unlabelled";
        {ok, A} when is_atom(A) -> atom_to_list(A);
        {ok, B} when is_binary(B) ->
            case unicode:characters_to_list(B, utf8) of
                L when is_list(L) -> L;
                _ -> io_lib:format("~w", [B])
            end;
        {ok, T} -> io_lib:format("~w", [T])
    end;
label(pid, #{pid := {Id, Serial}}) ->
    "<0." ++ integer_to_list(Id) ++ "." ++ integer_to_list(Serial) ++ ">";
label(node, #{file := F}) ->
    maps:get(node, F, "unknown_node");
label({bucket, Text, {Name, Which}, Scale}, S = #{ws := WS}) ->
    %% in bytes when counted in words (NAME_bytes already is)
    Words = is_words(Name) andalso Name =/= "reductions_per_second"
        andalso not lists:suffix("_bytes", Name),
    Unit = unit(Name),
    case metric(Name, S) of
        absent -> Text ++ ":absent";
        VD ->
            V0 = pick(VD, Which),
            V = case Words of true -> V0 * WS; false -> V0 end,
            Text ++ ":" ++ bucket_text(V, Scale, Unit)
    end.

dict_get(Key, Items) ->
    case item(dictionary, Items) of
        L when is_list(L) ->
            case [V || {K, V} <- L, K =:= Key] of
                [V | _] -> {ok, V};
                [] -> none
            end;
        _ -> none
    end.

proc_lib_initial_call(Items) ->
    case dict_get('$initial_call', Items) of
        {ok, T} ->
            case mfa(T) of
                none -> mfa(item(initial_call, Items));
                Text -> Text
            end;
        none -> mfa(item(initial_call, Items))
    end.

mfa({M, F, A}) when is_atom(M), is_atom(F), is_integer(A) ->
    atom_to_list(M) ++ ":" ++ atom_to_list(F) ++ "/" ++ integer_to_list(A);
mfa(_) -> none.

bucket_text(0, {power, _}, Unit) -> single(0, Unit);
bucket_text(V, {power, B}, Unit) when V > 0 ->
    {Lo, Hi} = power_bounds(V, B, 1),
    case Hi - Lo of
        1 -> single(Lo, Unit);
        _ -> range(Lo, Hi, Unit)
    end;
bucket_text(-1, {power, _}, Unit) -> single(-1, Unit);
bucket_text(V, {power, B}, Unit) ->
    %% Below -1, half-open like every range: M = -V - 1 in [Lo, Hi) puts V
    %% in [-Hi, -Lo).
    {Lo, Hi} = power_bounds(-V - 1, B, 1),
    case Hi - Lo of
        1 -> single(-Hi, Unit);
        _ -> range(-Hi, -Lo, Unit)
    end;
bucket_text(V, {thresholds, [T1 | _]}, Unit) when V < T1 -> "<" ++ num(T1, Unit) ++ tail_unit(Unit);
bucket_text(V, {thresholds, Ts}, Unit) ->
    case lists:last(Ts) of
        Tn when V >= Tn -> ">=" ++ num(Tn, Unit) ++ tail_unit(Unit);
        _ ->
            {Lo, Hi} = between(V, Ts),
            case Hi - Lo of
                1 -> single(Lo, Unit);
                _ -> range(Lo, Hi, Unit)
            end
    end.

between(V, [A, B | _]) when V >= A, V < B -> {A, B};
between(V, [_ | R]) -> between(V, R).

%% Lo = B^k =< V < B^(k+1) = Hi
power_bounds(V, B, Lo) when V < Lo * B -> {Lo, Lo * B};
power_bounds(V, B, Lo) -> power_bounds(V, B, Lo * B).

single(V, Unit) -> "=" ++ num(V, Unit) ++ tail_unit(Unit).
range(Lo, Hi, Unit) -> num(Lo, Unit) ++ ".." ++ num(Hi, Unit) ++ tail_unit(Unit).

tail_unit(bytes) -> "";
tail_unit(U) -> U.

num(V, bytes) -> bytes_text(V);
num(V, _) -> integer_to_list(V).

bytes_text(0) -> "0B";
bytes_text(V) when V < 0 -> "-" ++ bytes_text(-V);
bytes_text(V) ->
    Prefixes = [{8, "Yi"}, {7, "Zi"}, {6, "Ei"}, {5, "Pi"}, {4, "Ti"}, {3, "Gi"}, {2, "Mi"}, {1, "Ki"}],
    case [{P, V div pow(1024, K)} || {K, P} <- Prefixes, V rem pow(1024, K) =:= 0] of
        [{P, N} | _] -> integer_to_list(N) ++ P ++ "B";
        [] -> integer_to_list(V) ++ "B"
    end.

pow(_, 0) -> 1;
pow(B, K) -> B * pow(B, K - 1).

%%====================================================================
%% JSON
%%====================================================================

totals_json(#{tot := Tot, samples := N, left_out := LO}) ->
    Cats = [["{\"path\": [", lists:join(", ", [json_str(L) || L <- Path]), "], ",
             "\"samples\": ", integer_to_list(CS), ", \"weight\": ", integer_to_list(CW),
             ", \"unweighed\": ", integer_to_list(CU), ", \"metrics\": ", sums_json(CM),
             ", \"perf\": {\"samples\": ", integer_to_list(PS), ", \"metrics\": ", sums_json(PM), "}}"]
            || {Path, #{samples := CS, weight := CW, unweighed := CU, metrics := CM, perf := {PS, PM}}}
                   <- lists:sort([{[utf8(L) || L <- P], C} || {P, C} <- maps:to_list(Tot)])],
    ["\"samples\": ", integer_to_list(N),
     ", \"left_out\": ", integer_to_list(lists:sum(maps:values(LO))),
     ", \"left_out_by\": {",
     lists:join(", ", [[json_str("missing " ++ K), ": ", integer_to_list(V)]
                       || {K, V} <- lists:sort(maps:to_list(LO))]),
     "}, \"categories\": [", lists:join(", ", Cats), "]"].

sums_json(M) ->
    ["{", lists:join(", ", [[json_str(K), ": {\"value\": ", integer_to_list(V),
                             ", \"delta\": ", integer_to_list(D), "}"]
                            || {K, {V, D}} <- lists:sort(maps:to_list(M))]), "}"].

utf8(Chars) ->
    case unicode:characters_to_binary(Chars) of
        B when is_binary(B) -> B;
        _ -> unicode:characters_to_binary(io_lib:format("~tw", [Chars]))
    end.

json_str(B) when is_binary(B) -> json_str(unicode:characters_to_list(B));
json_str(S) ->
    [$", [esc(C) || C <- lists:flatten(S)], $"].

esc($") -> "\\\"";
esc($\\) -> "\\\\";
esc(C) when C < 32 -> io_lib:format("\\u~4.16.0B", [C]);
esc(C) -> C.

%% The rest is copied from flame_prof_ref.escript (reading only), with
%% zstd files decompressed by the zstd command.

%%====================================================================
%% Byte sources: raw or gzip, streamed in chunks
%%====================================================================

%% Src = #{fd, path, kind => raw | gzip, buf, off (offset of buf's first
%%         byte in the decompressed stream), eof, framing, and for gzip: z,
%%         pending (compressed bytes not yet fed), prev (last bytes fed of
%%         the current member), crc/isize (of the member's output so far),
%%         open (inside a member), done}
src_open(Path) ->
    case file:open(Path, [read, raw, binary, {read_ahead, ?CHUNK}]) of
        {ok, Fd} ->
            case file:read(Fd, 4) of
                {ok, <<16#1F, 16#8B, _/binary>> = B} ->
                    Z = zlib:open(),
                    ok = zlib:inflateInit(Z, 31),
                    Src = #{fd => Fd, path => Path, kind => gzip, z => Z, buf => <<>>,
                            off => 0, eof => false, pending => B, prev => <<>>,
                            crc => erlang:crc32(<<>>), isize => 0, open => false,
                            done => false},
                    sniff(Src);
                {ok, <<Magic:32/little>>} when Magic =:= 16#FD2FB528;
                                                Magic band 16#FFFFFFF0 =:= 16#184D2A50 ->
                    case zstd_decompress(Path) of
                        {ok, Data} ->
                            sniff(#{fd => Fd, path => Path, kind => raw, buf => Data, off => 0,
                                    eof => true});
                        {error, Why} ->
                            file:close(Fd),
                            {error, Why}
                    end;
                {ok, B} ->
                    sniff(#{fd => Fd, path => Path, kind => raw, buf => B, off => 0,
                            eof => false});
                eof ->
                    file:close(Fd),
                    {error, "empty file"};
                {error, R} ->
                    file:close(Fd),
                    {error, io_lib:format("cannot read: ~p", [R])}
            end;
        {error, R} ->
            {error, io_lib:format("cannot open: ~p", [R])}
    end.

%% The whole decompressed stream, from the zstd command (OTP 25 has no
%% zstd module); what it inflated before an error is still used.
zstd_decompress(Path) ->
    case os:find_executable("zstd") of
        false -> {error, "zstd-compressed, and no zstd command to decompress it"};
        Exe ->
            Port = open_port({spawn_executable, Exe},
                             [{args, ["-dcq", "--", Path]}, binary, exit_status, stream, in]),
            collect(Port, [])
    end.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [Acc | D]);
        {Port, {exit_status, 0}} -> {ok, iolist_to_binary(Acc)};
        {Port, {exit_status, N}} ->
            warn("zstd exited with status ~B; using what it inflated", [N]),
            {ok, iolist_to_binary(Acc)}
    end.

bump(_) -> ok.

sniff(Src) ->
    Src1 = fill(Src, 1),
    case Src1 of
        #{buf := <<131, _/binary>>} -> {ok, Src1#{framing => concat}};
        _ -> {ok, Src1#{framing => framed}}
    end.

src_close(#{fd := Fd} = S) ->
    file:close(Fd),
    case S of
        #{z := Z} -> catch zlib:close(Z);
        _ -> ok
    end,
    ok.

-compile({nowarn_unused_function, [src_where/1]}).
src_where(#{kind := gzip}) -> " of the decompressed stream";
src_where(_) -> "".

%% Ensure at least N bytes in buf, or eof.
fill(S = #{buf := B}, N) when byte_size(B) >= N -> S;
fill(S = #{eof := true}, _N) -> S;
fill(S = #{kind := raw, fd := Fd, buf := B}, N) ->
    Want = min(max(?CHUNK, N - byte_size(B)), 16 * ?CHUNK),
    case file:read(Fd, Want) of
        {ok, More} -> fill(S#{buf := <<B/binary, More/binary>>}, N);
        eof -> S#{eof := true};
        {error, R} -> warn("~ts: read error ~p", [maps:get(path, S), R]), S#{eof := true}
    end;
fill(S = #{kind := gzip, buf := B}, N) ->
    case gz_more(S) of
        {eof, S1} -> S1#{eof := true};
        {More, S1} -> fill(S1#{buf := <<B/binary, More/binary>>}, N)
    end.

gz_read(Fd) ->
    case file:read(Fd, ?GZ_CHUNK) of
        {ok, D} -> D;
        _ -> eof
    end.

%% Next piece of decompressed data. zlib:safeInflate says `finished` when
%% the input given is used up, and at the end of a gzip member it silently
%% drops the rest of its input. So the end of a member is recognised by its
%% trailer (CRC32 and size of what the member produced) in the compressed
%% bytes just fed, and inflation restarts after it with a reset stream:
%% concatenated members (what appending produces) read as one stream.
gz_more(S = #{done := true}) -> {eof, S};
gz_more(S = #{fd := Fd, pending := P, open := Open, path := Path}) ->
    In = case P of <<>> -> gz_read(Fd); _ -> P end,
    case In of
        eof when Open ->
            warn("~ts: gzip stream ends inside a member (truncated)", [Path]),
            bump(gzip_truncated),
            {eof, S#{done := true}};
        eof ->
            {eof, S#{done := true}};
        <<16#1F, 16#8B, _/binary>> -> gz_feed(S, In);
        _ when Open -> gz_feed(S, In);
        <<16#1F>> ->
            %% a next member's magic split by the read
            case gz_read(Fd) of
                eof -> gz_garbage(S, In);
                More -> gz_more(S#{pending := <<In/binary, More/binary>>})
            end;
        _ -> gz_garbage(S, In)
    end.

gz_garbage(S = #{path := Path}, In) ->
    case is_zeros(In) of
        true -> ok;
        false -> warn("~ts: bytes after the last gzip member are not gzip; ignored", [Path]),
                 bump(gzip_trailing_garbage)
    end,
    {eof, S#{done := true, pending := <<>>}}.

gz_feed(S = #{z := Z, prev := Prev, path := Path}, In) ->
    try gz_inflate(Z, zlib:safeInflate(Z, In), []) of
        Out ->
            #{crc := C0, isize := N0} = S,
            Crc = erlang:crc32(C0, Out),
            Size = N0 + iolist_size(Out),
            Window = <<Prev/binary, In/binary>>,
            Trailer = <<Crc:32/little, (Size band 16#FFFFFFFF):32/little>>,
            S1 = case find_trailer(Window, Trailer, byte_size(Prev)) of
                     {ok, Rest} ->
                         ok = zlib:inflateReset(Z),
                         S#{pending := Rest, prev := <<>>, crc := erlang:crc32(<<>>),
                            isize := 0, open := false};
                     error ->
                         S#{pending := <<>>, prev := tail(Window, 16), crc := Crc,
                            isize := Size, open := true}
                 end,
            {iolist_to_binary(Out), S1}
    catch
        error:Why ->
            warn("~ts: gzip data corrupt (~p)", [Path, Why]),
            bump(gzip_corrupt),
            {eof, S#{done := true, pending := <<>>}}
    end.

%% Feed one input chunk completely; output is bounded by the compression
%% ratio of one chunk.
gz_inflate(Z, {continue, Out}, Acc) -> gz_inflate(Z, zlib:safeInflate(Z, []), [Acc | Out]);
gz_inflate(_Z, {finished, Out}, Acc) -> [Acc | Out].

tail(B, N) when byte_size(B) > N -> binary:part(B, byte_size(B) - N, N);
tail(B, _) -> B.

find_trailer(Window, Trailer, MinEnd) ->
    case [P + 8 || {P, 8} <- binary:matches(Window, Trailer), P + 8 > MinEnd] of
        [] -> error;
        [End | _] -> {ok, binary:part(Window, End, byte_size(Window) - End)}
    end.

is_zeros(B) -> B =:= <<0:(byte_size(B) * 8)>>.

%%====================================================================
%% Terms
%%====================================================================

%% -> {{term, T, Off}, Src} | {eof, Src} | {{bad, Off, Reason}, Src}
next_term(S = #{framing := framed}) ->
    S1 = fill(S, 4),
    #{buf := B, off := Off} = S1,
    case B of
        <<>> -> {eof, S1};
        <<N:32, _/binary>> ->
            S2 = fill(S1, 4 + N),
            #{buf := B2} = S2,
            case B2 of
                <<_:32, Payload:N/binary, Rest/binary>> ->
                    S3 = S2#{buf := Rest, off := Off + 4 + N},
                    case Payload of
                        <<131, _/binary>> ->
                            try binary_to_term(Payload) of
                                T -> {{term, T, Off}, S3}
                            catch
                                error:badarg ->
                                    {{bad, Off, "frame holds no valid term (corrupt)"}, S3}
                            end;
                        _ ->
                            {{bad, Off, "frame does not start with 131 (corrupt)"}, S3}
                    end;
                _ ->
                    {{bad, Off, io_lib:format("truncated frame (length ~B, ~B bytes present)",
                                              [N, byte_size(B2) - 4])}, S2}
            end;
        _ ->
            {{bad, Off, io_lib:format("truncated frame length (~B bytes present)",
                                      [byte_size(B)])}, S1}
    end;
next_term(S = #{framing := concat}) ->
    S1 = fill(S, 1),
    case S1 of
        #{buf := <<>>} -> {eof, S1};
        _ -> concat_term(S1)
    end.

concat_term(S = #{buf := B, off := Off, eof := Eof}) ->
    case B of
        <<131, _/binary>> ->
            try binary_to_term(B, [used]) of
                {T, Used} ->
                    Rest = binary:part(B, Used, byte_size(B) - Used),
                    {{term, T, Off}, S#{buf := Rest, off := Off + Used}}
            catch
                error:badarg when Eof ->
                    {{bad, Off, "truncated or corrupt term"}, S};
                error:badarg when byte_size(B) > ?MAX_CONCAT_TERM ->
                    {{bad, Off, "corrupt term (no end within 1 GiB)"}, S};
                error:badarg ->
                    concat_term(fill(S, 2 * byte_size(B) + ?CHUNK))
            end;
        _ ->
            {{bad, Off, "byte is not 131 where a term should start (corrupt)"}, S}
    end.
