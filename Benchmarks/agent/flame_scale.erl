%% Scale benchmark for flame_agent: nodes of many processes, and a process
%% with a huge mailbox. Driven by agent_scale.sh; each entry point runs on a
%% fresh node and prints one RESULT line of key=value pairs.
%%
%%   procs([N, Busy, Secs, Dir, Mode])
%%       N idle processes (a quarter of them proc_lib) and Busy processes
%%       that each work ~1 ms out of every 10 (the node is not saturated).
%%       Mode: none (no agent, the baseline) | defaults (start(#{dir => Dir}))
%%       | all (select => all). Measures start/status/stop latency, the
%%       agent's memory (its process and its lister, every 100 ms, and the
%%       node's total memory against the baseline), ticks, overruns, tick
%%       cost, bytes, long schedules (erlang:system_monitor, 10 ms) caused by
%%       the agent and by anyone, and scheduler utilisation.
%%   mailbox([Secs, Dir, Select])
%%       one process with 1,000,000 queued messages among a few dozen;
%%       Select: defaults | pid (select => [ThatPid]) | pid_norule (the
%%       same with huge_mailbox_len => infinity: the rule off, to compare).
%%       Reports long schedules over 10 ms during the run, the worst
%%       lateness of a high-priority probe that sleeps 1 ms at a time (run
%%       the node with +S 1 so that a stalled scheduler is the probe's: a
%%       queue walk inside process_info is not seen by long_schedule), and
%%       what the samples of that process held.
-module(flame_scale).
-export([procs/1, mailbox/1]).

-define(ITEMS_WALKING, [memory, total_heap_size, garbage_collection_info]).

%%--------------------------------------------------------------------
%% Many processes
%%--------------------------------------------------------------------

procs([NS, BusyS, SecsS, Dir, Mode]) ->
    procs([NS, BusyS, SecsS, Dir, Mode, ""]);
procs([NS, BusyS, SecsS, Dir, Mode, Extra]) ->
    N = list_to_integer(NS),
    NBusy = list_to_integer(BusyS),
    Secs = list_to_integer(SecsS),
    Idle = spawn_idle(N),
    Busy = [spawn(fun busy/0) || _ <- lists:seq(1, NBusy)],
    garbage_collect(),
    timer:sleep(1000),
    Mon = start_monitor(),
    Base = erlang:memory(total),
    erlang:system_flag(scheduler_wall_time, true),
    SWT0 = lists:sort(erlang:statistics(scheduler_wall_time)),
    {StartUs, Agent} =
        case Mode of
            "none" -> {0, none};
            "defaults" -> start_agent(extra(Extra, #{dir => Dir}));
            "all" -> start_agent(extra(Extra, #{dir => Dir, select => all}))
        end,
    Mon ! {agent, Agent},
    {StatusUs, PeakAgent, PeakNode} = watch(Agent, Base, Secs * 1000),
    SWT1 = lists:sort(erlang:statistics(scheduler_wall_time)),
    S = case Agent of
            none -> #{};
            _ -> flame_agent:status()
        end,
    {StopUs, ok} = timer:tc(fun flame_agent:stop/0),
    garbage_collect(),
    timer:sleep(500),
    After = erlang:memory(total) - Base,
    {AgentLS, OtherLS, AgentGC, MaxLS} = monitor_report(Mon),
    Util = utilisation(SWT0, SWT1),
    #{ticks := T, overruns := O, samples := Sm, bytes := B,
      tick_us_avg := Avg, tick_us_max := TMax} =
        maps:merge(#{ticks => 0, overruns => 0, samples => 0, bytes => 0,
                     tick_us_avg => 0, tick_us_max => 0}, S),
    Pass = maps:get(pass, S, #{}),
    io:format("RESULT mode=~s~s procs=~B busy=~B secs=~B start_ms=~.1f status_ms_max=~.1f "
              "stop_ms=~.1f agent_mem_peak_mb=~.1f node_mem_peak_mb=~.1f node_mem_after_stop_mb=~.1f "
              "ticks=~B overruns=~B lost_pct=~.1f tick_us_avg=~B tick_us_max=~B "
              "samples=~B unchanged=~B skipped=~B bytes=~B bytes_per_s=~B bytes_per_sample=~B "
              "passes=~B last_pass_ms=~p long_sched_agent=~B long_sched_other=~B "
              "long_gc_agent=~B max_long_sched_ms=~B sched_util_pct=~.1f~n",
              [Mode, case Extra of "" -> ""; _ -> "," ++ Extra end, N, NBusy, Secs, StartUs / 1000, StatusUs / 1000, StopUs / 1000,
               PeakAgent / 1.0e6, PeakNode / 1.0e6, After / 1.0e6,
               T, O, 100 * O / max(1, T + O), Avg, TMax,
               Sm, maps:get(unchanged_samples, S, 0), maps:get(skipped_samples, S, 0),
               B, B div Secs, B div max(1, Sm),
               maps:get(completed, Pass, 0), maps:get(last_ms, Pass, undefined),
               AgentLS, OtherLS, AgentGC, MaxLS, Util]),
    [exit(P, kill) || P <- Busy],
    _ = Idle,
    halt(0).

%% Extra options as "key=integer,key=integer" (e.g. "max_scan_per_tick=250").
extra("", Opts) ->
    Opts;
extra(Extra, Opts) ->
    lists:foldl(fun(KV, M) ->
                        [K, V] = string:split(KV, "="),
                        M#{list_to_atom(K) => list_to_integer(V)}
                end, Opts, string:lexemes(Extra, ",")).

start_agent(Opts) ->
    {Us, {ok, Pid}} = timer:tc(fun() -> flame_agent:start(Opts) end),
    {Us, Pid}.

spawn_idle(N) ->
    [case I rem 4 of
         0 -> proc_lib:spawn(fun idle/0);
         _ -> spawn(fun idle/0)
     end || I <- lists:seq(1, N)].

idle() -> receive stop -> ok end.

%% ~1 ms of work, then a 9 ms sleep.
busy() ->
    T0 = erlang:monotonic_time(microsecond),
    spin(T0 + 1000),
    receive stop -> ok after 9 -> busy() end.

spin(Until) ->
    _ = fib(12),
    case erlang:monotonic_time(microsecond) < Until of
        true -> spin(Until);
        false -> ok
    end.

fib(N) when N < 2 -> N;
fib(N) -> fib(N - 1) + fib(N - 2).

%% Every 100 ms: the agent's memory (its own figure: process + lister +
%% buffered frames) and the node's total memory above the baseline;
%% status() every 500 ms, timed.
watch(Agent, Base, Ms) ->
    Deadline = erlang:monotonic_time(millisecond) + Ms,
    watch(Agent, Base, Deadline, 0, 0, 0, 0).

watch(Agent, Base, Deadline, K, StMax, AgMax, NodeMax) ->
    case erlang:monotonic_time(millisecond) >= Deadline of
        true ->
            {StMax, AgMax, NodeMax};
        false ->
            timer:sleep(100),
            Node = erlang:memory(total) - Base,
            {St1, Ag1} =
                case Agent =/= none andalso K rem 5 =:= 4 of
                    true ->
                        {Us, S} = timer:tc(fun flame_agent:status/0),
                        {max(StMax, Us), max(AgMax, maps:get(memory, S, 0))};
                    false ->
                        {StMax, AgMax}
                end,
            watch(Agent, Base, Deadline, K + 1, St1, Ag1, max(NodeMax, Node))
    end.

utilisation(S0, S1) ->
    {A, T} = lists:foldl(fun({{I, A0, T0}, {I, A1, T1}}, {AA, TT}) ->
                                 {AA + (A1 - A0), TT + (T1 - T0)}
                         end, {0, 0},
                         lists:zip([X || {_, _, _} = X <- S0],
                                   [X || {_, _, _} = X <- S1])),
    100 * A / max(1, T).

%% Long schedules and long GCs over 10 ms. The agent's: the agent process,
%% or any process running flame_agent code (its lister) when scheduled in
%% or out, or whose initial call is in flame_agent.
start_monitor() ->
    Parent = self(),
    Mon = spawn(fun() ->
                        erlang:system_monitor(self(), [{long_schedule, 10}, {long_gc, 10}]),
                        Parent ! monitoring,
                        mon_loop(none, [])
                end),
    receive monitoring -> Mon end.

mon_loop(Agent, Evs) ->
    receive
        {agent, A} -> mon_loop(A, Evs);
        {monitor, Pid, Kind, Info} when is_pid(Pid) ->
            Ours = Pid =:= Agent orelse ours(Info) orelse
                case erlang:process_info(Pid, initial_call) of
                    {initial_call, {flame_agent, _, _}} -> true;
                    _ -> false
                end,
            mon_loop(Agent, [{Kind, Ours, proplists:get_value(timeout, Info, 0), Pid, Info} | Evs]);
        {monitor, _Port, _Kind, _Info} ->
            mon_loop(Agent, Evs);
        {report, From} ->
            From ! {events, lists:reverse(Evs)},
            mon_loop(Agent, Evs)
    end.

ours(Info) ->
    lists:any(fun({K, {flame_agent, _, _}}) when K =:= in; K =:= out -> true;
                 (_) -> false
              end, Info).

monitor_report(Mon) ->
    erlang:system_monitor(undefined),
    Mon ! {report, self()},
    Evs = receive {events, E} -> E end,
    [io:format(standard_error, "long event: ~p~n", [Ev]) || {_, true, _, _, _} = Ev <- Evs],
    AgentLS = length([x || {long_schedule, true, _, _, _} <- Evs]),
    OtherLS = length([x || {long_schedule, false, _, _, _} <- Evs]),
    AgentGC = length([x || {long_gc, true, _, _, _} <- Evs]),
    MaxLS = lists:max([0 | [T || {long_schedule, true, T, _, _} <- Evs]]),
    {AgentLS, OtherLS, AgentGC, MaxLS}.

%%--------------------------------------------------------------------
%% A huge mailbox
%%--------------------------------------------------------------------

mailbox([SecsS, Dir, Select]) ->
    Secs = list_to_integer(SecsS),
    Others = spawn_idle(40),
    Victim = spawn(fun() -> receive never_sent -> ok end end),
    T0 = erlang:monotonic_time(millisecond),
    fill(Victim, 1000000),
    FillMs = erlang:monotonic_time(millisecond) - T0,
    {message_queue_len, Q} = erlang:process_info(Victim, message_queue_len),
    Mon = start_monitor(),
    Opts = case Select of
               "defaults" -> #{dir => Dir};
               "pid" -> #{dir => Dir, select => [Victim]};
               "pid_norule" -> #{dir => Dir, select => [Victim], huge_mailbox_len => infinity}
           end,
    %% The probe's worst lateness over as long without the agent as with
    %% it: on a shared machine the OS alone delays it by some ms.
    Probe = start_probe(),
    timer:sleep(Secs * 1000),
    Before = probe_max(Probe),
    {StartUs, Agent} = start_agent(Opts),
    Mon ! {agent, Agent},
    timer:sleep(Secs * 1000),
    During = probe_max(Probe),
    S = flame_agent:status(),
    ok = flame_agent:stop(),
    {AgentLS, OtherLS, AgentGC, MaxLS} = monitor_report(Mon),
    %% All long schedules, whoever caused them.
    {Victims, Skipped, WithMemory} = victim_samples(Dir, Victim),
    io:format("RESULT mode=mailbox select=~s queue=~B fill_ms=~B secs=~B start_ms=~.1f "
              "ticks=~B overruns=~B tick_us_avg=~B tick_us_max=~B samples=~B "
              "victim_samples=~B victim_skipped=~B victim_with_memory=~B "
              "long_sched_agent=~B long_sched_other=~B long_gc_agent=~B max_long_sched_ms=~B "
              "probe_late_ms_before=~.1f probe_late_ms_during=~.1f~n",
              [Select, Q, FillMs, Secs, StartUs / 1000,
               maps:get(ticks, S), maps:get(overruns, S), maps:get(tick_us_avg, S),
               maps:get(tick_us_max, S), maps:get(samples, S),
               Victims, Skipped, WithMemory, AgentLS, OtherLS, AgentGC, MaxLS,
               Before / 1000, During / 1000]),
    _ = Others,
    halt(0).

%% A high-priority process that sleeps 1 ms at a time and keeps the worst
%% lateness (microseconds) since it was last asked.
start_probe() ->
    spawn(fun() ->
                  process_flag(priority, high),
                  probe(0)
          end).

probe(Max) ->
    T0 = erlang:monotonic_time(microsecond),
    receive
        {get, From} -> From ! {probe, Max}, probe(0)
    after 1 ->
            probe(max(Max, erlang:monotonic_time(microsecond) - T0 - 1000))
    end.

probe_max(Probe) ->
    Probe ! {get, self()},
    receive {probe, M} -> M end.

fill(_P, 0) -> ok;
fill(P, N) -> P ! {msg, N}, fill(P, N - 1).

%% Samples of the victim: how many, how many say the queue items were
%% skipped, how many have 'memory' anyway (must be none).
victim_samples(Dir, Victim) ->
    Files = lists:sort(filelib:wildcard(filename:join(Dir, "*.flame"))),
    lists:foldl(
      fun(F, Acc) ->
              {ok, Bin} = file:read_file(F),
              lists:foldl(
                fun({samples, _, L}, {V, Sk, M}) ->
                        case lists:keyfind(Victim, 1, L) of
                            {Victim, Items} ->
                                {V + 1,
                                 Sk + case lists:keyfind(flame_skipped, 1, Items) of
                                          {flame_skipped, _} -> 1;
                                          false -> 0
                                      end,
                                 M + case lists:keymember(memory, 1, Items) of
                                         true -> 1;
                                         false -> 0
                                     end};
                            false ->
                                {V, Sk, M}
                        end;
                   (_, A) -> A
                end, Acc, frames(Bin, []))
      end, {0, 0, 0}, Files).

frames(<<>>, Acc) -> lists:reverse(Acc);
frames(<<N:32, T:N/binary, Rest/binary>>, Acc) -> frames(Rest, [binary_to_term(T) | Acc]);
frames(_, Acc) -> lists:reverse(Acc).
