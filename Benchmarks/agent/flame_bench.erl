%% Overhead benchmark for flame_agent. Driven by agent_overhead.sh; every
%% entry point prints plain lines that the script collects.
%%
%%   micro(Dir)   (a) cost of one sample: microseconds per process_info call
%%                with the agent's item list, by kind of process, and the
%%                agent's real per-tick cost for N processes.
%%   job(Mode, Dir) (b) a fixed CPU-bound job on a fresh node, with or without
%%                the agent; prints one RESULT line.
%%   report(ResultsFile) turns RESULT lines into a markdown table.
-module(flame_bench).
-export([micro/1, job/1, report/1]).

-define(ITEMS, [status, current_function, current_stacktrace, initial_call,
                registered_name, reductions, message_queue_len, memory,
                total_heap_size, heap_size, stack_size, garbage_collection,
                garbage_collection_info]).

%%--------------------------------------------------------------------
%% (a) micro
%%--------------------------------------------------------------------

micro([Dir]) ->
    _ = erlang:system_flag(backtrace_depth, 64),
    io:format("### process_info cost per call (backtrace_depth 64)~n~n"),
    io:format("| process | items | us/call | ETF bytes/sample |~n"
              "| --- | --- | ---: | ---: |~n"),
    Kinds = [{"idle plain (receive)", fun idle/0},
             {"idle gen_server", fun gen_server_like/0},
             {"64+ frames (250-deep mutual recursion)", fun() -> deep_a(250) end},
             {"busy (fib loop, running)", fun busy/0},
             {"plain, 1000-key dictionary", fun big_dict/0}],
    lists:foreach(fun({Name, F}) -> micro_kind(Name, F) end, Kinds),
    io:format("~n### agent tick cost for N processes (select all, interval 100 ms, 3 s)~n~n"),
    io:format("| N processes sampled | compressed | tick avg (us) | tick max (us) | us/process | bytes/tick |~n"
              "| ---: | --- | ---: | ---: | ---: | ---: |~n"),
    [tick_cost(N, C, Dir) || {N, C} <- [{10, false}, {100, false}, {1000, false},
                                       {1000, true}, {5000, false}]],
    halt(0).

micro_kind(Name, F) ->
    P = spawn(F),
    timer:sleep(50),
    Calls = 20000,
    %% Warm up, then time.
    _ = [erlang:process_info(P, ?ITEMS) || _ <- lists:seq(1, 100)],
    {T1, _} = timer:tc(fun() -> loop(Calls, P, ?ITEMS) end),
    {T2, _} = timer:tc(fun() -> loop(Calls, P, ?ITEMS ++ [dictionary]) end),
    %% What the agent writes: the items plus the cut-down dictionary.
    Size = byte_size(term_to_binary({P, erlang:process_info(P, ?ITEMS) ++
                                         [{dictionary, [{'$initial_call', {m, f, 1}}]}]})),
    io:format("| ~s | 13 items (dictionary cached) | ~.2f | ~B |~n", [Name, T1 / Calls, Size]),
    io:format("| ~s | 13 items + full dictionary | ~.2f | |~n", [Name, T2 / Calls]),
    exit(P, kill).

loop(0, _, _) -> ok;
loop(N, P, Items) -> _ = erlang:process_info(P, Items), loop(N - 1, P, Items).

idle() -> receive stop -> ok end.

gen_server_like() ->
    %% A proc_lib process waiting in a receive, like an idle gen_server.
    proc_lib:init_p(self(), [], fun() -> idle() end).

deep_a(0) -> receive stop -> 0 end;
deep_a(N) -> 1 + deep_b(N - 1).
deep_b(0) -> receive stop -> 0 end;
deep_b(N) -> 1 + deep_a(N - 1).

busy() -> _ = fib(20), busy().
fib(N) when N < 2 -> N;
fib(N) -> fib(N - 1) + fib(N - 2).

big_dict() ->
    [put({key, I}, I) || I <- lists:seq(1, 1000)],
    idle().

tick_cost(N, Compressed, Dir) ->
    Base = length(erlang:processes()),
    Extra = max(0, N - Base),
    Ps = [spawn(case I rem 4 of
                    0 -> fun gen_server_like/0;
                    _ -> fun idle/0
                end) || I <- lists:seq(1, Extra)],
    Select = case N < Base of
                 true -> {top, N};
                 false -> all
             end,
    {ok, _} = flame_agent:start(#{dir => Dir, select => Select, interval_ms => 100,
                                  max_procs_per_tick => 10000,
                                  system_interval_ms => 0, compressed => Compressed}),
    timer:sleep(3000),
    S = flame_agent:status(),
    ok = flame_agent:stop(),
    #{ticks := T, samples := Sm, tick_us_avg := Avg, tick_us_max := Max,
      bytes := B} = S,
    PerTick = Sm / max(1, T),
    io:format("| ~B | ~p | ~B | ~B | ~.2f | ~B |~n",
              [round(PerTick), Compressed, Avg, Max, Avg / max(1, PerTick),
               B div max(1, T)]),
    [exit(P, kill) || P <- Ps],
    timer:sleep(100).

%%--------------------------------------------------------------------
%% (b) a fixed job with and without the agent
%%--------------------------------------------------------------------

%% Mode: none | defaults | all. Background: 500 idle processes (100 of them
%% proc_lib), so 'all' samples ~540 processes per tick.
job([Mode, Dir, Run]) ->
    Bg = [spawn(case I rem 5 of
                    0 -> fun gen_server_like/0;
                    _ -> fun idle/0
                end) || I <- lists:seq(1, 500)],
    timer:sleep(200),
    Agent = case Mode of
                "none" -> none;
                "defaults" -> {ok, _} = flame_agent:start(#{dir => Dir}), on;
                "all" -> {ok, _} = flame_agent:start(#{dir => Dir, select => all}), on
            end,
    timer:sleep(100),
    {Cpu0, _} = erlang:statistics(runtime),
    Wall0 = erlang:monotonic_time(microsecond),
    run_job(),
    Wall = erlang:monotonic_time(microsecond) - Wall0,
    {Cpu1, _} = erlang:statistics(runtime),
    S = case Agent of
            on -> St = flame_agent:status(), ok = flame_agent:stop(), St;
            none -> #{}
        end,
    %% CPU time of the whole emulator (all threads) during the job: on a
    %% machine shared with other work, far steadier than the wall time.
    io:format("RESULT ~s ~s ~B ~p ~p ~p ~p ~p ~p~n",
              [Mode, Run, Wall div 1000, maps:get(ticks, S, 0), maps:get(samples, S, 0),
               maps:get(overruns, S, 0), maps:get(tick_us_avg, S, 0),
               maps:get(bytes, S, 0), Cpu1 - Cpu0]),
    [exit(P, kill) || P <- Bg],
    halt(0).

%% Four workers (two per core on the benchmark machine) each doing a fixed
%% amount of mixed CPU work: recursion, list building, sorting, maps.
run_job() ->
    Parent = self(),
    Ws = [spawn_link(fun() -> work(400), Parent ! {done, self()} end)
          || _ <- lists:seq(1, 4)],
    [receive {done, W} -> ok end || W <- Ws],
    ok.

work(0) -> ok;
work(N) ->
    _ = fib(22),
    L = [(I * 7919) rem 10007 || I <- lists:seq(1, 20000)],
    _ = lists:sort(L),
    _ = lists:foldl(fun(X, M) -> M#{X rem 1000 => X} end, #{}, L),
    work(N - 1).

%%--------------------------------------------------------------------
%% report
%%--------------------------------------------------------------------

report([File]) ->
    {ok, Bin} = file:read_file(File),
    Rows = [string:lexemes(L, " ") || L <- string:split(binary_to_list(Bin), "\n", all),
                                      lists:prefix("RESULT ", L)],
    ByMode = lists:foldl(fun(["RESULT", M, _Run, Ms | Rest], Acc) ->
                                 maps:update_with(M, fun(L) -> [{list_to_integer(Ms), Rest} | L] end,
                                                  [{list_to_integer(Ms), Rest}], Acc)
                         end, #{}, Rows),
    Base = median([Ms || {Ms, _} <- maps:get("none", ByMode, [{1, []}])]),
    CpuCol = fun(Rs) -> median([case R of
                                     [_, _, _, _, _, C | _] -> list_to_integer(C);
                                     _ -> 0
                                 end || {_, R} <- Rs])
             end,
    CpuBase = CpuCol(maps:get("none", ByMode, [])),
    io:format("| agent | runs | wall ms (each run) | median ms | vs none | CPU ms (median) | CPU vs none | ticks (median) | overruns (median) | tick avg us (median) | samples/tick | MB written (median) |~n"
              "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |~n"),
    lists:foreach(
      fun(M) ->
              case maps:find(M, ByMode) of
                  error -> ok;
                  {ok, Rs0} ->
                      Rs = lists:reverse(Rs0),
                      Times = [Ms || {Ms, _} <- Rs],
                      Med = median(Times),
                      Col = fun(I) -> median([list_to_integer(lists:nth(I, R)) || {_, R} <- Rs]) end,
                      Ticks = Col(1), Samples = Col(2),
                      Cpu = CpuCol(Rs),
                      io:format("| ~s | ~B | ~s | ~B | ~s | ~B | ~s | ~B | ~B | ~B | ~s | ~.2f |~n",
                                [M, length(Times),
                                 lists:join(", ", [integer_to_list(T) || T <- Times]),
                                 Med,
                                 case M of
                                     "none" -> "-";
                                     _ -> pct(100 * (Med - Base) / Base)
                                 end,
                                 Cpu,
                                 case M of
                                     "none" -> "-";
                                     _ -> pct(100 * (Cpu - CpuBase) / max(1, CpuBase))
                                 end,
                                 Ticks, Col(3), Col(4),
                                 case Ticks of 0 -> "-"; _ -> integer_to_list(Samples div Ticks) end,
                                 Col(5) / 1048576])
              end
      end, ["none", "defaults", "all"]),
    halt(0).

pct(X) when X >= 0 -> io_lib:format("+~.1f%", [X]);
pct(X) -> io_lib:format("~.1f%", [X]).

median(L) ->
    S = lists:sort(L),
    lists:nth((length(S) + 1) div 2, S).
