#!/usr/bin/env escript
%% -*- erlang -*-
%%! +A0 -noinput
%%
%% flame_prof_ref: an independent reference implementation of the
%% `flame_prof` dialect of docs/perf-output.md, reading dumps of
%% docs/dump-format.md with binary_to_term only. It is a
%% test oracle for the Swift converter: small, obvious, and slow-ish on
%% purpose, never sharing code with the converter.
%%
%% Usage:
%%   escript flame_prof_ref.escript [--summary] FILE_OR_DIR... > out.perf
%%
%%   Directories are walked recursively (hidden entries skipped). Files are
%%   grouped by the `capture` id of their header and read in `seq` order;
%%   per-process deltas carry across the files of one capture and never
%%   across captures. --summary prints JSON totals (the shape that
%%   fork_totals.py prints) instead of perf text. Warnings and a summary of
%%   skipped input go to stderr; the exit status is 0 unless no input at all
%%   could be read (1) or the arguments were wrong (2).
%%
%% Format decisions (the spec, checked against flame_prof's own source,
%% ebegumisa/flame_prof src/flame_prof.erl; where flame_prof would crash or
%% the spec is silent, this is what the oracle does and why):
%%
%%  * Atoms (status, module, function, metric names) are written as plain
%%    atom_to_list text, never quoted: 'Elixir.Foo' -> Elixir.Foo,
%%    '-init/1-fun-0-' -> -init/1-fun-0-, as flame_prof's atom_to_list.
%%  * The pid is the text pid_to_list gives *on the sampled node* without
%%    < and >, i.e. "0.ID.SERIAL" for the node's own processes (decoding
%%    makes them remote pids here, whose pid_to_list would show a local
%%    node index instead); also when the header names no node. Pids of
%%    another node keep this VM's pid_to_list text (its node index is
%%    meaningless; the agent never writes such pids).
%%  * Time: started_at + (Ts - monotonic_start) microseconds of the file
%%    the tick is in, printed as integer seconds "." six-digit micros.
%%  * Arity: an argument list in a frame counts as its length.
%%  * Frame text: {file,F} and {line,L} -> "M:F/A;L (F)"; only {file,F}
%%    -> "M:F/A (F)"; only {line,L} -> "M:F/A;L (M.erl)"; neither ->
%%    "M:F/A (M.erl)". F may be a charlist or a binary. current_function
%%    {M,F,A} (no location) -> "M:F/A (M.erl)"; undefined -> "native ()".
%%  * Stack: [current_function | current_stacktrace], innermost first; any
%%    run of consecutive frames with the same M:F/A is written once, as its
%%    outermost member (this also covers "current_function equal to the
%%    first stacktrace frame": the stacktrace frame, which has the line, is
%%    kept).
%%  * Initial calls: initial_call ("M:F/A (M.erl)") then the dictionary's
%%    '$initial_call' ("(M:F/A) (M.erl)"). initial_call is left out when it
%%    has the M:F/A of the outermost stack frame; '$initial_call' is left
%%    out only when initial_call was, and it has that M:F/A too (after a
%%    written initial_call it is always written, as flame_prof does).
%%    A '$initial_call' that is not {M,F,A} is ignored.
%%  * Metrics: reductions, message_queue_len, memory, total_heap_size, each
%%    garbage_collection_info entry in the node's order (entries whose value
%%    is not an integer are left out), minor_gcs from garbage_collection.
%%    Deltas per process (pid), per metric, against the last value that
%%    process reported for that metric in the same capture; a metric the
%%    process did not report before gets the first-sample delta (1 for
%%    reductions, 0 otherwise).
%%  * A sample lacking any of status, current_function, current_stacktrace,
%%    initial_call, reductions, message_queue_len, memory, total_heap_size,
%%    garbage_collection_info, garbage_collection(minor_gcs) is not written
%%    and is counted, but the integer metrics it does hold update its
%%    process's delta state, as any sample's do. A missing dictionary just
%%    means no '$initial_call'.
%%  * Ordering: within a capture, files in seq order (ties: path order),
%%    ticks in file order, samples in tick-list order. Captures are merged
%%    by tick wall time (ties: capture id order), streaming. A tick earlier
%%    than the one written before it (possible only across rotation files
%%    when the node's clock was stepped) is written where it is, counted
%%    and reported on stderr: the output is then not in time order.
%%  * Framed files: a frame whose payload is not a valid term ends the file
%%    (reported as a corrupt tail); the frames before it are converted.

-mode(compile).

-define(CHUNK, 1048576).
-define(GZ_CHUNK, 262144).
-define(MAX_CONCAT_TERM, 1073741824).
-define(METRIC_ITEMS, [reductions, message_queue_len, memory, total_heap_size]).
-define(REQUIRED, [status, current_function, current_stacktrace, initial_call,
                   reductions, message_queue_len, memory, total_heap_size,
                   garbage_collection_info, garbage_collection]).

main(Args) ->
    case parse_args(Args, #{summary => false, paths => []}) of
        {ok, #{paths := []}} -> usage(), halt(2);
        {ok, Opts} -> run(Opts);
        help -> usage(), halt(0);
        {error, Msg} -> warn("~ts", [Msg]), usage(), halt(2)
    end.

usage() ->
    io:format(standard_error,
              "usage: escript flame_prof_ref.escript [--summary] FILE_OR_DIR... > out.perf~n", []).

parse_args([], O = #{paths := P}) -> {ok, O#{paths := lists:reverse(P)}};
parse_args(["--summary" | R], O) -> parse_args(R, O#{summary := true});
parse_args(["-h" | _], _) -> help;
parse_args(["--help" | _], _) -> help;
parse_args(["--" | R], O = #{paths := P}) -> {ok, O#{paths := lists:reverse(P, R)}};
parse_args(["-" ++ _ = A | _], _) -> {error, "unknown option " ++ A};
parse_args([A | R], O = #{paths := P}) -> parse_args(R, O#{paths := [A | P]}).

warn(Fmt, Args) -> io:format(standard_error, "flame_prof_ref: " ++ Fmt ++ "~n", Args).

%%====================================================================
%% Driver
%%====================================================================

run(#{summary := Summary, paths := Paths}) ->
    put(stats, #{}),
    Files = lists:append([expand(P) || P <- Paths]),
    Headers = lists:filtermap(fun read_header/1, Files),
    Captures = group_captures(Headers),
    Out = open_out(Summary),
    Streams = [capture_stream(C) || C <- Captures],
    St0 = #{out => Out, summary => Summary, totals => #{}, events => 0,
            last_wall => #{}},
    St1 = merge(prime(Streams), St0),
    finish_out(Out, St1),
    report(),
    case Headers of
        [] -> halt(1);
        _ -> halt(0)
    end.

bump(Key) -> bump(Key, 1).
bump(Key, N) ->
    S = get(stats),
    put(stats, S#{Key => maps:get(Key, S, 0) + N}).

report() ->
    S = get(stats),
    case maps:size(S) of
        0 -> ok;
        _ ->
            Lines = [io_lib:format("  ~s: ~B~n", [fmt_key(K), V])
                     || {K, V} <- lists:sort(maps:to_list(S))],
            io:format(standard_error, "flame_prof_ref: summary of input~n~s", [Lines])
    end.

fmt_key({A, B}) -> io_lib:format("~s ~s", [fmt_key(A), fmt_key(B)]);
fmt_key(A) when is_atom(A) -> atom_to_list(A);
fmt_key(B) when is_binary(B) -> B;
fmt_key(L) when is_list(L) -> L;
fmt_key(T) -> io_lib:format("~w", [T]).

expand(Path) ->
    case filelib:is_dir(Path) of
        true ->
            {ok, Names} = file:list_dir(Path),
            lists:append([expand(filename:join(Path, N))
                          || N <- lists:sort(Names), hd(N) =/= $.]);
        false ->
            case filelib:is_regular(Path) of
                true -> [Path];
                false -> warn("~ts: no such file", [Path]), bump(unreadable_files), []
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
                            warn("~ts: header lacks ~s; file skipped", [Path, Why]),
                            bump(files_skipped), false
                    end;
                {{term, {flame_dump, V, _}, _}, _} ->
                    warn("~ts: dump version ~p not supported; file skipped", [Path, V]),
                    bump(files_skipped), false;
                {{term, _, _}, _} ->
                    warn("~ts: first term is not a {flame_dump, 1, Meta} header; file skipped", [Path]),
                    bump(files_skipped), false;
                {eof, _} ->
                    warn("~ts: empty; file skipped", [Path]), bump(files_skipped), false;
                {{bad, Off, Why}, _} ->
                    warn("~ts: ~s at byte ~B before any header; file skipped", [Path, Why, Off]),
                    bump(files_skipped), false
            end;
        {error, Why} ->
            warn("~ts: ~s; file skipped", [Path, Why]),
            bump(files_skipped), false
    end.

header_fields(Meta) ->
    Need = [{started_at, fun is_integer/1}, {monotonic_start, fun is_integer/1}],
    case [K || {K, F} <- Need, not F(maps:get(K, Meta, undefined))] of
        [] ->
            M = maps:merge(#{seq => 0}, maps:with([started_at, monotonic_start, capture,
                                                   seq, node], Meta)),
            case M of
                #{capture := C} when not is_binary(C) -> {error, "a binary capture id"};
                #{seq := Q} when not is_integer(Q) -> {error, "an integer seq"};
                _ -> {ok, M}
            end;
        Missing -> {error, string:join([atom_to_list(K) || K <- Missing], ", ")}
    end.

%% A file whose header has no capture id is a capture of its own, named
%% after its path.
own_capture(H = #{capture := _}) -> H;
own_capture(H = #{path := P}) ->
    warn("~ts: header has no capture id: taken as a capture of its own", [P]),
    H#{capture => unicode:characters_to_binary(["file:", P])}.

group_captures(Headers) ->
    Ids = lists:usort([C || #{capture := C} <- Headers]),
    [begin
         Fs = [H || H = #{capture := C} <- Headers, C =:= Id],
         Sorted = lists:sort(fun(#{seq := A, path := PA}, #{seq := B, path := PB}) ->
                                     {A, PA} =< {B, PB}
                             end, Fs),
         check_seqs(Id, Sorted),
         {Id, Sorted}
     end || Id <- Ids].

check_seqs(Id, Files) ->
    Seqs = [S || #{seq := S} <- Files],
    case Seqs =:= lists:usort(Seqs) of
        true -> ok;
        false -> warn("capture ~ts: duplicate seq numbers ~w", [Id, Seqs])
    end,
    case Seqs =:= lists:seq(hd(Seqs), hd(Seqs) + length(Seqs) - 1) andalso hd(Seqs) =:= 0 of
        true -> ok;
        false -> warn("capture ~ts: files present have seq ~w (gaps or no seq 0)", [Id, Seqs])
    end.

%%====================================================================
%% Capture streams: each yields {WallUs, Lines} per tick, deltas inside
%%====================================================================

%% Stream = {Id, RemainingFiles, CurrentFile | none, DeltaState}
capture_stream({Id, Files}) -> {Id, Files, none, #{}}.

prime(Streams) ->
    lists:filtermap(fun(S) ->
                            case next_tick(S) of
                                eof -> false;
                                {Tick, S1} -> {true, {Tick, S1}}
                            end
                    end, Streams).

%% Stable merge by wall time; ties go to the stream earlier in the list
%% (captures are in capture-id order).
merge([], St) -> St;
merge(Heads, St) ->
    {_, {Idx, _}} = lists:foldl(fun({{W, _, _}, _}, {I, {BI, BW}}) ->
                                   case BW =:= none orelse W < BW of
                                       true -> {I + 1, {I, W}};
                                       false -> {I + 1, {BI, BW}}
                                   end
                           end, {1, {0, none}}, Heads),
    {{W, Id, Samples}, S} = lists:nth(Idx, Heads),
    St1 = emit_tick(W, Id, Samples, St),
    Heads1 = case next_tick(S) of
                 eof -> lists:sublist(Heads, Idx - 1) ++ lists:nthtail(Idx, Heads);
                 {T, S1} -> lists:sublist(Heads, Idx - 1) ++ [{T, S1} | lists:nthtail(Idx, Heads)]
             end,
    merge(Heads1, St1).

next_tick({_Id, [], none, _D}) -> eof;
next_tick({Id, [F | Rest], none, D}) ->
    #{path := Path} = F,
    case src_open(Path) of
        {ok, Src} ->
            put(trailer_seen, false),
            next_tick({Id, Rest, {F, Src, first}, D});
        {error, Why} ->
            warn("~ts: ~s; file skipped", [Path, Why]), bump(files_skipped),
            next_tick({Id, Rest, none, D})
    end;
next_tick({Id, Files, {F = #{path := Path}, Src, Pos}, D}) ->
    case next_term(Src) of
        {eof, Src1} ->
            src_close(Src1),
            case get(trailer_seen) of
                true -> ok;
                false -> warn("~ts: no {flame_dump_end, _} trailer: the file was cut short", [Path]),
                         bump(files_without_trailer)
            end,
            next_tick({Id, Files, none, D});
        {{bad, Off, Why}, Src1} ->
            src_close(Src1),
            warn("~ts: ~s at byte ~B~s; converted what came before", [Path, Why, Off, src_where(Src1)]),
            bump(files_with_bad_tail),
            next_tick({Id, Files, none, D});
        {{term, T, _Off}, Src1} when Pos =:= first ->
            %% the header, already read by read_header/1
            _ = T,
            next_tick({Id, Files, {F, Src1, rest}, D});
        {{term, {samples, Ts, List}, _Off}, Src1} when is_integer(Ts), is_list(List) ->
            #{started_at := SA, monotonic_start := MS} = F,
            Wall = SA + (Ts - MS),
            Node = maps:get(node, F, undefined),
            {Samples, D1} = tick_samples(List, Node, D, []),
            {{Wall, Id, Samples}, {Id, Files, {F, Src1, rest}, D1}};
        {{term, {system, _, _}, _}, Src1} ->
            bump(system_terms),
            next_tick({Id, Files, {F, Src1, rest}, D});
        {{term, {flame_dump_end, _}, _}, Src1} ->
            put(trailer_seen, true),
            next_tick({Id, Files, {F, Src1, rest}, D});
        {{term, _Other, _}, Src1} ->
            bump(unknown_terms),
            next_tick({Id, Files, {F, Src1, rest}, D})
    end.

%%====================================================================
%% Samples
%%====================================================================

tick_samples([], _Node, D, Acc) -> {lists:reverse(Acc), D};
tick_samples([{Pid, Items} | Rest], Node, D, Acc) when is_pid(Pid), is_list(Items) ->
    case sample(Pid, Items, Node, D) of
        {ok, S, D1} -> tick_samples(Rest, Node, D1, [S | Acc]);
        {skip, Why} ->
            bump({samples_skipped, Why}),
            tick_samples(Rest, Node, remember(Pid, present_metrics(Items), D), Acc)
    end;
tick_samples([{Pid, undefined} | Rest], Node, D, Acc) when is_pid(Pid) ->
    bump({samples_skipped, "process gone (items undefined)"}),
    tick_samples(Rest, Node, D, Acc);
tick_samples([_ | Rest], Node, D, Acc) ->
    bump({samples_skipped, malformed}),
    tick_samples(Rest, Node, D, Acc);
tick_samples(_Improper, _Node, D, Acc) ->
    bump({samples_skipped, "improper sample list tail"}),
    {lists:reverse(Acc), D}.

sample(Pid, Items, Node, D) ->
    case [K || K <- ?REQUIRED, not lists:keymember(K, 1, Items)] of
        [K | _] -> {skip, "missing " ++ atom_to_list(K)};
        [] ->
            try
                sample1(Pid, Items, Node, D)
            catch
                throw:{skip, Why} -> {skip, Why};
                error:_ -> {skip, "malformed item"}
            end
    end.

item(K, Items) -> element(2, lists:keyfind(K, 1, Items)).

sample1(Pid, Items, Node, D) ->
    Status = item(status, Items),
    is_atom(Status) orelse throw({skip, "malformed status"}),
    Ints = [{K, item(K, Items)} || K <- ?METRIC_ITEMS],
    lists:all(fun({_, V}) -> is_integer(V) end, Ints)
        orelse throw({skip, "malformed metric"}),
    GcInfo = [{K, V} || {K, V} <- item(garbage_collection_info, Items),
                        is_atom(K), is_integer(V)],
    Minor = case lists:keyfind(minor_gcs, 1, item(garbage_collection, Items)) of
                {minor_gcs, M} when is_integer(M) -> M;
                _ -> throw({skip, "missing minor_gcs"})
            end,
    Metrics = Ints ++ GcInfo ++ [{minor_gcs, Minor}],
    Prev = maps:get(Pid, D, undefined),
    WithDelta = [{K, V, delta(K, V, Prev)} || {K, V} <- Metrics],
    Frames = frames(item(current_function, Items), item(current_stacktrace, Items),
                    item(initial_call, Items), dict_initial_call(Items)),
    S = #{comm => atom_to_list(Status), pid => pid_text(Pid, Node),
          metrics => WithDelta, frames => Frames},
    {ok, S, remember(Pid, Metrics, D)}.

%% A process's last value of each metric it reported, kept per metric.
remember(Pid, Metrics, D) ->
    D#{Pid => maps:merge(maps:get(Pid, D, #{}), maps:from_list(Metrics))}.

%% The integer metrics a sample holds, whatever else it lacks.
present_metrics(Items) ->
    Ints = [{K, V} || K <- ?METRIC_ITEMS, {_, V} <- [lists:keyfind(K, 1, Items)], is_integer(V)],
    GcInfo = case lists:keyfind(garbage_collection_info, 1, Items) of
                 {_, L} when is_list(L) -> [{K, V} || {K, V} <- L, is_atom(K), is_integer(V)];
                 _ -> []
             end,
    Minor = case lists:keyfind(garbage_collection, 1, Items) of
                {_, G} when is_list(G) ->
                    [{minor_gcs, M} || {minor_gcs, M} <- G, is_integer(M)];
                _ -> []
            end,
    Ints ++ GcInfo ++ Minor.

delta(reductions, _V, undefined) -> 1;
delta(_K, _V, undefined) -> 0;
delta(K, V, Prev) ->
    case maps:find(K, Prev) of
        error -> delta(K, V, undefined);
        {ok, B} -> delta2(K, V, B)
    end.

delta2(reductions, V, B) when V - B >= 0 -> V - B + 1;
delta2(reductions, V, B) -> B - V;
delta2(minor_gcs, V, B) when V > B -> V - B;
delta2(minor_gcs, V, _B) -> V;
delta2(_, V, B) -> V - B.

dict_initial_call(Items) ->
    case lists:keyfind(dictionary, 1, Items) of
        {dictionary, Dict} when is_list(Dict) ->
            case lists:keyfind('$initial_call', 1, Dict) of
                {_, {M, F, A}} when is_atom(M), is_atom(F), is_integer(A) -> {M, F, A};
                _ -> none
            end;
        _ -> none
    end.

%% Pid text as pid_to_list on the sampled node, without < >.
pid_text(Pid, Node) ->
    %% a header without node: every sampled process is the node's own
    case {node(Pid) =:= Node orelse Node =:= undefined, term_to_binary(Pid)} of
        {true, <<131, 88, _/binary>> = B} ->
            %% NEW_PID_EXT ends in ID:32, Serial:32, Creation:32
            Skip = byte_size(B) - 12,
            <<_:Skip/binary, Id:32, Serial:32, _Creation:32>> = B,
            "0." ++ integer_to_list(Id) ++ "." ++ integer_to_list(Serial);
        _ ->
            strip_angles(pid_to_list(Pid))
    end.

strip_angles("<" ++ R) -> lists:droplast(R);
strip_angles(R) -> R.

%%====================================================================
%% Frames
%%====================================================================

arity(A) when is_integer(A) -> A;
arity(A) when is_list(A) -> length(A).

a2l(A) -> atom_to_list(A).

mfa_text(M, F, A) -> [a2l(M), $:, a2l(F), $/, integer_to_list(A)].

frame({M, F, A, Loc}) when is_atom(M), is_atom(F) ->
    Ar = arity(A),
    File = case is_list(Loc) andalso lists:keyfind(file, 1, Loc) of
               {file, Fl} when is_list(Fl) -> Fl;
               {file, Fl} when is_binary(Fl) -> Fl;
               _ -> none
           end,
    Line = case is_list(Loc) andalso lists:keyfind(line, 1, Loc) of
               {line, L} when is_integer(L) -> L;
               _ -> none
           end,
    FileText = case File of none -> a2l(M) ++ ".erl"; _ -> File end,
    LineText = case Line of none -> ""; _ -> [$; | integer_to_list(Line)] end,
    {{M, F, Ar}, [mfa_text(M, F, Ar), LineText, " (", FileText, ")"]};
frame({M, F, A}) when is_atom(M), is_atom(F) ->
    Ar = arity(A),
    {{M, F, Ar}, [mfa_text(M, F, Ar), " (", a2l(M), ".erl)"]};
frame(_) ->
    throw({skip, "malformed frame"}).

frames(Cur, Stack, Init, DictInit) ->
    CurF = case Cur of
               undefined -> {native, "native ()"};
               _ -> frame(Cur)
           end,
    is_list(Stack) orelse throw({skip, "malformed current_stacktrace"}),
    All = flatten_recursion([CurF | [frame(Fr) || Fr <- Stack]]),
    Last = case All of [] -> none; _ -> element(1, lists:last(All)) end,
    Init1 =
        case Init of
            {M, F, A} when is_atom(M), is_atom(F) ->
                K = {M, F, arity(A)},
                case K =:= Last of
                    true -> [];
                    false -> [{K, [mfa_text(M, F, arity(A)), " (", a2l(M), ".erl)"]}]
                end;
            _ -> throw({skip, "malformed initial_call"})
        end,
    Init2 = case DictInit of
                none -> [];
                {M2, F2, A2} when Init1 =:= [], {M2, F2, A2} =:= Last -> [];
                {M2, F2, A2} -> [{{M2, F2, A2}, ["(", mfa_text(M2, F2, A2), ") (", a2l(M2), ".erl)"]}]
            end,
    [T || {_, T} <- All ++ Init1 ++ Init2].

%% innermost first; of consecutive equal M:F/A keep the outermost.
flatten_recursion([{K, _}, {K, _} = B | T]) -> flatten_recursion([B | T]);
flatten_recursion([X | T]) -> [X | flatten_recursion(T)];
flatten_recursion([]) -> [].

%%====================================================================
%% Output
%%====================================================================

open_out(_) ->
    %% A raw file on fd 1 (append: never truncates what the shell opened);
    %% raw writes block, so output is flushed and back-pressured.
    case file:open("/dev/stdout", [append, raw, binary, {delayed_write, ?CHUNK, 1000}]) of
        {ok, Fd} -> {file, Fd};
        {error, _} -> {io, standard_io}
    end.

write_out({file, Fd}, Data) -> ok = file:write(Fd, Data);
write_out({io, Dev}, Data) -> io:put_chars(Dev, Data).

emit_tick(W, Id, Samples, St = #{last_wall := LW}) ->
    case maps:get(Id, LW, undefined) of
        Prev when is_integer(Prev), W < Prev ->
            bump(ticks_out_of_time_order),
            warn("capture ~ts: a tick at ~s is earlier than the one before it (~s)",
                 [Id, time_text(W), time_text(Prev)]);
        _ -> ok
    end,
    St1 = St#{last_wall := LW#{Id => W}},
    case St1 of
        #{summary := true} -> lists:foldl(fun(S, A) -> total(S, A) end, St1, Samples);
        #{out := Out} ->
            T = time_text(W),
            case Samples of
                [] -> ok;
                _ -> write_out(Out, utf8([sample_text(S, T) || S <- Samples]))
            end,
            St1#{events := maps:get(events, St1) + length(Samples)}
    end.

%% Atom and file-name text is Unicode: written as UTF-8.
utf8(Chars) ->
    case unicode:characters_to_binary(Chars) of
        B when is_binary(B) -> B;
        _ -> unicode:characters_to_binary(io_lib:format("~tw", [Chars]))
    end.

time_text(W) ->
    io_lib:format("~B.~6..0B", [W div 1000000, W rem 1000000]).

sample_text(#{comm := C, pid := P, metrics := Ms, frames := Fs}, T) ->
    [C, $\t, P, " [000] ", T, ": cpu-clock:",
     [["\tmetric_erlang_", a2l(K), ": ", integer_to_list(V), ", ", integer_to_list(Dl)]
      || {K, V, Dl} <- Ms],
     $\n,
     [["\tffffffff ", F, $\n] || F <- Fs],
     $\n].

total(#{comm := C, metrics := Ms}, St = #{totals := Tot, events := N}) ->
    Cat = maps:get(C, Tot, #{samples => 0, metrics => #{}}),
    #{samples := S, metrics := M0} = Cat,
    M1 = lists:foldl(fun({K, V, D}, M) ->
                             case M of
                                 #{K := {SV, SD}} -> M#{K := {SV + V, SD + D}};
                                 _ -> M#{K => {V, D}}
                             end
                     end, M0, Ms),
    St#{totals := Tot#{C => Cat#{samples := S + 1, metrics := M1}}, events := N + 1}.

finish_out(Out, #{summary := true, totals := Tot, events := N}) ->
    Named = fun(M) ->
                    lists:sort(lists:append(
                                 [[{"erlang_" ++ a2l(K), SV}, {"erlang_" ++ a2l(K) ++ "_delta", SD}]
                                  || {K, {SV, SD}} <- maps:to_list(M)]))
            end,
    Cats = [[json_str(C), ": {\"samples\": ", integer_to_list(S), ", \"metrics\": {",
             lists:join(", ", [[json_str(K), ": ", integer_to_list(V)] || {K, V} <- Named(M)]),
             "}}"]
            || {C, #{samples := S, metrics := M}} <- lists:sort(maps:to_list(Tot))],
    Json = ["{\"events\": ", integer_to_list(N), ", \"categories\": {",
            lists:join(", ", Cats), "}}\n"],
    write_out(Out, utf8(Json)),
    finish_out(Out, #{});
finish_out({file, Fd}, _) -> ok = file:close(Fd);
finish_out({io, _}, _) -> ok.

json_str(S) ->
    [$", [esc(C) || C <- S], $"].

esc($") -> "\\\"";
esc($\\) -> "\\\\";
esc(C) when C < 32 -> io_lib:format("\\u~4.16.0B", [C]);
esc(C) -> C.

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
                {ok, <<16#28, 16#B5, 16#2F, 16#FD>>} ->
                    file:close(Fd),
                    bump(zstd_files_skipped),
                    {error, "zstd-compressed: not supported by this reference "
                            "(OTP 25 has no zstd); decompress it with `zstd -d` first"};
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
