#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell +A 0
%%
%% verify-synth: checks that Erlang reads a dumpsynth file as a flame dump and
%% that every frame is byte for byte what term_to_binary writes for its term:
%%
%%   - the file is 4-byte big-endian length + one external term, to the end;
%%   - binary_to_term reads every frame, and term_to_binary (with the minor
%%     version the file was written with: 1 for OTP 25's default atoms, 2 for
%%     OTP 26's) gives back exactly the frame's bytes;
%%   - header {flame_dump, 1, Meta} first with the spec's keys, trailer
%%     {flame_dump_end, #{ticks, samples}} last with the right counts;
%%   - every {samples, Ts, [{Pid, Items}]}: Ts non-decreasing, pids of the
%%     header's node, the 14 items in the agent's order, stack frames
%%     {M, F, Arity, []} or {M, F, Arity, [{file, Chars}, {line, N}]},
%%     current_function the top frame's MFA, 5 to 40 frames, a max_heap_size
%%     map in garbage_collection, dictionary cut down to the agent's keys;
%%   - {system, Ts, Info} terms with the usual keys.
%%
%% Usage: verify-synth.escript FILE...   (exit 1 on the first violation)
-mode(compile).

-define(ITEMS, [status, current_function, current_stacktrace, initial_call,
                registered_name, reductions, message_queue_len, memory,
                total_heap_size, heap_size, stack_size, garbage_collection,
                garbage_collection_info, dictionary]).
-define(HEADER_KEYS, [node, otp_release, started_at, monotonic_start,
                      sample_interval_ms, capture, seq, agent]).

main([]) ->
    io:format(standard_error, "usage: verify-synth.escript FILE...~n", []),
    halt(2);
main(Files) ->
    lists:foreach(fun check_file/1, Files),
    io:format("OK: ~B file(s)~n", [length(Files)]),
    halt(0).

check_file(File) ->
    {ok, Bin} = file:read_file(File),
    Frames = split(Bin, 0, []),
    [First | _] = Frames,
    Opts = t2b_opts(First),
    St0 = #{file => File, opts => Opts, n => 0, ticks => 0, samples => 0,
            system => 0, last_ts => undefined, node => undefined,
            depth_min => 1000, depth_max => 0, depth_sum => 0,
            mfas => #{}, pids => #{}, header => false, trailer => undefined},
    St = lists:foldl(fun check_frame/2, St0, Frames),
    #{ticks := Ticks, samples := Samples, trailer := Trailer} = St,
    case Trailer of
        #{ticks := Ticks, samples := Samples} -> ok;
        _ -> fail(St, "trailer ~0p does not match ~B ticks, ~B samples", [Trailer, Ticks, Samples])
    end,
    #{depth_min := DMin, depth_max := DMax, depth_sum := DSum, mfas := Mfas, pids := Pids} = St,
    io:format("~ts: ~B bytes, ~B frames, round trip exact (term_to_binary ~0p), "
              "ticks=~B samples=~B system=~B pids=~B stack depth min=~B avg=~.1f max=~B "
              "distinct MFAs=~B~n",
              [File, byte_size(Bin), length(Frames), Opts, Ticks, Samples,
               maps:get(system, St), maps:size(Pids), DMin, DSum / max(1, Samples), DMax,
               maps:size(Mfas)]).

%% Minor version 2 writes every atom as UTF-8: the header's first atom tells.
t2b_opts({_, <<131, 104, 3, 100, _/binary>>}) -> [];
t2b_opts({_, <<131, 104, 3, 119, _/binary>>}) -> [{minor_version, 2}];
t2b_opts({Off, _}) -> erlang:error({not_a_flame_dump_header, Off}).

split(<<>>, _Off, Acc) ->
    lists:reverse(Acc);
split(<<N:32, T:N/binary, Rest/binary>>, Off, Acc) ->
    split(Rest, Off + 4 + N, [{Off + 4, T} | Acc]);
split(Rest, Off, _Acc) ->
    io:format("VIOLATION: truncated frame at offset ~B (~B bytes left)~n", [Off, byte_size(Rest)]),
    halt(1).

check_frame({Off, Bin}, #{opts := Opts, n := N} = St0) ->
    St = St0#{off => Off},
    Term = try binary_to_term(Bin)
           catch C:R -> fail(St, "binary_to_term failed: ~p:~p", [C, R])
           end,
    case term_to_binary(Term, Opts) of
        Bin -> ok;
        Other -> fail(St, "term_to_binary gives other bytes (~B vs ~B bytes, first difference at ~B)",
                      [byte_size(Other), byte_size(Bin), first_diff(Other, Bin, 0)])
    end,
    check_term(Term, St#{n := N + 1}).

first_diff(<<X, A/binary>>, <<X, B/binary>>, I) -> first_diff(A, B, I + 1);
first_diff(_, _, I) -> I.

check_term({flame_dump, 1, Meta}, #{n := 1} = St) when is_map(Meta) ->
    [fail(St, "header lacks ~p", [K]) || K <- ?HEADER_KEYS, not maps:is_key(K, Meta)],
    #{node := Node, otp_release := Rel, capture := Cap, agent := Agent} = Meta,
    true = is_atom(Node) andalso is_binary(Rel) andalso is_binary(Cap) andalso is_binary(Agent),
    St#{header := true, node := Node, last_ts := maps:get(monotonic_start, Meta)};
check_term(_, #{n := 1} = St) ->
    fail(St, "the first term is not a flame_dump header", []);
check_term({samples, Ts, Samples}, #{last_ts := Last, trailer := undefined} = St) when is_integer(Ts), is_list(Samples) ->
    Ts >= Last orelse fail(St, "Ts ~B goes back (last ~B)", [Ts, Last]),
    St1 = lists:foldl(fun check_sample/2, St, Samples),
    St1#{last_ts := Ts, ticks := maps:get(ticks, St1) + 1};
check_term({system, Ts, Info}, #{trailer := undefined} = St) when is_integer(Ts), is_map(Info) ->
    [fail(St, "system info lacks ~p", [K]) || K <- [run_queue, process_count, total_memory], not maps:is_key(K, Info)],
    St#{system := maps:get(system, St) + 1};
check_term({flame_dump_end, Stats}, #{trailer := undefined} = St) when is_map(Stats) ->
    St#{trailer := Stats};
check_term(Other, St) ->
    fail(St, "unexpected term ~P", [Other, 8]).

check_sample({Pid, Items}, #{node := Node} = St) when is_pid(Pid), is_list(Items) ->
    node(Pid) =:= Node orelse fail(St, "pid ~p is not of node ~p", [Pid, Node]),
    Keys = [K || {K, _} <- Items],
    Keys =:= ?ITEMS orelse fail(St, "items ~p", [Keys]),
    Status = item(status, Items),
    lists:member(Status, [waiting, running, runnable, garbage_collecting, suspended, exiting])
        orelse fail(St, "status ~p", [Status]),
    Stack = item(current_stacktrace, Items),
    Depth = length(Stack),
    (Depth >= 5 andalso Depth =< 40) orelse fail(St, "stack depth ~B", [Depth]),
    Mfas = lists:foldl(fun(Frame, Acc) -> check_frame_shape(Frame, St), Acc#{mfa(Frame) => true} end,
                       maps:get(mfas, St), Stack),
    item(current_function, Items) =:= mfa(hd(Stack))
        orelse fail(St, "current_function ~p is not the top frame", [item(current_function, Items)]),
    {M, F, A} = item(initial_call, Items),
    true = is_atom(M) andalso is_atom(F) andalso is_integer(A),
    Reg = item(registered_name, Items),
    (Reg =:= [] orelse is_atom(Reg)) orelse fail(St, "registered_name ~p", [Reg]),
    [is_integer(item(K, Items)) andalso item(K, Items) >= 0 orelse fail(St, "~p ~p", [K, item(K, Items)])
     || K <- [reductions, message_queue_len, memory, total_heap_size, heap_size, stack_size]],
    #{error_logger := _, kill := _, size := _} = item(max_heap_size, item(garbage_collection, Items)),
    [true = is_integer(V) || {_, V} <- item(garbage_collection_info, Items)],
    Dict = item(dictionary, Items),
    [lists:member(K, ['$initial_call', '$ancestors', '$process_label']) orelse fail(St, "dictionary key ~p", [K])
     || {K, _} <- Dict],
    St#{samples := maps:get(samples, St) + 1, mfas := Mfas,
        pids := (maps:get(pids, St))#{Pid => true},
        depth_min := min(Depth, maps:get(depth_min, St)),
        depth_max := max(Depth, maps:get(depth_max, St)),
        depth_sum := Depth + maps:get(depth_sum, St)};
check_sample(Other, St) ->
    fail(St, "sample ~P", [Other, 6]).

check_frame_shape({M, F, A, []}, _St) when is_atom(M), is_atom(F), is_integer(A) -> ok;
check_frame_shape({M, F, A, [{file, File}, {line, L}]}, St) when is_atom(M), is_atom(F), is_integer(A), is_integer(L) ->
    io_lib:printable_latin1_list(File) orelse fail(St, "file ~p", [File]);
check_frame_shape(Frame, St) ->
    fail(St, "stack frame ~p", [Frame]).

mfa({M, F, A, _}) -> {M, F, A}.

item(K, Items) ->
    {K, V} = lists:keyfind(K, 1, Items),
    V.

fail(#{file := File} = St, Fmt, Args) ->
    io:format("VIOLATION: ~ts frame ~B (offset ~B): " ++ Fmt ++ "~n",
              [File, maps:get(n, St), maps:get(off, St, 0) | Args]),
    halt(1).
