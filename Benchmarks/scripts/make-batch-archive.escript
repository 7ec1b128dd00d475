#!/usr/bin/env escript
%% Captures for the batch benchmark (run-batch-bench.sh): COUNT captures made
%% from real dump files (the agent's, the synthetic generator's), each its own
%% capture id, rotated into 1 to 3 files with a header and trailer each, as
%% the agent rotates. Writes plain framed files OUT/cap-I/bench-I-SEQ.flame;
%% the shell script then compresses and packs them.
%%
%%   make-batch-archive.escript OUT COUNT MAX_BYTES SOURCE.flame...
%%
%% Each capture takes the first ticks of its source (round robin over the
%% sources) up to MAX_BYTES of frames, so the archive's size is known in
%% advance whatever the sources' sizes (a source whose first tick is larger
%% gives captures of that one tick).
-mode(compile).

main([Out, CountText, MaxText | Sources]) ->
    Count = list_to_integer(CountText),
    Max = list_to_integer(MaxText),
    Parsed = [parse(S, Max) || S <- Sources],
    lists:foreach(fun(I) -> capture(Out, I, lists:nth(1 + I rem length(Parsed), Parsed)) end,
                  lists:seq(0, Count - 1)).

parse(Path, Max) ->
    {ok, Bin} = file:read_file(Path),
    [HeaderFrame | Rest] = frames(Bin, []),
    {flame_dump, 1, Meta} = binary_to_term(HeaderFrame),
    Ticks = take([F || F <- Rest, is_tick(F)], Max, []),
    {Meta, Ticks}.

is_tick(Frame) ->
    case binary_to_term(Frame) of
        {samples, _, _} -> true;
        _ -> false
    end.

%% At least one tick, however large.
take([], _, Acc) -> lists:reverse(Acc);
take([F | Rest], Left, []) -> take(Rest, Left - byte_size(F) - 4, [F]);
take([F | Rest], Left, Acc) when byte_size(F) + 4 =< Left -> take(Rest, Left - byte_size(F) - 4, [F | Acc]);
take(_, _, Acc) -> lists:reverse(Acc).

frames(<<N:32, T:N/binary, Rest/binary>>, Acc) -> frames(Rest, [T | Acc]);
frames(_, Acc) -> lists:reverse(Acc).

capture(Out, I, {Meta, Ticks}) ->
    Files = 1 + I rem 3,
    Id = iolist_to_binary(io_lib:format("bench-~4..0B", [I])),
    Dir = filename:join(Out, io_lib:format("cap-~4..0B", [I])),
    ok = filelib:ensure_path(Dir),
    Per = max(1, (length(Ticks) + Files - 1) div Files),
    Chunks = chunks(Ticks, Per),
    lists:foreach(
      fun({Seq, Chunk}) ->
              Header = term_to_binary({flame_dump, 1, Meta#{capture => Id, seq => Seq}}),
              Reason = case Seq =:= length(Chunks) - 1 of true -> stopped; false -> rotated end,
              Samples = lists:sum([length(element(3, binary_to_term(T))) || T <- Chunk]),
              Trailer = term_to_binary({flame_dump_end, #{reason => Reason, ticks => length(Chunk), samples => Samples}}),
              Name = filename:join(Dir, io_lib:format("bench-~4..0B-~B.flame", [I, Seq])),
              ok = file:write_file(Name, [frame(F) || F <- [Header | Chunk] ++ [Trailer]])
      end,
      lists:zip(lists:seq(0, length(Chunks) - 1), Chunks)).

chunks([], _) -> [];
chunks(List, N) when length(List) =< N -> [List];
chunks(List, N) -> {A, B} = lists:split(N, List), [A | chunks(B, N)].

frame(T) -> [<<(byte_size(T)):32>>, T].
