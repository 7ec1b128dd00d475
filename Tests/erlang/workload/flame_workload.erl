%% flame_workload: a varied, repeatable load for flame_agent tests, fixtures
%% and benchmarks. Each kind of process exercises a different part of what
%% the agent records (reductions, mailbox, binaries, GC, deep stacks,
%% proc_lib dictionary keys, registered and unregistered processes).
%%
%%   flame_workload:start() -> ok      starts everything (unlinked from caller)
%%   flame_workload:stop()  -> ok      stops everything
%%   flame_workload:pids()  -> [{Kind, pid()}]
%%
%% Tree: flame_workload (owner, plain) -> flame_workload_sup (supervisor)
%%   -> gen_servers (flame_workload_server) and plain spawn_link workers.
-module(flame_workload).

-export([start/0, start/1, stop/0, pids/0]).
-export([start_worker/2]).
%% The loops are exported so they show up with readable names in stacks.
-export([cpu_burn/1, fib/1, mailbox_consumer/1, mailbox_producer/2,
         binary_hoarder/2, gc_churn/1, deep_a/1, deep_b/1, deep/2,
         deep_worker/1, kv_client/2, sorter_client/2,
         idle/0]).

-define(OWNER, flame_workload).

start() ->
    start(#{}).

%% Opts (the defaults give the fixtures' load, scripts/make-fixtures.sh):
%%   cpu => N     CPU burners (default 2)
%%   idle => N    processes waiting in receive forever (default 5)
%%   extra => N   N more sets of working processes, unregistered, for a busier
%%                node (default 0): a GC churner, a deep worker, a binary
%%                hoarder, and a kv server and a sorter server (gen_servers)
%%                each with its client. Benchmarks/scripts/make-bench-captures.sh
%%                uses it.
start(Opts) ->
    case whereis(?OWNER) of
        undefined ->
            Parent = self(),
            Ref = make_ref(),
            spawn(fun() -> owner(Parent, Ref, Opts) end),
            receive {Ref, Result} -> Result
            after 10000 -> {error, timeout}
            end;
        _ ->
            {error, already_started}
    end.

stop() ->
    case whereis(?OWNER) of
        undefined -> ok;
        Pid ->
            MRef = erlang:monitor(process, Pid),
            Pid ! stop,
            receive {'DOWN', MRef, process, Pid, _} -> ok
            after 10000 -> exit(Pid, kill), ok
            end
    end.

pids() ->
    [{Id, Pid} || {Id, Pid, _, _} <- supervisor:which_children(flame_workload_sup),
                  is_pid(Pid)].

owner(Parent, Ref, Opts) ->
    register(?OWNER, self()),
    process_flag(trap_exit, true),
    {ok, Sup} = flame_workload_sup:start_link(children(Opts)),
    Parent ! {Ref, ok},
    receive
        stop ->
            unlink(Sup),
            MRef = erlang:monitor(process, Sup),
            exit(Sup, shutdown),
            receive {'DOWN', MRef, process, Sup, _} -> ok end
    end.

%% Child specs for the supervisor. Plain workers are started with
%% erlang:spawn_link (no proc_lib dictionary keys); the gen_servers have
%% '$initial_call' and '$ancestors'.
children(Opts) ->
    NCpu = maps:get(cpu, Opts, 2),
    NIdle = maps:get(idle, Opts, 5),
    NExtra = maps:get(extra, Opts, 0),
    Cpu = [worker({cpu, I}, cpu,
                  case I of 1 -> flame_cpu_1; _ -> undefined end)
           || I <- lists:seq(1, NCpu)],
    Cpu ++
        [worker(mailbox, mailbox, flame_mailbox),
         worker(binaries, binaries, flame_binaries),
         worker(gc, gc, undefined),
         worker(deep_wait, deep_wait, flame_deep),
         worker(deep_work, deep_work, undefined),
         server(kv, flame_kv),
         server(sorter, undefined),
         worker(kv_client, kv_client, undefined),
         worker(sorter_client, sorter_client, undefined)
        | [worker({idle, I}, idle, undefined) || I <- lists:seq(1, NIdle)]]
        ++ lists:append([extra(I) || I <- lists:seq(1, NExtra)]).

%% One set of the busier node's extra processes.
extra(I) ->
    [worker({gc, I}, gc, undefined),
     worker({deep_work, I}, deep_work, undefined),
     worker({binaries, I}, binaries, undefined),
     server({kv, I}, kv, undefined),
     worker({kv_client, I}, {kv_client, {kv, I}}, undefined),
     server({sorter, I}, sorter, undefined),
     worker({sorter_client, I}, {sorter_client, {sorter, I}}, undefined)].

worker(Id, Kind, Name) ->
    #{id => Id, start => {?MODULE, start_worker, [Kind, Name]},
      shutdown => brutal_kill, type => worker}.

server(Kind, Name) ->
    server(Kind, Kind, Name).

server(Id, Kind, Name) ->
    #{id => Id, start => {flame_workload_server, start_link, [Kind, Name]},
      shutdown => 1000, type => worker}.

start_worker(Kind, Name) ->
    Pid = spawn_link(fun() -> run(Kind) end),
    case Name of
        undefined -> ok;
        _ -> register(Name, Pid)
    end,
    {ok, Pid}.

run(cpu) -> cpu_burn(0);
run(mailbox) ->
    Consumer = self(),
    spawn_link(fun() -> mailbox_producer(Consumer, 0) end),
    mailbox_consumer(0);
run(binaries) -> binary_hoarder(queue:new(), 0);
run(gc) -> gc_churn(0);
run(deep_wait) -> deep_a(250);
run(deep_work) -> deep_worker(0);
run(kv_client) -> kv_client(0);
run(sorter_client) -> sorter_client(0);
run({kv_client, ServerId}) -> kv_client(child(ServerId), 0);
run({sorter_client, ServerId}) -> sorter_client(child(ServerId), 0);
run(idle) -> idle().

%% The pid of a sibling (asked once: the supervisor answers when it has
%% started every child).
child(Id) ->
    [Pid] = [P || {I, P, _, _} <- supervisor:which_children(flame_workload_sup), I =:= Id],
    Pid.

%% CPU-bound: naive Fibonacci, so stacks show cpu_burn/1 -> fib/1.
cpu_burn(N) ->
    _ = fib(18),
    %% Yield briefly now and then so that a 2-core box stays usable.
    case N rem 50 of
        0 -> receive after 1 -> ok end;
        _ -> ok
    end,
    cpu_burn(N + 1).

fib(N) when N < 2 -> N;
fib(N) -> fib(N - 1) + fib(N - 2).

%% Slow consumer: handles one message every 20 ms while the producer sends
%% ten; the mailbox grows (capped so a long run cannot exhaust memory).
mailbox_consumer(N) ->
    receive
        {work, _} -> ok
    end,
    receive after 20 -> ok end,
    mailbox_consumer(N + 1).

mailbox_producer(Consumer, N) ->
    case erlang:process_info(Consumer, message_queue_len) of
        {message_queue_len, L} when L < 50000 ->
            [Consumer ! {work, N + I} || I <- lists:seq(1, 10)];
        _ -> ok
    end,
    receive after 20 -> ok end,
    mailbox_producer(Consumer, N + 10).

%% Holds up to 400 refc binaries of 4 KB (off-heap, bin_vheap), replacing
%% the oldest ones as it goes.
binary_hoarder(Q, N) ->
    Bin = binary:copy(<<(N rem 256)>>, 4096),
    Q1 = queue:in(Bin, Q),
    Q2 = case queue:len(Q1) > 400 of
             true -> {_, Qx} = queue:out(Q1), Qx;
             false -> Q1
         end,
    receive after 2 -> ok end,
    binary_hoarder(Q2, N + 1).

%% Short-lived garbage: builds and drops lists, many minor GCs.
gc_churn(N) ->
    L = lists:seq(1, 2000 + N rem 1000),
    _ = lists:reverse([{X, X * 2} || X <- L]),
    case N rem 20 of
        0 -> receive after 1 -> ok end;
        _ -> ok
    end,
    gc_churn(N + 1).

%% Deep non-tail recursion, two flavours, because ERTS drops consecutive
%% identical return addresses when it builds a stacktrace:
%%  - deep_wait: deep_a/1 and deep_b/1 call each other 250 deep (alternating
%%    return addresses), then wait in a receive. current_stacktrace shows
%%    backtrace_depth frames (64 with the agent's default).
%%  - deep_work: deep/2 calls itself 220 deep from one call site and does
%%    work (fib) at the bottom. stack_size is ~220 words, but
%%    current_stacktrace collapses the recursion to a few frames.
deep_a(0) -> receive stop -> 0 end;
deep_a(N) -> 1 + deep_b(N - 1).

deep_b(0) -> receive stop -> 0 end;
deep_b(N) -> 1 + deep_a(N - 1).

deep(0, work) ->
    fib(15);
deep(N, Mode) ->
    1 + deep(N - 1, Mode).

deep_worker(N) ->
    _ = deep(220, work),
    receive after 1 -> ok end,
    deep_worker(N + 1).

kv_client(N) ->
    flame_workload_server:put(flame_kv, N rem 500, {value, N}),
    _ = flame_workload_server:get(flame_kv, (N * 7) rem 500),
    receive after 1 -> ok end,
    kv_client(N + 1).

sorter_client(N) ->
    [{_, Sorter}] = [{Id, P} || {Id, P, _, _} <-
                                    supervisor:which_children(flame_workload_sup),
                                Id =:= sorter],
    _ = flame_workload_server:sort(Sorter, 3000),
    receive after 5 -> ok end,
    sorter_client(N + 1).

%% The clients of the extra servers, which know their server's pid.
kv_client(Server, N) ->
    flame_workload_server:put(Server, N rem 500, {value, N}),
    _ = flame_workload_server:get(Server, (N * 7) rem 500),
    receive after 1 -> ok end,
    kv_client(Server, N + 1).

sorter_client(Server, N) ->
    _ = flame_workload_server:sort(Server, 3000),
    receive after 5 -> ok end,
    sorter_client(Server, N + 1).

idle() ->
    receive never -> ok end.
