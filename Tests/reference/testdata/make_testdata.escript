#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% Writes the tiny hand-made dumps the reference tools are tested with
%% (docs/dump-format.md, version 1), all holding the same three ticks so that
%% every container variant must give the same text: basic.expected.perf,
%% written by hand from docs/perf-output.md's rules, is the answer for all.
%%
%%   escript make_testdata.escript OUTDIR
%%
%% The ticks exercise: current_function equal to the first stack frame,
%% recursion flattening, both initial calls (and each being left out, or
%% the dictionary's kept though equal to a written initial_call),
%% native code, file-only / line-only / no location, an argument list as
%% arity, quoted-looking atoms, negative reductions and memory deltas, the
%% minor_gcs reset, a sample missing an item (skipped; the next delta is
%% taken against the sample before it), system and unknown terms.
%% odd.flame (expected: odd.expected.perf) holds shapes a reader must
%% survive: Unicode atoms and file names, a dead process, junk, an
%% improper list, a header without capture id.

main([Out]) ->
    ok = filelib:ensure_dir(filename:join(Out, "x")),
    Ticks = ticks(),
    H = fun(Capture, Seq, StartedAt, MonoStart) ->
                {flame_dump, 1, #{node => 'test@host', otp_release => <<"25">>,
                                  started_at => StartedAt, monotonic_start => MonoStart,
                                  sample_interval_ms => 10, capture => Capture,
                                  seq => Seq, agent => <<"make_testdata">>,
                                  some_future_key => [1, 2, 3]}}
        end,
    Hdr = H(<<"basic">>, 0, 1700000000000000, -1000000),
    Trailer = {flame_dump_end, #{ticks => 3, samples => 5}},
    [T1, T2, T3] = Ticks,
    All = [Hdr, T1, {system, -876544, #{run_queue => 0, process_count => 42}},
           {some_future_term, 1}, T2, T3, Trailer],
    Framed = iolist_to_binary([frame(term_to_binary(T)) || T <- All]),
    w(Out, "basic.flame", Framed),
    %% concatenated terms, some compressed
    Concat = iolist_to_binary([term_to_binary(T, [{compressed, 9}]) || T <- [Hdr, T1]] ++
                              [term_to_binary(T) || T <- tl(tl(All))]),
    w(Out, "basic_concat.flame", Concat),
    %% framed, each term compressed
    w(Out, "basic_compressed_terms.flame",
      iolist_to_binary([frame(term_to_binary(T, [compressed])) || T <- All])),
    %% whole-file gzip, and gzip of two members split at an arbitrary byte
    w(Out, "basic.flame.gz", zlib:gzip(Framed)),
    {P1, P2} = split_binary(Framed, byte_size(Framed) div 2 + 3),
    w(Out, "basic_members.flame.gz", <<(zlib:gzip(P1))/binary, (zlib:gzip(P2))/binary>>),
    %% rotation: seq 1 is named so that it sorts first; its clock base
    %% differs but gives the same wall-clock times
    ok = filelib:ensure_dir(filename:join([Out, "rotated", "x"])),
    w(Out, "rotated/a_part.flame",
      iolist_to_binary([frame(term_to_binary(T))
                        || T <- [H(<<"rot">>, 1, 1700000000000000 + 5000, -1000000 + 5000),
                                 T2, T3, Trailer]])),
    w(Out, "rotated/b_part.flame",
      iolist_to_binary([frame(term_to_binary(T))
                        || T <- [H(<<"rot">>, 0, 1700000000000000, -1000000), T1,
                                 {flame_dump_end, #{ticks => 1, samples => 2}}]])),
    %% truncated in the middle of the last frame (no trailer either)
    NoTrailer = iolist_to_binary([frame(term_to_binary(T)) || T <- lists:droplast(All)]),
    w(Out, "truncated.flame", binary:part(NoTrailer, 0, byte_size(NoTrailer) - 7)),
    %% a second capture whose one tick falls between tick 1 and tick 2 of
    %% the first, to test the merge of captures by time
    {samples, _, [ASample | _]} = T1,
    w(Out, "other_capture.flame",
      iolist_to_binary([frame(term_to_binary(T))
                        || T <- [H(<<"other">>, 0, 1700000000000000, 0),
                                 {samples, 128456, [ASample]},
                                 Trailer]])),
    %% odd shapes: no capture id or seq in the header, Unicode atoms and
    %% file names, a binary file name, a dead process, a junk entry, an
    %% improper sample list
    Odd = pid(7, 0),
    OddItems = fun(Red) ->
                       [{status, running},
                        {current_function, {'mödül', 'fün', 0}},
                        {current_stacktrace,
                         [{'mödül', 'fün', 0, [{file, "src/mödül.erl"}, {line, 3}]},
                          {'Elixir.Foo.Bar', 'baz?', 2, [{file, <<"lib/foo/bär.ex"/utf8>>}, {line, 9}]}]},
                        {initial_call, {'Elixir.Foo.Bar', 'baz?', 2}},
                        {reductions, Red}, {message_queue_len, 0}, {memory, 10},
                        {total_heap_size, 1},
                        {garbage_collection, [{minor_gcs, 0}]},
                        {garbage_collection_info, [{heap_size, 1}, {weird, not_an_int}]}]
               end,
    w(Out, "odd.flame",
      iolist_to_binary([frame(term_to_binary(T))
                        || T <- [{flame_dump, 1, #{started_at => 1000000, monotonic_start => 0}},
                                 {samples, 500000, [{Odd, OddItems(1)}, {pid(8, 0), undefined},
                                                    junk | {Odd, OddItems(2)}]},
                                 {samples, 1500001, [{Odd, OddItems(3)}]}]])),
    ok;
main(_) ->
    io:format(standard_error, "usage: make_testdata.escript OUTDIR~n", []),
    halt(2).

frame(B) -> [<<(byte_size(B)):32>>, B].

w(Out, Name, Bin) -> ok = file:write_file(filename:join(Out, Name), Bin).

pid(Id, Serial) ->
    Node = <<"test@host">>,
    binary_to_term(<<131, 88, 119, (byte_size(Node)), Node/binary,
                     Id:32, Serial:32, 1:32>>).

gc_info(HeapBlock) ->
    [{old_heap_block_size, 0}, {heap_block_size, HeapBlock}, {mbuf_size, 0}].

gc(Minor) ->
    [{max_heap_size, #{error_logger => true, kill => true, size => 0}},
     {min_bin_vheap_size, 46422}, {min_heap_size, 233}, {fullsweep_after, 65535},
     {minor_gcs, Minor}].

ticks() ->
    A = pid(85, 0),
    B = pid(90, 2),
    Tick1 = {samples, -876544,
             [{A, [{status, running},
                   {current_function, {lists, reverse, 1}},
                   {current_stacktrace,
                    [{lists, reverse, 1, [{file, "lists.erl"}, {line, 147}]},
                     {my_mod, loop, 2, [{file, "my_mod.erl"}, {line, 10}]},
                     {my_mod, loop, 2, [{line, 12}, {file, "my_mod.erl"}]},
                     {proc_lib, init_p_do_apply, 3, [{file, "proc_lib.erl"}, {line, 240}]}]},
                   {initial_call, {proc_lib, init_p, 5}},
                   {registered_name, []},
                   {reductions, 100}, {message_queue_len, 0}, {memory, 2688},
                   {total_heap_size, 233}, {heap_size, 233}, {stack_size, 12},
                   {garbage_collection, gc(3)},
                   {garbage_collection_info, gc_info(233)},
                   {dictionary, [{'$ancestors', [self]}, {'$initial_call', {my_mod, init, 1}}]}]},
              {B, [{status, waiting},
                   {current_function, undefined},
                   {current_stacktrace, []},
                   {initial_call, {erlang, apply, 2}},
                   {registered_name, foo},
                   {reductions, 5}, {message_queue_len, 0}, {memory, 1000},
                   {total_heap_size, 100}, {heap_size, 100}, {stack_size, 2},
                   {garbage_collection, gc(0)},
                   {garbage_collection_info, gc_info(100)},
                   {dictionary, []},
                   {an_item_from_the_future, 1}]}]},
    Tick2 = {samples, -866544,
             [{A, [{status, runnable},
                   {current_function, {gen_server, loop, 7}},
                   {current_stacktrace,
                    [{gen_server, loop, 7, [{file, "gen_server.erl"}, {line, 437}]},
                     {proc_lib, init_p_do_apply, 3, []}]},
                   {initial_call, {proc_lib, init_p_do_apply, 3}},
                   {registered_name, []},
                   {reductions, 150}, {message_queue_len, 2}, {memory, 2000},
                   {total_heap_size, 233}, {heap_size, 233}, {stack_size, 12},
                   {garbage_collection, gc(5)},
                   {garbage_collection_info, gc_info(233)},
                   {dictionary, [{'$initial_call', {my_mod, init, 1}}]}]},
              {B, [{status, waiting},
                   {current_function, undefined},
                   {current_stacktrace, []},
                   {initial_call, {erlang, apply, 2}},
                   {registered_name, foo},
                   {reductions, 6}, {message_queue_len, 0},
                   {total_heap_size, 100}, {heap_size, 100}, {stack_size, 2},
                   {garbage_collection, gc(0)},
                   {garbage_collection_info, gc_info(100)},
                   {dictionary, []}]}]},
    Tick3 = {samples, -856544,
             [{A, [{status, garbage_collecting},
                   {current_function, {erlang, '+', 2}},
                   {current_stacktrace,
                    [{my_mod, 'Elixir.x', 1, [{line, 5}]},
                     {m2, f, [a, b], [{file, "src/m2.erl"}]}]},
                   {initial_call, {m2, f, 2}},
                   {registered_name, []},
                   {reductions, 90}, {message_queue_len, 0}, {memory, 2000},
                   {total_heap_size, 233}, {heap_size, 233}, {stack_size, 12},
                   {garbage_collection, gc(1)},
                   {garbage_collection_info, gc_info(233)},
                   {dictionary, [{'$initial_call', {m2, f, 2}}]}]},
              {B, [{status, waiting},
                   {current_function, {timer, sleep, 1}},
                   {current_stacktrace, [{timer, sleep, 1, [{file, "timer.erl"}, {line, 219}]}]},
                   {initial_call, {erlang, apply, 2}},
                   {registered_name, foo},
                   {reductions, 7}, {message_queue_len, 0}, {memory, 1000},
                   {total_heap_size, 100}, {heap_size, 100}, {stack_size, 2},
                   {garbage_collection, gc(0)},
                   {garbage_collection_info, gc_info(100)},
                   %% equal to a written initial_call: flame_prof writes it
                   {dictionary, [{'$initial_call', {erlang, apply, 2}}]}]}]},
    [Tick1, Tick2, Tick3].
