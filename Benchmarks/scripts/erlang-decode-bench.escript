#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell +S 1:1 +A 0
%%
%% erlang-decode-bench: how fast Erlang's own binary_to_term/1 decodes the
%% frames of a flame dump, to compare flameconv's decoder against.
%%
%% Made to be fair to both sides:
%%   - the same frames: every frame of FILE (4-byte length + term), the length
%%     prefixes excluded from the byte count, as the Swift benchmark counts;
%%   - in memory: the whole file is read and split into sub-binaries first,
%%     outside the timing;
%%   - one core: the node runs with +S 1:1 (one scheduler), single-threaded
%%     as flameconv's decoder is;
%%   - each round decodes every frame once, dropping each term right away (as
%%     the Swift side reuses one Term); one warm-up round, then ROUNDS timed.
%%     Two settings: the default process heap ("default heap"), and a process
%%     whose min_heap_size already fits the largest decoded frame ("big heap"),
%%     so that garbage collection is nearly out of the picture.
%%
%% Usage: erlang-decode-bench.escript FILE [ROUNDS]     (ROUNDS default 7)
%% Prints one line per setting:
%%   erlang binary_to_term <setting>: bytes=B frames=N rounds=R best=X MB/s median=Y MB/s
%% MB = 10^6 bytes.
-mode(compile).

main([File]) ->
    main([File, "7"]);
main([File, RoundsText]) ->
    Rounds = list_to_integer(RoundsText),
    {ok, Bin} = file:read_file(File),
    Frames = split(Bin, []),
    Bytes = lists:sum([byte_size(F) || F <- Frames]),
    Schedulers = erlang:system_info(schedulers_online),
    io:format("erlang: OTP ~s, schedulers_online=~B, file ~ts~n",
              [erlang:system_info(otp_release), Schedulers, File]),
    %% Heap words of the largest decoded frame, to size the "big heap" process.
    MaxWords = lists:max([erts_debug:flat_size(binary_to_term(F)) || F <- Frames]),
    run("default heap", Frames, Bytes, Rounds, []),
    run("big heap", Frames, Bytes, Rounds, [{min_heap_size, 2 * MaxWords + 1000}]),
    halt(0);
main(_) ->
    io:format(standard_error, "usage: erlang-decode-bench.escript FILE [ROUNDS]~n", []),
    halt(2).

split(<<>>, Acc) -> lists:reverse(Acc);
split(<<N:32, T:N/binary, Rest/binary>>, Acc) -> split(Rest, [T | Acc]).

%% Rounds run in a fresh process, so the setting's heap applies and nothing
%% the script itself holds is ever scanned by its collector.
run(Setting, Frames, Bytes, Rounds, SpawnOpts) ->
    Parent = self(),
    {Pid, Ref} = spawn_opt(fun() -> Parent ! {self(), rounds(Frames, Rounds)} end,
                           [monitor | SpawnOpts]),
    receive
        {Pid, Times} ->
            receive {'DOWN', Ref, process, Pid, _} -> ok end,
            Sorted = lists:sort(Times),
            Best = hd(Sorted),
            Median = lists:nth((length(Sorted) + 1) div 2, Sorted),
            io:format("erlang binary_to_term ~s: bytes=~B frames=~B rounds=~B best=~.1f MB/s median=~.1f MB/s "
                      "(best ~.1f ms, median ~.1f ms per round)~n",
                      [Setting, Bytes, length(Frames), Rounds, mbps(Bytes, Best), mbps(Bytes, Median),
                       Best / 1.0e6, Median / 1.0e6]);
        {'DOWN', Ref, process, Pid, Why} ->
            io:format(standard_error, "benchmark process died: ~p~n", [Why]),
            halt(1)
    end.

rounds(Frames, Rounds) ->
    _ = decode_all(Frames),  % warm-up
    [begin
         T0 = erlang:monotonic_time(nanosecond),
         ok = decode_all(Frames),
         erlang:monotonic_time(nanosecond) - T0
     end || _ <- lists:seq(1, Rounds)].

decode_all([]) -> ok;
decode_all([F | Fs]) ->
    _ = binary_to_term(F),
    decode_all(Fs).

mbps(Bytes, Nanos) -> Bytes / 1.0e6 / (Nanos / 1.0e9).
