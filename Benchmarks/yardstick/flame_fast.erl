%% flame_fast: the Erlang yardstick for flameconv's speed (issue 13, item 1).
%%
%% It does the work of `flameconv convert --dialect flame_prof` (and of the
%% test oracle Tests/reference/flame_prof_ref.escript) the way an Erlang
%% engineer would write it to be fast: binary_to_term per frame, binaries and
%% iolists, caches for everything that repeats (a frame block per stack, a
%% frame's text per frame term, an event-line prefix per status and pid),
%% integer_to_binary, text made once as UTF-8 (atom_to_binary/2; a file name
%% goes through unicode:characters_to_binary only when it is not ASCII),
%% large raw reads and large raw writes. Its output is byte for byte the
%% oracle's (and flameconv's flame_prof text); the oracle stays as it is,
%% obvious and slow on purpose.
%%
%% Usage (see the flame-fast wrapper beside this file):
%%   erl -noshell -pa DIR -run flame_fast main -extra [MODE] [-o OUT] FILE_OR_DIR...
%%   MODE: (none)        perf text, flame_prof dialect
%%         --stats       flameconv stats' work: ticks, samples, processes,
%%                       statuses, metrics, files, the top stacks by samples and
%%                       by reductions delta (a report of its own, not
%%                       flameconv's text)
%%         --inspect     every term of every file, one per line, as
%%                       io_lib:format("~w~n") prints it (flameconv inspect prints
%%                       that text); --inspect-pretty uses "~p~n"
%%   -o OUT              write OUT (through OUT.partial, fsync, rename, as
%%                       flameconv does); OUT ending in .gz is gzip (zlib, level 6,
%%                       flameconv's). Default: standard output.
%%   --short-by-place    complete short samples the way flameconv did before
%%                       4e4ac67: by place, losing a process's full sample to
%%                       another's at its place (see remember_full/5)
%%   --profile eprof|fprof  run under that profiler and print its analysis to
%%                       standard error (fprof: to flame_fast.fprof)
%%
%% Reading, grouping and ordering follow the oracle: directories walked
%% (sorted, hidden entries skipped), files grouped by the header's capture id
%% and read in seq order (ties: path order), deltas per process across the
%% files of a capture, captures merged by tick wall time (ties: capture id
%% order); a damaged tail ends a file, what came before is converted; gzip
%% whole-file compression is read in the oracle's chunks, so a damaged gzip
%% file salvages the same bytes.
%%
%% One addition, flameconv's: in a file whose header says `unchanged =>
%% short` (agent 1.1 and later), a short sample (`{flame_unchanged, Ts}`) is
%% completed from the same process's full sample at tick Ts of that file
%% (docs/dump-format.md), with flameconv's bookkeeping (FullSampleMemory.swift:
%% by place in the samples list, then by pid); one that cannot be completed is
%% skipped and moves no delta. The oracle predates short samples and skips
%% them; on files without that header key (every fixture) nothing differs.
-module(flame_fast).

-export([main/0, main/1, run/1, parse_args/2]).

-define(CHUNK, 8388608).          % raw read size
-define(GZ_CHUNK, 262144).        % the oracle's: a damaged gzip salvages the same bytes
-define(OUT_CHUNK, 1048576).      % bytes gathered before a write
-define(MIN_HEAP, 8388608).       % words (64 MB): a few ticks of a few hundred samples and their text
-define(MAX_CONCAT_TERM, 1073741824).
-define(BLOCK_LIMIT, 16384).      % frame blocks kept before the cache starts over
-define(FRAME_LIMIT, 65536).      % frame texts kept before the cache starts over
-define(FULL_PLACES, 200000).     % FullSampleMemory.limit
-define(FULL_VALUES, 32).         % FullSampleMemory.valuesPerSample
-define(REQUIRED, [status, current_function, current_stacktrace, initial_call,
                   reductions, message_queue_len, memory, total_heap_size,
                   garbage_collection_info, garbage_collection]).
-define(METRIC_ITEMS, [reductions, message_queue_len, memory, total_heap_size]).

%% One capture being read.
-record(cap, {id, idx, files, src = none, file, trailer = false,
              fm = #{}, fp = #{}}).
%% What a tick's samples need to know: capture, file, mode.
-record(tk, {idx, node, short = false, ts, mode, fm, fp}).
%% Output: a raw file descriptor (or the io server), an optional deflate
%% stream, and the bytes gathered so far.
-record(out, {fd, z = none, buf = [], size = 0, path = none, tmp = none}).
%% Byte source: raw or gzip, streamed.
-record(src, {fd, path, chunk, kind = raw, buf = <<>>, off = 0, eof = false,
              framing = framed, z, pending = <<>>, prev = <<>>, crc = 0,
              isize = 0, open = false, done = false}).

%%====================================================================
%% Entry
%%====================================================================

main() -> main([]).

main([]) -> main1(init:get_plain_arguments());
main(Args) -> main1(Args).

main1(Args) ->
    case parse_args(Args, #{mode => convert, out => none, paths => [], profile => none,
                            short_by_pid => true}) of
        {ok, #{paths := []}} -> usage(), halt(2);
        {ok, Opts = #{profile := none}} -> halt(run(Opts));
        {ok, Opts = #{profile := P}} -> halt(profiled(P, Opts));
        {error, Msg} -> warn("~ts", [Msg]), usage(), halt(2)
    end.

usage() ->
    io:format(standard_error,
              "usage: flame-fast [--stats | --inspect | --inspect-pretty] [-o OUT[.gz]] "
              "[--profile eprof|fprof] FILE_OR_DIR...~n", []).

parse_args([], O = #{paths := P}) -> {ok, O#{paths := lists:reverse(P)}};
parse_args(["--stats" | R], O) -> parse_args(R, O#{mode := stats});
parse_args(["--inspect" | R], O) -> parse_args(R, O#{mode := inspect});
parse_args(["--inspect-pretty" | R], O) -> parse_args(R, O#{mode := inspect_pretty});
parse_args(["-o", F | R], O) -> parse_args(R, O#{out := F});
parse_args(["--short-by-place" | R], O) -> parse_args(R, O#{short_by_pid := false});
parse_args(["--profile", P | R], O) when P =:= "eprof"; P =:= "fprof" ->
    parse_args(R, O#{profile := list_to_atom(P)});
parse_args(["--" | R], O = #{paths := P}) -> {ok, O#{paths := lists:reverse(P, R)}};
parse_args(["-" ++ _ = A | _], _) -> {error, "unknown option " ++ A};
parse_args([A | R], O = #{paths := P}) -> parse_args(R, O#{paths := [A | P]}).

warn(Fmt, Args) -> io:format(standard_error, "flame_fast: " ++ Fmt ++ "~n", Args).

profiled(eprof, Opts) ->
    {ok, _} = eprof:start(),
    {ok, Status} = eprof:profile([], fun() -> run(Opts) end, {'_', '_', '_'}),
    ok = eprof:log("flame_fast.eprof"),
    eprof:analyze(total, [{sort, time}]),
    eprof:stop(),
    Status;
profiled(fprof, Opts) ->
    Status = fprof:apply(fun run/1, [Opts], [{file, "flame_fast.trace"}]),
    ok = fprof:profile([{file, "flame_fast.trace"}]),
    ok = fprof:analyse([{dest, "flame_fast.fprof"}, {totals, true}]),
    Status.

%%====================================================================
%% Driver
%%====================================================================

run(Opts = #{mode := Mode, out := OutPath, paths := Paths}) ->
    put('$short_by_pid', maps:get(short_by_pid, Opts, true)),
    _ = process_flag(min_heap_size, case os:getenv("FF_MINHEAP") of false -> ?MIN_HEAP; V -> list_to_integer(V) end),
    put(stats, #{}),
    Files = lists:append([expand(P) || P <- Paths]),
    case Mode of
        inspect -> inspect(Files, OutPath, "~w~n");
        inspect_pretty -> inspect(Files, OutPath, "~p~n");
        _ -> convert(Mode, Files, OutPath)
    end.

convert(Mode, Files, OutPath) ->
    put('$blocks', {0, #{}}),
    put('$frames', {0, #{}}),
    Headers = lists:filtermap(fun read_header/1, Files),
    Captures = group_captures(Headers),
    Out = open_out(OutPath),
    Streams = [#cap{id = Id, idx = I, files = Fs}
               || {I, {Id, Fs}} <- lists:zip(lists:seq(1, length(Captures)), Captures)],
    case Mode of
        stats -> stats_init(Streams);
        convert -> ok
    end,
    Heads = prime(Streams, Mode),
    Out1 = merge(Heads, Mode, #{}, Out),
    Out2 = case Mode of
               stats -> out_add(Out1, stats_report(Captures));
               convert -> Out1
           end,
    close_out(Out2),
    report(),
    case Headers of
        [] -> 1;
        _ -> 0
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
            io:format(standard_error, "flame_fast: summary of input~n~s", [Lines])
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

read_header(Path) ->
    case src_open(Path, 65536) of
        {ok, Src} ->
            R = next_term(Src),
            src_close(element(2, R)),
            case R of
                {{term, {flame_dump, 1, Meta}, _}, _} when is_map(Meta) ->
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
                                                   seq, node, otp_release, agent,
                                                   sample_interval_ms], Meta)),
            Short = case maps:get(unchanged, Meta, full) of
                        short -> true;
                        <<"short">> -> true;
                        _ -> false
                    end,
            case M of
                #{capture := C} when not is_binary(C) -> {error, "a binary capture id"};
                #{seq := Q} when not is_integer(Q) -> {error, "an integer seq"};
                _ -> {ok, M#{short => Short}}
            end;
        Missing -> {error, string:join([atom_to_list(K) || K <- Missing], ", ")}
    end.

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
%% Merge of captures by tick wall time
%%====================================================================

prime(Streams, Mode) ->
    lists:filtermap(fun(S) ->
                            case next_tick(S, Mode) of
                                eof -> false;
                                {Tick, S1} -> {true, {Tick, S1}}
                            end
                    end, Streams).

%% One capture: no choice to make.
merge([], _Mode, _LW, Out) -> Out;
merge([{Tick, S}], Mode, LW, Out) ->
    {LW1, Out1} = emit(Tick, LW, Out),
    case next_tick(S, Mode) of
        eof -> Out1;
        {T, S1} -> merge([{T, S1}], Mode, LW1, Out1)
    end;
merge(Heads, Mode, LW, Out) ->
    Idx = earliest(Heads, 1, 0, none),
    {Tick, S} = lists:nth(Idx, Heads),
    {LW1, Out1} = emit(Tick, LW, Out),
    {Before, [_ | After]} = lists:split(Idx - 1, Heads),
    Heads1 = case next_tick(S, Mode) of
                 eof -> Before ++ After;
                 {T, S1} -> Before ++ [{T, S1} | After]
             end,
    merge(Heads1, Mode, LW1, Out1).

earliest([], _I, Best, _BW) -> Best;
earliest([{{W, _, _, _}, _} | T], I, Best, BW) ->
    case BW =:= none orelse W < BW of
        true -> earliest(T, I + 1, I, W);
        false -> earliest(T, I + 1, Best, BW)
    end.

emit({W, Id, Text, _N}, LW, Out) ->
    case LW of
        #{Id := Prev} when W < Prev ->
            bump(ticks_out_of_time_order),
            warn("capture ~ts: a tick at ~s is earlier than the one before it (~s)",
                 [Id, time_text(W), time_text(Prev)]);
        _ -> ok
    end,
    {LW#{Id => W}, case Text of
                       <<>> -> Out;
                       _ -> out_add(Out, Text)
                   end}.

%%====================================================================
%% Capture streams: each yields {{WallUs, Id, Text, Samples}, Cap}
%%====================================================================

next_tick(#cap{files = [], src = none}, _Mode) -> eof;
next_tick(C = #cap{files = [F | Rest], src = none}, Mode) ->
    #{path := Path} = F,
    case src_open(Path, ?CHUNK) of
        {ok, Src} ->
            %% skip the header, already read by read_header/1
            case next_term(Src) of
                {{term, _, _}, Src1} ->
                    next_tick(C#cap{files = Rest, src = Src1, file = F, trailer = false,
                                    fm = #{}, fp = #{}}, Mode);
                R ->
                    %% the file changed since its header was read: as the oracle,
                    %% whatever came in place of the header is the tail
                    next_tick_end(C#cap{files = Rest, file = F}, R, Mode)
            end;
        {error, Why} ->
            warn("~ts: ~s; file skipped", [Path, Why]), bump(files_skipped),
            next_tick(C#cap{files = Rest}, Mode)
    end;
next_tick(C = #cap{src = Src}, Mode) ->
    next_tick_end(C, next_term(Src), Mode).

next_tick_end(C = #cap{file = #{path := Path}}, R, Mode) ->
    case R of
        {{term, {samples, Ts, List}, _}, Src1} when is_integer(Ts), is_list(List) ->
            #cap{id = Id, idx = Idx, fm = FM, fp = FP} = C,
            F = C#cap.file,
            #{started_at := SA, monotonic_start := MS, short := Short} = F,
            Wall = SA + (Ts - MS),
            Tk = #tk{idx = Idx, node = maps:get(node, F, undefined), short = Short,
                     ts = Ts, mode = Mode, fm = FM, fp = FP},
            {Text, N, Tk1} = tick(List, Wall, Tk, Mode),
            {{Wall, Id, Text, N}, C#cap{src = Src1, fm = Tk1#tk.fm, fp = Tk1#tk.fp}};
        {eof, Src1} ->
            src_close(Src1),
            case C#cap.trailer of
                true -> ok;
                false -> warn("~ts: no {flame_dump_end, _} trailer: the file was cut short", [Path]),
                         bump(files_without_trailer)
            end,
            stats_file(C, Mode),
            next_tick(C#cap{src = none}, Mode);
        {{bad, Off, Why}, Src1} ->
            src_close(Src1),
            warn("~ts: ~s at byte ~B~s; converted what came before",
                 [Path, Why, Off, src_where(Src1)]),
            bump(files_with_bad_tail),
            stats_file(C#cap{trailer = bad}, Mode),
            next_tick(C#cap{src = none}, Mode);
        {{term, {system, _, _}, _}, Src1} ->
            bump(system_terms),
            next_tick(C#cap{src = Src1}, Mode);
        {{term, {flame_dump_end, _}, _}, Src1} ->
            next_tick(C#cap{src = Src1, trailer = true}, Mode);
        {{term, _Other, _}, Src1} ->
            bump(unknown_terms),
            next_tick(C#cap{src = Src1}, Mode)
    end.

%%====================================================================
%% A tick: text (or stats) of every sample
%%====================================================================

tick(List, Wall, Tk, convert) ->
    Time = <<(time_text(Wall))/binary, ": cpu-clock:">>,
    {Io, N, Tk1} = samples(List, 0, Time, Tk, [], 0),
    {iolist_to_binary(Io), N, Tk1};
tick(List, Wall, Tk = #tk{idx = Idx}, stats) ->
    stats_tick(Wall, Idx),
    {_, N, Tk1} = samples(List, 0, Wall, Tk, [], 0),
    {<<>>, N, Tk1}.

%% Place: index in the samples list (the short samples' bookkeeping).
samples([{Pid, Items} | Rest], Place, Time, Tk, Acc, N) when is_pid(Pid), is_list(Items) ->
    case sample(Pid, Items, Place, Time, Tk) of
        {Text, Tk1} -> samples(Rest, Place + 1, Time, Tk1, [Acc | Text], N + 1);
        Tk1 -> samples(Rest, Place + 1, Time, Tk1, Acc, N)
    end;
samples([{Pid, undefined} | Rest], Place, Time, Tk, Acc, N) when is_pid(Pid) ->
    bump({samples_skipped, "process gone (items undefined)"}),
    samples(Rest, Place + 1, Time, Tk, Acc, N);
samples([_ | Rest], Place, Time, Tk, Acc, N) ->
    bump({samples_skipped, malformed}),
    samples(Rest, Place + 1, Time, Tk, Acc, N);
samples([], _Place, _Time, Tk, Acc, N) ->
    {Acc, N, Tk};
samples(_Improper, _Place, _Time, Tk, Acc, N) ->
    bump({samples_skipped, "improper sample list tail"}),
    {Acc, N, Tk}.

%% -> {Text, Tk} | Tk (nothing written)
%%
%% The fast path: a full sample with the agent's items in the agent's order.
sample(Pid, [{status, S}, {current_function, CF}, {current_stacktrace, ST},
             {initial_call, IC}, {registered_name, _}, {reductions, R},
             {message_queue_len, Q}, {memory, M}, {total_heap_size, H},
             {heap_size, _}, {stack_size, _}, {garbage_collection, GC},
             {garbage_collection_info, GI}, {dictionary, D}] = Items,
       Place, Time, Tk)
  when is_atom(S), is_integer(R), is_integer(Q), is_integer(M), is_integer(H),
       is_list(GC), is_list(ST) ->
    try
        {minor_gcs, Mn} = lists:keyfind(minor_gcs, 1, GC),
        true = is_integer(Mn),
        Block = block(CF, ST, IC, dict_initial_call(D)),
        Full = {M, H, GI, Mn, Block},
        Tk1 = remember_full(Pid, Place, Tk, {Items, Full}, length(GI) + 5),
        case full_text(Pid, S, R, Q, Full, Time, Tk1) of
            error -> generic(Pid, Items, Place, Time, Tk1, false);
            Done -> Done
        end
    catch
        _:_ -> generic(Pid, Items, Place, Time, Tk, true)
    end;
%% A short sample, in a file that may hold them.
sample(Pid, [{status, S}, {reductions, R}, {message_queue_len, Q}, {flame_unchanged, Since}] = Items,
       Place, Time, Tk = #tk{short = true})
  when is_atom(S), is_integer(R), is_integer(Q) ->
    case recall(Pid, Since, Place, Tk) of
        {_FullItems, Full = {_, _, _, _, _}} ->
            case full_text(Pid, S, R, Q, Full, Time, Tk) of
                error -> generic(Pid, Items, Place, Time, Tk, true);
                Done -> Done
            end;
        none ->
            bump({samples_skipped, "unchanged sample without its full sample in the file"}),
            Tk;
        _ ->
            generic(Pid, Items, Place, Time, Tk, true)
    end;
sample(Pid, Items, Place, Time, Tk) ->
    generic(Pid, Items, Place, Time, Tk, true).

%% Text and deltas of a sample in the agent's layout whose process's last
%% state has the same layout; error when the layouts differ (the generic
%% path then does it the oracle's way).
full_text(Pid, S, R, Q, {M, H, GI, Mn, Block}, Time, Tk = #tk{idx = Idx, node = Node, mode = Mode}) ->
    SK = {Idx, Pid},
    case get(SK) of
        {R0, Q0, M0, H0, GI0, Mn0, Pf} ->
            case gi_walk(GI, GI0, Pf, Mode) of
                error -> error;
                GIText ->
                    DR = case R - R0 of
                             DR0 when DR0 >= 0 -> DR0 + 1;
                             DR0 -> -DR0
                         end,
                    DMn = case Mn > Mn0 of
                              true -> Mn - Mn0;
                              false -> Mn
                          end,
                    put(SK, {R, Q, M, H, GI, Mn, Pf}),
                    case Mode of
                        convert ->
                            {[event_prefix(Node, S, Pid), Time,
                              <<"\tmetric_erlang_reductions: ">>, integer_to_binary(R), <<", ">>, integer_to_binary(DR),
                              <<"\tmetric_erlang_message_queue_len: ">>, integer_to_binary(Q), <<", ">>, integer_to_binary(Q - Q0),
                              <<"\tmetric_erlang_memory: ">>, integer_to_binary(M), <<", ">>, integer_to_binary(M - M0),
                              <<"\tmetric_erlang_total_heap_size: ">>, integer_to_binary(H), <<", ">>, integer_to_binary(H - H0),
                              GIText,
                              <<"\tmetric_erlang_minor_gcs: ">>, integer_to_binary(Mn), <<", ">>, integer_to_binary(DMn),
                              <<"\n">>, Block], Tk};
                        stats ->
                            stats_sample(Idx, S, Block, DR),
                            {[], Tk}
                    end
            end;
        _ -> error
    end.

%% The garbage_collection_info entries against the last state's, walked
%% together: same names in the same order, integer values.
gi_walk([{K, V} | T], [{K, V0} | T0], [P | Pf], Mode) when is_integer(V) ->
    case gi_walk(T, T0, Pf, Mode) of
        error -> error;
        Rest when Mode =:= convert -> [P, integer_to_binary(V), <<", ">>, integer_to_binary(V - V0) | Rest];
        Rest -> Rest
    end;
gi_walk([], [], [], _Mode) -> [];
gi_walk(_, _, _, _) -> error.

%%--------------------------------------------------------------------
%% The generic path: the oracle's rules, step by step, for any shape
%%--------------------------------------------------------------------

%% Remember: whether to keep it as a full sample (the fast path may have).
generic(Pid, Items, Place, Time, Tk = #tk{short = true}, Remember) ->
    case lists:keyfind(flame_unchanged, 1, Items) of
        {flame_unchanged, Since} ->
            case recall(Pid, Since, Place, Tk) of
                {FullItems, _} ->
                    Fresh = [I || I = {K, _} <- Items, K =/= flame_unchanged],
                    Completed = [case lists:keyfind(K, 1, Fresh) of
                                     false -> I;
                                     FreshI -> FreshI
                                 end || I = {K, _} <- FullItems]
                        ++ [I || I = {K, _} <- Fresh, not lists:keymember(K, 1, FullItems)],
                    generic1(Pid, Completed, Time, Tk);
                none ->
                    bump({samples_skipped, "unchanged sample without its full sample in the file"}),
                    Tk
            end;
        false when Remember ->
            Tk1 = remember_full(Pid, Place, Tk, {Items, none}, length(present_metrics(Items))),
            generic1(Pid, Items, Time, Tk1);
        false ->
            generic1(Pid, Items, Time, Tk)
    end;
generic(Pid, Items, _Place, Time, Tk, _Remember) ->
    generic1(Pid, Items, Time, Tk).

generic1(Pid, Items, Time, Tk) ->
    case [K || K <- ?REQUIRED, not lists:keymember(K, 1, Items)] of
        [K | _] -> skip(Pid, Items, "missing " ++ atom_to_list(K), Tk);
        [] ->
            try
                sample1(Pid, Items, Time, Tk)
            catch
                throw:{skip, Why} -> skip(Pid, Items, Why, Tk);
                error:_ -> skip(Pid, Items, "malformed item", Tk)
            end
    end.

skip(Pid, Items, Why, Tk = #tk{mode = Mode, idx = Idx}) ->
    bump({samples_skipped, Why}),
    _ = remember_state(Pid, present_metrics(Items), Tk),
    case {Mode, lists:keyfind(status, 1, Items)} of
        {stats, {status, S}} when is_atom(S) -> stats_sample(Idx, S, none, 0);
        _ -> ok
    end,
    Tk.

item(K, Items) -> element(2, lists:keyfind(K, 1, Items)).

sample1(Pid, Items, Time, Tk = #tk{node = Node, mode = Mode, idx = Idx}) ->
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
    Block = block(item(current_function, Items), item(current_stacktrace, Items),
                  item(initial_call, Items), dict_initial_call_items(Items)),
    Prev = state_map(Pid, Tk),
    WithDelta = [{K, V, delta(K, V, Prev)} || {K, V} <- Metrics],
    _ = remember_state(Pid, Metrics, Tk),
    case Mode of
        convert ->
            {[event_prefix(Node, Status, Pid), Time,
              [[<<"\tmetric_erlang_">>, atom_to_binary(K, utf8), <<": ">>,
                integer_to_binary(V), <<", ">>, integer_to_binary(Dl)]
               || {K, V, Dl} <- WithDelta],
              <<"\n">>, Block], Tk};
        stats ->
            {reductions, _, DR} = lists:keyfind(reductions, 1, WithDelta),
            stats_sample(Idx, Status, Block, DR),
            {[], Tk}
    end.

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

dict_initial_call_items(Items) ->
    case lists:keyfind(dictionary, 1, Items) of
        {dictionary, Dict} -> dict_initial_call(Dict);
        false -> none
    end.

dict_initial_call(Dict) when is_list(Dict) ->
    case lists:keyfind('$initial_call', 1, Dict) of
        {_, {M, F, A}} when is_atom(M), is_atom(F), is_integer(A) -> {M, F, A};
        _ -> none
    end;
dict_initial_call(_) -> none.

%%--------------------------------------------------------------------
%% Per-process delta state, in the process dictionary under {Capture, Pid}:
%% either the agent's layout {R, Q, M, H, GcInfo, Minor, GcPrefixes}, which
%% the fast path walks, or a map of metric => last value (any other shape).
%%--------------------------------------------------------------------

state_map(Pid, #tk{idx = Idx}) ->
    case get({Idx, Pid}) of
        undefined -> undefined;
        {R, Q, M, H, GI, Mn, _} ->
            maps:from_list([{reductions, R}, {message_queue_len, Q}, {memory, M},
                            {total_heap_size, H}, {minor_gcs, Mn} | GI]);
        Map -> Map
    end.

%% Merges a sample's metrics into its process's state, as the oracle's
%% remember/3, and keeps the agent's layout when the result has it.
remember_state(Pid, Metrics, Tk = #tk{idx = Idx}) ->
    Merged = case state_map(Pid, Tk) of
                 undefined -> maps:from_list(Metrics);
                 Prev -> maps:merge(Prev, maps:from_list(Metrics))
             end,
    put({Idx, Pid}, layout(Merged, Metrics)).

layout(Map = #{reductions := R, message_queue_len := Q, memory := M,
               total_heap_size := H, minor_gcs := Mn}, Metrics)
  when map_size(Map) =:= length(Metrics) ->
    GI = [KV || KV = {K, _} <- Metrics, not fixed_metric(K)],
    case length(GI) + 5 =:= length(Metrics) andalso
        length(lists:ukeysort(1, GI)) =:= length(GI) andalso
        [K || {K, _} <- Metrics, fixed_metric(K)] =:=
        [reductions, message_queue_len, memory, total_heap_size, minor_gcs] of
        true -> {R, Q, M, H, GI, Mn, [metric_prefix(K) || {K, _} <- GI]};
        false -> Map
    end;
layout(Map, _) -> Map.

fixed_metric(reductions) -> true;
fixed_metric(message_queue_len) -> true;
fixed_metric(memory) -> true;
fixed_metric(total_heap_size) -> true;
fixed_metric(minor_gcs) -> true;
fixed_metric(_) -> false.

metric_prefix(K) -> <<"\tmetric_erlang_", (atom_to_binary(K, utf8))/binary, ": ">>.

%%--------------------------------------------------------------------
%% Full samples, for short ones (flameconv's FullSampleMemory). With
%% --short-by-place they are kept by
%% place in the samples list, a pid met elsewhere found by pid; only in
%% files that may hold short samples. A place holds one sample: when another
%% process's full sample takes it, the first process's is forgotten, and its
%% short samples are skipped. With select => all the agent's list order moves
%% from tick to tick, and most short samples of such captures are skipped,
%% as flameconv did until 4e4ac67. The default keeps each
%% process's last full sample, as docs/dump-format.md reads and flameconv
%% now does; --short-by-place gives the old behaviour.
%%--------------------------------------------------------------------

remember_full(_Pid, _Place, Tk = #tk{short = false}, _Data, _Values) -> Tk;
remember_full(_Pid, Place, Tk, _Data, Values)
  when Place >= ?FULL_PLACES; Values > ?FULL_VALUES -> Tk;
remember_full(Pid, Place, Tk = #tk{ts = Ts, fp = FP}, Data, _Values) ->
    case get('$short_by_pid') of
        true -> Tk#tk{fp = FP#{Pid => {Pid, Ts, Data}}};
        false -> remember_by_place(Pid, Place, Tk, Data)
    end.

remember_by_place(Pid, Place, Tk = #tk{ts = Ts, fm = FM, fp = FP}, Data) ->
    FP1 = case FM of
              #{Place := {Pid, _, _}} -> FP;
              #{Place := {Old, _, _}} ->
                  FPo = case FP of
                            #{Old := Place} -> maps:remove(Old, FP);
                            _ -> FP
                        end,
                  FPo#{Pid => Place};
              _ -> FP#{Pid => Place}
          end,
    Tk#tk{fm = FM#{Place => {Pid, Ts, Data}}, fp = FP1}.

recall(Pid, Since, Place, #tk{fm = FM, fp = FP}) ->
    E = case get('$short_by_pid') of
            true -> maps:get(Pid, FP, none);
            false -> recall_by_place(Pid, Place, FM, FP)
        end,
    case E of
        {Pid, Since, Data} -> Data;
        _ -> none
    end.

recall_by_place(Pid, Place, FM, FP) ->
    case FM of
        #{Place := E0 = {Pid, _, _}} -> E0;
        _ ->
            case FP of
                #{Pid := P} -> maps:get(P, FM, none);
                _ -> none
            end
    end.

%%====================================================================
%% Frames
%%====================================================================

%% A sample's frame lines and the empty line after them, as one binary.
%%
%% Hashing a whole stack term (a thousand words and more, file names being
%% lists) costs several times decoding it, so the cache goes by frame: each
%% frame term gives an entry {Id, {M, F, Arity}, Text}, found by the small
%% key {M, F, A, Line} with the file name compared (the usual shape) or by
%% the whole frame term; the block is then cached by the frames' ids.
block(CF, ST, IC, DI) ->
    {CFId, _, _} = CFE = case CF of
                             undefined -> {native, native, <<"native ()">>};
                             _ -> frame(CF)
                         end,
    Es = frame_entries(ST),
    Key = {CFId, [Id || {Id, _, _} <- Es], IC, DI},
    {N, Blocks} = get('$blocks'),
    case Blocks of
        #{Key := B} -> B;
        _ ->
            B = iolist_to_binary([[<<"\tffffffff ">>, T, <<"\n">>] || T <- frames(CFE, Es, IC, DI)]
                                 ++ [<<"\n">>]),
            case N >= ?BLOCK_LIMIT of
                true -> put('$blocks', {1, #{Key => B}});
                false -> put('$blocks', {N + 1, Blocks#{Key => B}})
            end,
            B
    end.

frame_entries([Fr | T]) -> [frame(Fr) | frame_entries(T)];
frame_entries([]) -> [];
frame_entries(_) -> throw({skip, "malformed current_stacktrace"}).

%% The oracle's frames/4, on entries.
frames({_, CurK, CurT}, Es, Init, DictInit) ->
    All = flatten_recursion([{CurK, CurT} | [{K, T} || {_, K, T} <- Es]]),
    Last = case All of [] -> none; _ -> element(1, lists:last(All)) end,
    Init1 =
        case Init of
            {M, F, A} when is_atom(M), is_atom(F) ->
                K = {M, F, arity(A)},
                case K =:= Last of
                    true -> [];
                    false -> [{K, [mfa_text(M, F, arity(A)), <<" (">>, a2b(M), <<".erl)">>]}]
                end;
            _ -> throw({skip, "malformed initial_call"})
        end,
    Init2 = case DictInit of
                none -> [];
                {M2, F2, A2} when Init1 =:= [], {M2, F2, A2} =:= Last -> [];
                {M2, F2, A2} -> [{{M2, F2, A2}, [<<"(">>, mfa_text(M2, F2, A2), <<") (">>, a2b(M2), <<".erl)">>]}]
            end,
    [T || {_, T} <- All ++ Init1 ++ Init2].

%% innermost first; of consecutive equal M:F/A keep the outermost.
flatten_recursion([{K, _}, {K, _} = B | T]) -> flatten_recursion([B | T]);
flatten_recursion([X | T]) -> [X | flatten_recursion(T)];
flatten_recursion([]) -> [].

%% {Id, MFA key, text} of a frame term.
%% The usual shape, by {M, F, A, Line} in the process dictionary; the file
%% name is checked against the cached one's bytes, character by character
%% (cheaper than a binary made to compare: the list is walked once and
%% nothing is allocated).
frame(Fr = {M, F, A, [{file, Fl}, {line, L}]}) when is_integer(L), is_list(Fl) ->
    SK = {'$fl', M, F, A, L},
    case get(SK) of
        {Fb, E} ->
            case same(Fl, Fb) of
                true -> E;
                false -> frame_by_term(Fr)
            end;
        undefined ->
            E = frame_new(Fr),
            case catch list_to_binary(Fl) of
                Fb when is_binary(Fb) -> put(SK, {Fb, E});
                _ -> ok
            end,
            E
    end;
frame(Fr) ->
    frame_by_term(Fr).

frame_by_term(Fr) ->
    {_, Frames} = get('$frames'),
    case Frames of
        #{Fr := E} -> E;
        _ ->
            E = frame_new(Fr),
            frame_put(Fr, E),
            E
    end.

frame_new(Fr) ->
    {K, T} = frame1(Fr),
    {erlang:unique_integer([positive]), K, T}.

frame_put(Key, V) ->
    case get('$frames') of
        {N, _} when N >= ?FRAME_LIMIT -> put('$frames', {1, #{Key => V}});
        {N, Frames} -> put('$frames', {N + 1, Frames#{Key => V}})
    end.

frame1({M, F, A, Loc}) when is_atom(M), is_atom(F) ->
    Ar = arity(A),
    File = case is_list(Loc) andalso lists:keyfind(file, 1, Loc) of
               {file, Fl} when is_list(Fl) -> chars_utf8(Fl);
               {file, Fl} when is_binary(Fl) -> Fl;
               _ -> none
           end,
    Line = case is_list(Loc) andalso lists:keyfind(line, 1, Loc) of
               {line, L} when is_integer(L) -> L;
               _ -> none
           end,
    FileText = case File of none -> <<(a2b(M))/binary, ".erl">>; _ -> File end,
    LineText = case Line of none -> <<>>; _ -> <<$;, (integer_to_binary(Line))/binary>> end,
    {{M, F, Ar}, iolist_to_binary([mfa_text(M, F, Ar), LineText, <<" (">>, FileText, <<")">>])};
frame1({M, F, A}) when is_atom(M), is_atom(F) ->
    Ar = arity(A),
    {{M, F, Ar}, iolist_to_binary([mfa_text(M, F, Ar), <<" (">>, a2b(M), <<".erl)">>])};
frame1(_) ->
    throw({skip, "malformed frame"}).

arity(A) when is_integer(A) -> A;
arity(A) when is_list(A) -> length(A).

a2b(A) -> atom_to_binary(A, utf8).

mfa_text(M, F, A) -> [a2b(M), $:, a2b(F), $/, integer_to_binary(A)].

%% A charlist as UTF-8: list_to_binary when every character is ASCII.
chars_utf8(L) ->
    case ascii(L) of
        true -> list_to_binary(L);
        false ->
            case unicode:characters_to_binary(L) of
                B when is_binary(B) -> B;
                _ -> throw({skip, "file name is not Unicode text"})
            end
    end.

same([C | T], <<C, R/binary>>) -> same(T, R);
same([], <<>>) -> true;
same(_, _) -> false.

ascii([C | T]) when is_integer(C), C >= 0, C < 128 -> ascii(T);
ascii([]) -> true;
ascii(_) -> false.

%%====================================================================
%% Event line
%%====================================================================

%% "COMM\tPID [000] ", cached per node, status and pid.
event_prefix(Node, S, Pid) ->
    K = {Node, S, Pid},
    case get(K) of
        undefined ->
            B = <<(a2b(S))/binary, $\t, (pid_text(Pid, Node))/binary, " [000] ">>,
            put(K, B),
            B;
        B -> B
    end.

%% Pid text as pid_to_list on the sampled node, without < >.
pid_text(Pid, Node) ->
    case {node(Pid) =:= Node orelse Node =:= undefined, term_to_binary(Pid)} of
        {true, <<131, 88, _/binary>> = B} ->
            Skip = byte_size(B) - 12,
            <<_:Skip/binary, Id:32, Serial:32, _Creation:32>> = B,
            <<"0.", (integer_to_binary(Id))/binary, ".", (integer_to_binary(Serial))/binary>>;
        _ ->
            "<" ++ R = pid_to_list(Pid),
            list_to_binary(lists:droplast(R))
    end.

time_text(W) when W >= 0 ->
    U = W rem 1000000,
    <<(integer_to_binary(W div 1000000))/binary, $., (pad6(U))/binary>>;
time_text(W) ->
    iolist_to_binary(io_lib:format("~B.~6..0B", [W div 1000000, W rem 1000000])).

pad6(U) when U >= 100000 -> integer_to_binary(U);
pad6(U) when U >= 10000 -> <<"0", (integer_to_binary(U))/binary>>;
pad6(U) when U >= 1000 -> <<"00", (integer_to_binary(U))/binary>>;
pad6(U) when U >= 100 -> <<"000", (integer_to_binary(U))/binary>>;
pad6(U) when U >= 10 -> <<"0000", (integer_to_binary(U))/binary>>;
pad6(U) -> <<"00000", (integer_to_binary(U))/binary>>.

%%====================================================================
%% Stats: flameconv stats' per-sample work (counts, statuses, deltas, the
%% frame block of each stack, samples and reductions delta per stack)
%%====================================================================

stats_init(Streams) ->
    [put({st, I}, #{ticks => 0, first => none, last => none, files => []})
     || #cap{idx = I} <- Streams],
    ok.

stats_tick(Wall, Idx) ->
    St = #{ticks := T} = get({st, Idx}),
    First = case St of #{first := none} -> Wall; #{first := F} -> F end,
    put({st, Idx}, St#{ticks := T + 1, first := First, last := Wall}).

%% Per sample: its status counted, its stack's samples and reductions delta.
stats_sample(Idx, S, Block, DR) ->
    SK = {sts, Idx, S},
    case get(SK) of
        undefined -> put(SK, 1);
        C -> put(SK, C + 1)
    end,
    case Block of
        none -> ok;
        _ ->
            K = {stk, Idx, Block},
            case get(K) of
                undefined -> put(K, {1, DR});
                {C1, RS} -> put(K, {C1 + 1, RS + DR})
            end
    end.

stats_file(#cap{idx = Idx, file = F, trailer = Tr}, stats) ->
    St = #{files := Fs} = get({st, Idx}),
    put({st, Idx}, St#{files := [{F, Tr} | Fs]});
stats_file(_, _) -> ok.

stats_report(Captures) ->
    All = get(),
    iolist_to_binary(
      [begin
           #{ticks := T, first := First, last := Last, files := Fs} = get({st, I}),
           H = case Files of [F0 | _] -> F0; [] -> #{} end,
           Procs = length([x || {{Ix, P}, _} <- All, Ix =:= I, is_pid(P)]),
           Metrics = metrics_seen(I, All),
           Sts = lists:reverse(lists:keysort(2, [{S, C} || {{sts, Ix, S}, C} <- All, Ix =:= I])),
           N = lists:sum([C || {_, C} <- Sts]),
           Mine = [{B, C, RS} || {{stk, Ix, B}, {C, RS}} <- All, Ix =:= I],
           BySamples = lists:sublist(lists:reverse(lists:sort([{C, RS, B} || {B, C, RS} <- Mine])), 10),
           ByReds = lists:sublist(lists:reverse(lists:sort([{RS, C, B} || {B, C, RS} <- Mine])), 10),
           io_lib:format("capture    ~ts~nnode       ~p  (OTP ~ts, ~ts, every ~p ms)~n"
                         "span       ~s to ~s~nticks      ~B~nsamples    ~B~nprocesses  ~B~n"
                         "files      ~B~n~ts"
                         "metrics    ~ts~nstatuses   ~ts~n~n"
                         "top ~B stacks by samples:~n~ts~ntop ~B stacks by reductions delta:~n~ts~n",
                         [Id, maps:get(node, H, '?'), maps:get(otp_release, H, <<"?">>),
                          maps:get(agent, H, <<"unknown agent">>), maps:get(sample_interval_ms, H, '?'),
                          span_text(First), span_text(Last), T, N, Procs, length(Fs),
                          [io_lib:format("  seq ~B  ~ts~ts~n", [S, P, case Tr of true -> ""; _ -> "  (cut short)" end])
                           || {#{seq := S, path := P}, Tr} <- lists:reverse(Fs)],
                          lists:join(", ", Metrics),
                          lists:join(", ", [[a2b(S), " ", integer_to_binary(C)] || {S, C} <- Sts]),
                          length(BySamples), [stack_line(C, B) || {C, _, B} <- BySamples],
                          length(ByReds), [stack_line(RS, B) || {RS, _, B} <- ByReds]])
       end || {I, {Id, Files}} <- lists:zip(lists:seq(1, length(Captures)), Captures)]).

span_text(none) -> "-";
span_text(W) -> time_text(W).

stack_line(N, Block) ->
    Frames = [F || <<"\tffffffff ", F/binary>> <- binary:split(Block, <<"\n">>, [global])],
    io_lib:format("  ~12B  ~ts~n", [N, lists:join(";", lists:reverse(Frames))]).

metrics_seen(I, All) ->
    Names = lists:usort(lists:append(
                          [case V of
                               {_, _, _, _, GI, _, _} -> [K || {K, _} <- GI];
                               #{} -> maps:keys(V);
                               _ -> []
                           end || {{Ix, P}, V} <- All, Ix =:= I, is_pid(P)])),
    [a2b(K) || K <- [reductions, message_queue_len, memory, total_heap_size, minor_gcs]
                   ++ (Names -- [reductions, message_queue_len, memory, total_heap_size, minor_gcs])].

%%====================================================================
%% Inspect: every term, one per line
%%====================================================================

inspect(Files, OutPath, Fmt) ->
    Out = open_out(OutPath),
    {Out1, Status} = lists:foldl(fun(F, {O, St}) ->
                                         case inspect_file(F, O, Fmt) of
                                             {ok, O1} -> {O1, St};
                                             {bad, O1} -> {O1, 1}
                                         end
                                 end, {Out, 0}, Files),
    close_out(Out1),
    Status.

inspect_file(Path, Out, Fmt) ->
    case src_open(Path, ?CHUNK) of
        {ok, Src} -> inspect_terms(next_term(Src), Out, Fmt);
        {error, Why} -> warn("~ts: ~s", [Path, Why]), {bad, Out}
    end.

inspect_terms({{term, T, _}, Src}, Out, Fmt) ->
    Chars = io_lib:format(Fmt, [T]),
    Bin = try iolist_to_binary(Chars)
          catch error:badarg -> unicode:characters_to_binary(Chars)
          end,
    inspect_terms(next_term(Src), out_add(Out, Bin), Fmt);
inspect_terms({eof, Src}, Out, _Fmt) ->
    src_close(Src),
    {ok, Out};
inspect_terms({{bad, Off, Why}, Src = #src{path = P}}, Out, _Fmt) ->
    src_close(Src),
    warn("~ts: ~s at byte ~B", [P, Why, Off]),
    {bad, Out}.

%%====================================================================
%% Output: gathered into ~1 MB writes on a raw file
%%====================================================================

open_out(none) ->
    %% A raw file on fd 1 (append: never truncates what the shell opened).
    case file:open("/dev/stdout", [append, raw, binary]) of
        {ok, Fd} -> #out{fd = Fd};
        {error, _} -> #out{fd = standard_io}
    end;
open_out(Path) ->
    Tmp = Path ++ ".partial",
    {ok, Fd} = file:open(Tmp, [write, raw, binary]),
    Z = case lists:suffix(".gz", Path) of
            true ->
                Z0 = zlib:open(),
                ok = zlib:deflateInit(Z0, 6, deflated, 16 + 15, 8, default),
                Z0;
            false -> none
        end,
    #out{fd = Fd, z = Z, path = Path, tmp = Tmp}.

out_add(Out = #out{buf = Buf, size = Size}, Bin) ->
    Size1 = Size + byte_size(Bin),
    case Size1 >= ?OUT_CHUNK of
        true -> out_flush(Out#out{buf = [Buf | Bin], size = Size1});
        false -> Out#out{buf = [Buf | Bin], size = Size1}
    end.

out_flush(Out = #out{size = 0}) -> Out;
out_flush(Out = #out{fd = Fd, z = Z, buf = Buf}) ->
    Data = case Z of
               none -> Buf;
               _ -> zlib:deflate(Z, Buf, none)
           end,
    write(Fd, Data),
    Out#out{buf = [], size = 0}.

write(standard_io, Data) -> io:put_chars(standard_io, Data);
write(Fd, Data) ->
    case file:write(Fd, Data) of
        ok -> ok;
        {error, epipe} -> halt(0);  % a reader that stopped early (| head)
        {error, Why} -> warn("write error: ~p", [Why]), halt(1)
    end.

close_out(Out) ->
    #out{fd = Fd, z = Z, path = Path, tmp = Tmp} = out_flush(Out),
    case Z of
        none -> ok;
        _ ->
            write(Fd, zlib:deflate(Z, [], finish)),
            ok = zlib:deflateEnd(Z),
            zlib:close(Z)
    end,
    case Path of
        none -> ok;
        _ ->
            ok = file:sync(Fd),
            ok = file:close(Fd),
            ok = file:rename(Tmp, Path)
    end.

%%====================================================================
%% Byte sources: raw (large reads) or gzip (the oracle's chunks)
%%====================================================================

src_open(Path, Chunk) ->
    case file:open(Path, [read, raw, binary]) of
        {ok, Fd} ->
            case file:read(Fd, 4) of
                {ok, <<16#1F, 16#8B, _/binary>> = B} ->
                    Z = zlib:open(),
                    ok = zlib:inflateInit(Z, 31),
                    sniff(#src{fd = Fd, path = Path, chunk = Chunk, kind = gzip, z = Z,
                               pending = B, crc = erlang:crc32(<<>>)});
                {ok, <<16#28, 16#B5, 16#2F, 16#FD>>} ->
                    file:close(Fd),
                    bump(zstd_files_skipped),
                    {error, "zstd-compressed: not supported (OTP 25 has no zstd); "
                            "decompress it with `zstd -d` first"};
                {ok, B} ->
                    sniff(#src{fd = Fd, path = Path, chunk = Chunk, buf = B});
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
        #src{buf = <<131, _/binary>>} -> {ok, Src1#src{framing = concat}};
        _ -> {ok, Src1}
    end.

src_close(#src{fd = Fd, z = Z}) ->
    file:close(Fd),
    case Z of
        undefined -> ok;
        _ -> catch zlib:close(Z)
    end,
    ok.

src_where(#src{kind = gzip}) -> " of the decompressed stream";
src_where(_) -> "".

%% At least N bytes in buf, or eof. A read asks for at most 16 chunks: a
%% damaged length may claim gigabytes.
fill(S = #src{buf = B}, N) when byte_size(B) >= N -> S;
fill(S = #src{eof = true}, _N) -> S;
fill(S = #src{kind = raw, fd = Fd, buf = B, chunk = Chunk}, N) ->
    case file:read(Fd, min(max(Chunk, N - byte_size(B)), 16 * Chunk)) of
        {ok, More} -> fill(S#src{buf = <<B/binary, More/binary>>}, N);
        eof -> S#src{eof = true};
        {error, R} -> warn("~ts: read error ~p", [S#src.path, R]), S#src{eof = true}
    end;
fill(S = #src{kind = gzip, buf = B}, N) ->
    case gz_more(S) of
        {eof, S1} -> S1#src{eof = true};
        {More, S1} -> fill(S1#src{buf = <<B/binary, More/binary>>}, N)
    end.

gz_read(Fd) ->
    case file:read(Fd, ?GZ_CHUNK) of
        {ok, D} -> D;
        _ -> eof
    end.

%% The oracle's gzip reader: zlib:safeInflate drops the input after the end
%% of a member, so a member's end is found by its trailer (CRC32 and size of
%% what it produced) and inflation restarts after it: concatenated members
%% read as one stream.
gz_more(S = #src{done = true}) -> {eof, S};
gz_more(S = #src{fd = Fd, pending = P, open = Open, path = Path}) ->
    In = case P of <<>> -> gz_read(Fd); _ -> P end,
    case In of
        eof when Open ->
            warn("~ts: gzip stream ends inside a member (truncated)", [Path]),
            bump(gzip_truncated),
            {eof, S#src{done = true}};
        eof ->
            {eof, S#src{done = true}};
        <<16#1F, 16#8B, _/binary>> -> gz_feed(S, In);
        _ when Open -> gz_feed(S, In);
        <<16#1F>> ->
            case gz_read(Fd) of
                eof -> gz_garbage(S, In);
                More -> gz_more(S#src{pending = <<In/binary, More/binary>>})
            end;
        _ -> gz_garbage(S, In)
    end.

gz_garbage(S = #src{path = Path}, In) ->
    case In =:= <<0:(byte_size(In) * 8)>> of
        true -> ok;
        false -> warn("~ts: bytes after the last gzip member are not gzip; ignored", [Path]),
                 bump(gzip_trailing_garbage)
    end,
    {eof, S#src{done = true, pending = <<>>}}.

gz_feed(S = #src{z = Z, prev = Prev, path = Path}, In) ->
    try gz_inflate(Z, zlib:safeInflate(Z, In), []) of
        Out ->
            #src{crc = C0, isize = N0} = S,
            Crc = erlang:crc32(C0, Out),
            Size = N0 + iolist_size(Out),
            Window = <<Prev/binary, In/binary>>,
            Trailer = <<Crc:32/little, (Size band 16#FFFFFFFF):32/little>>,
            S1 = case find_trailer(Window, Trailer, byte_size(Prev)) of
                     {ok, Rest} ->
                         ok = zlib:inflateReset(Z),
                         S#src{pending = Rest, prev = <<>>, crc = erlang:crc32(<<>>),
                               isize = 0, open = false};
                     error ->
                         S#src{pending = <<>>, prev = tail(Window, 16), crc = Crc,
                               isize = Size, open = true}
                 end,
            {iolist_to_binary(Out), S1}
    catch
        error:Why ->
            warn("~ts: gzip data corrupt (~p)", [Path, Why]),
            bump(gzip_corrupt),
            {eof, S#src{done = true, pending = <<>>}}
    end.

gz_inflate(Z, {continue, Out}, Acc) -> gz_inflate(Z, zlib:safeInflate(Z, []), [Acc | Out]);
gz_inflate(_Z, {finished, Out}, Acc) -> [Acc | Out].

tail(B, N) when byte_size(B) > N -> binary:part(B, byte_size(B) - N, N);
tail(B, _) -> B.

find_trailer(Window, Trailer, MinEnd) ->
    case [P + 8 || {P, 8} <- binary:matches(Window, Trailer), P + 8 > MinEnd] of
        [] -> error;
        [End | _] -> {ok, binary:part(Window, End, byte_size(Window) - End)}
    end.

%%====================================================================
%% Terms
%%====================================================================

%% -> {{term, T, Off}, Src} | {eof, Src} | {{bad, Off, Reason}, Src}
%% The fast case first: a whole frame in the buffer.
next_term(S = #src{framing = framed, buf = <<N:32, Payload:N/binary, Rest/binary>>, off = Off}) ->
    S1 = S#src{buf = Rest, off = Off + 4 + N},
    case Payload of
        <<131, _/binary>> ->
            try binary_to_term(Payload) of
                T -> {{term, T, Off}, S1}
            catch
                error:badarg -> {{bad, Off, "frame holds no valid term (corrupt)"}, S1}
            end;
        _ ->
            {{bad, Off, "frame does not start with 131 (corrupt)"}, S1}
    end;
next_term(S = #src{framing = framed, eof = false, buf = B}) ->
    Need = case B of
               <<N:32, _/binary>> -> 4 + N;
               _ -> 4
           end,
    %% fill stops short of Need only at the end of the input
    next_term(fill(S, Need));
next_term(S = #src{framing = framed, buf = B, off = Off}) ->
    case B of
        <<>> -> {eof, S};
        <<N:32, _/binary>> ->
            {{bad, Off, io_lib:format("truncated frame (length ~B, ~B bytes present)",
                                      [N, byte_size(B) - 4])}, S};
        _ ->
            {{bad, Off, io_lib:format("truncated frame length (~B bytes present)",
                                      [byte_size(B)])}, S}
    end;
next_term(S = #src{framing = concat}) ->
    S1 = fill(S, 1),
    case S1 of
        #src{buf = <<>>} -> {eof, S1};
        _ -> concat_term(S1)
    end.

concat_term(S = #src{buf = B, off = Off, eof = Eof}) ->
    case B of
        <<131, _/binary>> ->
            try binary_to_term(B, [used]) of
                {T, Used} ->
                    Rest = binary:part(B, Used, byte_size(B) - Used),
                    {{term, T, Off}, S#src{buf = Rest, off = Off + Used}}
            catch
                error:badarg when Eof ->
                    {{bad, Off, "truncated or corrupt term"}, S};
                error:badarg when byte_size(B) > ?MAX_CONCAT_TERM ->
                    {{bad, Off, "corrupt term (no end within 1 GiB)"}, S};
                error:badarg ->
                    concat_term(fill(S, 2 * byte_size(B) + S#src.chunk))
            end;
        _ ->
            {{bad, Off, "byte is not 131 where a term should start (corrupt)"}, S}
    end.
