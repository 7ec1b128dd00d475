#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% Writes valid dumps of hostile shapes (docs/dump-format.md), made at test
%% time because they are large or quick to make:
%%
%%   escript hostile_dumps.escript big_tick N OUT
%%       one tick of N samples, each with every item and a real-looking
%%       stack (about 9 bytes of dump a sample once compressed)
%%   escript hostile_dumps.escript long_metric_names N OUT
%%       a first tick whose garbage_collection_info holds 64 entries with
%%       255-character names, then N ticks of small samples
%%   escript hostile_dumps.escript distinct_frames N OUT
%%       ticks whose stacks hold N distinct frames in all (a new module,
%%       function and line in every frame), 2,000 frames a sample; more
%%       distinct atoms than a node could hold, so written as raw ETF
%%
%% Every term is compressed (term_to_binary(T, [compressed])), as a real
%% agent may write them, so the dumps are small on disk.

main(["big_tick", N, Out]) ->
    Count = list_to_integer(N),
    Samples = [{pid(I rem 32768, I div 32768), items(I, stack(I rem 50), gc_info())} || I <- lists:seq(1, Count)],
    write(Out, [{samples, 1000000, Samples}]);
main(["long_metric_names", N, Out]) ->
    Ticks = list_to_integer(N),
    LongNames = [{list_to_atom(lists:duplicate(250, $m) ++ integer_to_list(100 + K)), K} || K <- lists:seq(1, 64)],
    First = {samples, 1000000, [{pid(1, 0), items(1, stack(1), LongNames)}]},
    Small = fun(T) -> {samples, 1000000 + T * 10000,
                       [{pid(P, 0), items(P, stack(P rem 5), LongNames)} || P <- lists:seq(1, 20)]} end,
    write(Out, [First | [Small(T) || T <- lists:seq(1, Ticks)]]);
main(["distinct_frames", N, Out]) ->
    %% More distinct atoms than a node's atom table holds: the stacks are
    %% spliced in as ETF bytes, in place of a placeholder atom.
    Frames = list_to_integer(N),
    PerSample = 2000,
    Samples = Frames div PerSample,
    Placeholder = 'FLAME_STACK_PLACEHOLDER',
    Tick = fun(T) ->
                   Items = items(T, stack(1), gc_info()),
                   Items1 = lists:keyreplace(current_stacktrace, 1, Items, {current_stacktrace, Placeholder}),
                   <<131, Body/binary>> = term_to_binary({samples, 1000000 + T * 10000, [{pid(1, 0), Items1}]}),
                   <<131, PlaceholderBytes/binary>> = term_to_binary(Placeholder),
                   [Before, After] = binary:split(Body, PlaceholderBytes),
                   Stack = distinct_stack_etf(T, PerSample),
                   Raw = <<Before/binary, Stack/binary, After/binary>>,
                   <<131, 80, (byte_size(Raw)):32, (zlib:compress(Raw))/binary>>
           end,
    write_raw(Out, [Tick(T) || T <- lists:seq(1, Samples)]);
main(_) ->
    io:format(standard_error, "usage: hostile_dumps.escript big_tick|long_metric_names|distinct_frames N OUT~n", []),
    halt(64).

write(Out, Ticks) ->
    Header = {flame_dump, 1, #{node => 'hostile@host', otp_release => <<"25">>,
                               started_at => 1700000000000000, monotonic_start => 0,
                               sample_interval_ms => 10, capture => <<"hostile">>,
                               seq => 0, agent => <<"hostile_dumps">>, word_size => 8}},
    Trailer = {flame_dump_end, #{ticks => length(Ticks), samples => 0}},
    {ok, F} = file:open(Out, [write, raw, binary, delayed_write]),
    [ok = file:write(F, frame(term_to_binary(T, [compressed]))) || T <- [Header | Ticks] ++ [Trailer]],
    ok = file:close(F).

%% Ticks already encoded.
write_raw(Out, Encoded) ->
    Header = {flame_dump, 1, #{node => 'hostile@host', otp_release => <<"25">>,
                               started_at => 1700000000000000, monotonic_start => 0,
                               sample_interval_ms => 10, capture => <<"hostile">>,
                               seq => 0, agent => <<"hostile_dumps">>, word_size => 8}},
    Trailer = {flame_dump_end, #{ticks => length(Encoded), samples => 0}},
    {ok, F} = file:open(Out, [write, raw, binary, delayed_write]),
    ok = file:write(F, frame(term_to_binary(Header))),
    [ok = file:write(F, frame(B)) || B <- Encoded],
    ok = file:write(F, frame(term_to_binary(Trailer))),
    ok = file:close(F).

frame(B) -> [<<(byte_size(B)):32>>, B].

pid(Id, Serial) ->
    Node = <<"hostile@host">>,
    binary_to_term(<<131, 88, 119, (byte_size(Node)), Node/binary, Id:32, Serial:32, 1:32>>).

items(I, Stack, GCInfo) ->
    [{status, lists:nth(1 + I rem 3, [running, runnable, waiting])},
     {current_function, element(1, hd(Stack))},
     {current_stacktrace, [F || {_, F} <- Stack]},
     {initial_call, {proc_lib, init_p, 5}},
     {registered_name, []},
     {reductions, 1000 + I}, {message_queue_len, I rem 7}, {memory, 2688 + I},
     {total_heap_size, 233}, {heap_size, 233}, {stack_size, 12},
     {garbage_collection, [{minor_gcs, I rem 11}]},
     {garbage_collection_info, GCInfo}].

gc_info() -> [{old_heap_block_size, 0}, {heap_block_size, 233}, {mbuf_size, 0}].

%% A stack of 8 frames as gen_server processes have them; K picks one of a few.
stack(K) ->
    M = list_to_atom("worker_" ++ integer_to_list(K)),
    [{{M, handle_call, 3}, {M, handle_call, 3, [{file, "src/worker.erl"}, {line, 40 + K}]}},
     {{gen_server, try_handle_call, 4}, {gen_server, try_handle_call, 4, [{file, "gen_server.erl"}, {line, 1149}]}},
     {{gen_server, handle_msg, 6}, {gen_server, handle_msg, 6, [{file, "gen_server.erl"}, {line, 1178}]}},
     {{proc_lib, init_p_do_apply, 3}, {proc_lib, init_p_do_apply, 3, [{file, "proc_lib.erl"}, {line, 240}]}}].

%% N frames unlike any other (a new module, function and line each), as the
%% ETF bytes of a list of {M, F, 1, [{file, "x.erl"}, {line, K}]}.
distinct_stack_etf(T, N) ->
    Frames = [begin
                  K = T * N + J,
                  M = <<"m", (integer_to_binary(K))/binary>>,
                  F = <<"f", (integer_to_binary(K))/binary>>,
                  <<131, Location/binary>> = term_to_binary([{file, "x.erl"}, {line, K}]),
                  <<104, 4, 119, (byte_size(M)), M/binary, 119, (byte_size(F)), F/binary, 97, 1, Location/binary>>
              end || J <- lists:seq(1, N)],
    iolist_to_binary([<<108, N:32>>, Frames, <<106>>]).
