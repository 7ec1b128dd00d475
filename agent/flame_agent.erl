%% flame_agent: a tiny sampling agent for a live Erlang node.
%%
%% It samples erlang:process_info/2 of chosen processes on a fixed tick and
%% writes the raw results as framed External Term Format (dump format
%% version 1, described in docs/dump-format.md of the flameconv repository,
%% with the two optional items it adds: skipped items and short samples).
%% Everything else (deltas, categories, output formats) is done offline by
%% the converter, so the work done on the production node stays small and
%% bounded.
%%
%% One module, no dependencies, OTP 21+. Load it with c/1, -pa, or
%% code:load_binary/3 and call flame_agent:start(#{dir => "/tmp/flame"}).
%%
%% Safety rules this module keeps (and why):
%%  - Started unlinked (gen_server:start), traps exits, catches everything:
%%    a problem in the agent never takes the caller or the node down.
%%  - Bounded work per tick: at most max_procs_per_tick samples and
%%    max_scan_per_tick reductions reads, and no new process is started once
%%    the tick has used max_tick_us. What does not fit waits for the next
%%    tick (round-robin), never queues up.
%%  - Bounded memory on any node: the process table is walked in slices.
%%    On OTP 28+ with erlang:processes_iterator/0; before that, a node of up
%%    to ?DIRECT_MAX processes is listed in the agent, a bigger one by a
%%    short-lived "lister" process whose heap is sized up front to hold the
%%    pid list, so that it never garbage collects and is freed at once when
%%    its pass ends. The agent itself only ever holds one slice.
%%  - Cheap items first: a process whose message queue is longer than
%%    huge_mailbox_len is not asked for the items that walk the queue
%%    (memory, total_heap_size, garbage_collection_info), which cannot yield
%%    and would hold a scheduler; the sample says so ({flame_skipped, Items}).
%%  - A process whose reductions and queue length have not changed since its
%%    last full sample in this file gets a short sample ({flame_unchanged, Ts}).
%%  - Ticks run on an absolute monotonic schedule; a slot that passes while a
%%    tick is still running (or while the agent waits for a scheduler) is
%%    counted as an overrun and skipped, never queued.
%%  - Frames are whole terms, written together at most flush_ms apart, with
%%    one file:write of whole frames on a raw file: memory does not grow with
%%    capture length, and a node crash leaves only complete frames.
%%  - A write error (disk full) or a vanished file/directory stops the agent
%%    cleanly with a log message.
%%  - Atoms are never created from data; the agent and its helpers are left
%%    out of their own samples.
%%  - backtrace_depth is raised only while running and restored on stop,
%%    on crash, and (via a small guard process) even on exit(Pid, kill).
-module(flame_agent).
-behaviour(gen_server).

-export([start/1, stop/0, status/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2,
         terminate/2, code_change/3]).

-define(SERVER, flame_agent).
-define(GUARD, flame_agent_guard).
-define(AGENT_ID, <<"flame_agent 1.2">>).

%% The items of the spec, in the spec's order. 'dictionary' is asked for
%% separately (see full_sample/5) so it can be cut down cheaply.
-define(ITEMS, [status, current_function, current_stacktrace, initial_call,
                registered_name, reductions, message_queue_len, memory,
                total_heap_size, heap_size, stack_size, garbage_collection,
                garbage_collection_info]).
%% Read first, for every process: none of them walks the message queue.
-define(CHEAP_ITEMS, [status, reductions, message_queue_len]).
%% Items that walk the whole message queue (measured on OTP 25: ~10 ns per
%% queued message each, in one non-yielding step).
-define(QUEUE_ITEMS, [memory, total_heap_size, garbage_collection_info]).
-define(DICT_KEYS, ['$initial_call', '$ancestors', '$process_label']).

%% Up to this many processes, erlang:processes() is called in the agent
%% (a list of at most 16 bytes a process, 320 KB); above, a lister does it.
-define(DIRECT_MAX, 20000).
%% Processes remembered for short "unchanged" samples and the dictionary
%% cache when select is 'all' (about 100-200 bytes each).
-define(TRACK_MAX, 10000).
%% {top, N}: the reductions of a process are read twice this far apart (at
%% least one tick), and processes are ranked by reductions per second
%% between the two reads.
-define(RATE_WINDOW_MS, 100).
%% {top, N} chooses only processes that worked between the two reads (one
%% reduction is what serving the agent's own full sample can cost), or
%% that have messages waiting. Idle processes are not "the busiest", and
%% sampling a hundred of them every tick was most of the agent's cost on
%% a saturated node.
-define(IDLE_REDUCTIONS, 1).
%% Flushed before flush_ms when the buffer holds this much.
-define(FLUSH_BYTES, 256 * 1024).
%% Reductions reads a tick makes for a pass even when the time budget is
%% used up (by sampling, or by waiting for a scheduler), so passes progress.
-define(SCAN_MIN, 32).

-define(DEFAULTS, #{interval_ms => 10,
                    select => {top, 100},
                    reselect_ms => 5000,
                    compressed => false,
                    max_file_bytes => 64 * 1024 * 1024,
                    max_files => infinity,
                    duration_ms => infinity,
                    backtrace_depth => 64,
                    max_procs_per_tick => 250,
                    max_scan_per_tick => 250,
                    max_tick_us => 2000,
                    huge_mailbox_len => 10000,
                    unchanged => short,
                    flush_ms => 100,
                    system_interval_ms => 1000,
                    priority => normal,
                    capture => auto}).

%% A walk over the process table, in slices.
-record(src, {kind,            % list | lister | iter
              pids = [],       % list: what is left
              lister,          % lister: its pid
              mref,            % lister: monitor
              ready = false,   % lister: has its list
              iter,            % iter: erlang:processes_iterator/0 state
              done = false}).

%% What sampling one process needs to know (read-only during a tick).
-record(ctx, {ts, seq, short, huge_q, dict_mode, all, pass_no}).

-record(st, {
          %% configuration
          dir, capture, interval, select, reselect_ms, t2b_opts,
          max_file_bytes, max_files, cap, scan_cap, budget, huge_q, short,
          flush_ms, sys_ms, depth, old_depth,
          %% current file
          seq = 0, path, fd, file_bytes = 0, files = [], file_count = 0,
          f_ticks = 0, f_samples = 0, f_overruns = 0,
          %% frames not yet written (iodata, newest first), their size, and
          %% the file size that is on disk
          buf = [], buf_bytes = 0, flushed = 0, flush_due,
          %% whole capture
          ticks = 0, samples = 0, overruns = 0, bytes = 0, started_at,
          unchanged_samples = 0, skipped_samples = 0, over_budget = 0,
          %% time spent in ticks (microseconds), so status/0 shows the cost
          tick_us_total = 0, tick_us_max = 0,
          %% scheduling (monotonic milliseconds)
          due, timer, sys_due,
          %% selection: cands = current candidate pids, rest = what is left
          %% of them (or of the current slice, for 'all') in this round
          cands = [], rest = [],
          %% passes over the process table (select all and {top, N})
          src, pass_no = 0, pass_started, pass_seen = 0, pass_total = 0,
          last_pass_ms, next_pass_at,
          %% {top, N} pass: first reads waiting for their second read
          %% (a queue of {DueMs, ReadAtUs, [{Pid, Reductions}]}), and the
          %% best N so far (gb_set of {Rate, Pid})
          pending, top = undefined,
          %% per process: {Reductions, QueueLen, TsOfFullSample, Seq, Dict, Pass}
          known = #{},
          %% dictionary handling: keyed (OTP 26.2+) or cached (older)
          dict_mode,
          excluded = [], guard, info_raw = true}).

%%====================================================================
%% API
%%====================================================================

%% Starts the agent on this node. Options are validated in full before
%% anything is touched.
-spec start(map()) -> {ok, pid()} | {error, term()}.
start(Opts) ->
    case validate(Opts) of
        {ok, Cfg} ->
            case whereis(?SERVER) of
                undefined ->
                    case gen_server:start({local, ?SERVER}, ?MODULE, Cfg, []) of
                        {error, {already_started, Pid}} ->
                            {error, {already_started, Pid}};
                        Other ->
                            Other
                    end;
                Pid ->
                    {error, {already_started, Pid}}
            end;
        {error, _} = Error ->
            Error
    end.

%% Stops the agent: the current tick ends, the trailer is written and the
%% file closed before this returns. Returns ok also when nothing runs.
-spec stop() -> ok.
stop() ->
    case whereis(?SERVER) of
        undefined ->
            wait_gone(whereis(?GUARD), 5000);
        Pid ->
            Ref = erlang:monitor(process, Pid),
            _ = (catch gen_server:call(Pid, stop, 60000)),
            receive {'DOWN', Ref, process, Pid, _} -> ok
            after 60000 -> erlang:demonitor(Ref, [flush])
            end,
            wait_gone(whereis(?GUARD), 5000)
    end.

-spec status() -> map().
status() ->
    case whereis(?SERVER) of
        undefined -> #{running => false};
        Pid ->
            try gen_server:call(Pid, status, 10000)
            catch
                exit:{timeout, _} -> #{running => true, busy => true};
                exit:_ -> #{running => false}
            end
    end.

%%====================================================================
%% Option validation
%%====================================================================

validate(Opts) when is_map(Opts) ->
    Unknown = maps:keys(maps:without(maps:keys(?DEFAULTS) ++ [dir], Opts)),
    case {Unknown, maps:is_key(dir, Opts)} of
        {[K | _], _} -> {error, {badarg, {unknown_option, K}}};
        {[], false} -> {error, {badarg, {missing_option, dir}}};
        {[], true} ->
            Cfg = maps:merge(?DEFAULTS, Opts),
            validate_all(lists:sort(maps:to_list(Cfg)), Cfg)
    end;
validate(Opts) ->
    {error, {badarg, {not_a_map, Opts}}}.

validate_all([], Cfg) ->
    {ok, Cfg};
validate_all([{K, V} | Rest], Cfg) ->
    case check(K, V) of
        true -> validate_all(Rest, Cfg);
        {ok, V1} -> validate_all(Rest, Cfg#{K := V1});
        false -> {error, {badarg, {K, V}}}
    end.

check(dir, V) ->
    try unicode:characters_to_list(V) of
        [_ | _] = L -> {ok, L};
        _ -> false
    catch _:_ -> false
    end;
check(interval_ms, V) -> is_integer(V) andalso V >= 1 andalso V =< 3600000;
check(reselect_ms, V) -> is_integer(V) andalso V >= 1;
check(select, all) -> true;
check(select, {top, N}) -> is_integer(N) andalso N >= 1;
check(select, [_ | _] = L) ->
    %% lists:all/2 raises on an improper list: that is a badarg too.
    try lists:all(fun(P) when is_pid(P) -> node(P) =:= node();
                     (A) -> is_atom(A)
                  end, L)
    catch error:_ -> false
    end;
check(select, _) -> false;
check(compressed, V) when is_boolean(V) -> true;
check(compressed, V) -> is_integer(V) andalso V >= 0 andalso V =< 9;
check(max_file_bytes, V) -> is_integer(V) andalso V >= 1;
check(max_files, infinity) -> true;
check(max_files, V) -> is_integer(V) andalso V >= 1;
check(duration_ms, infinity) -> true;
%% erlang:send_after/3 takes at most 2^32 - 1 ms (about 49 days).
check(duration_ms, V) -> is_integer(V) andalso V >= 1 andalso V =< 16#FFFFFFFF;
check(backtrace_depth, V) -> is_integer(V) andalso V >= 0 andalso V =< 10000;
check(max_procs_per_tick, V) -> is_integer(V) andalso V >= 1;
check(max_scan_per_tick, V) -> is_integer(V) andalso V >= 1;
check(max_tick_us, V) -> is_integer(V) andalso V >= 1 andalso V =< 3600000000;
check(huge_mailbox_len, infinity) -> true;
check(huge_mailbox_len, V) -> is_integer(V) andalso V >= 0;
check(unchanged, V) -> V =:= short orelse V =:= full;
check(flush_ms, V) -> is_integer(V) andalso V >= 0 andalso V =< 60000;
check(system_interval_ms, V) -> is_integer(V) andalso V >= 0;
check(priority, V) -> lists:member(V, [low, normal, high]);
check(capture, auto) -> true;
check(capture, V) ->
    %% The id becomes part of file names: keep it to a safe character set.
    try unicode:characters_to_binary(V) of
        B when is_binary(B), byte_size(B) > 0, byte_size(B) =< 128 ->
            case lists:all(fun safe_char/1, binary_to_list(B)) of
                true -> {ok, B};
                false -> false
            end;
        _ -> false
    catch _:_ -> false
    end;
check(_, _) -> false.

safe_char(C) ->
    (C >= $a andalso C =< $z) orelse (C >= $A andalso C =< $Z) orelse
        (C >= $0 andalso C =< $9) orelse C =:= $_ orelse C =:= $- orelse
        C =:= $. .

%%====================================================================
%% gen_server callbacks
%%====================================================================

init(Cfg) ->
    process_flag(trap_exit, true),
    process_flag(priority, maps:get(priority, Cfg)),
    %% Do not depend on the caller's group leader (a remote shell may go).
    case whereis(user) of
        undefined -> ok;
        User -> group_leader(User, self())
    end,
    try init_capture(Cfg)
    catch C:R:S ->
            log_error("flame_agent: could not start: ~p:~p ~p", [C, R, S]),
            {stop, {C, R}}
    end.

init_capture(Cfg) ->
    Dir = maps:get(dir, Cfg),
    case filelib:ensure_dir(filename:join(Dir, "x")) of
        ok ->
            init_capture(Dir, Cfg);
        {error, Reason} ->
            {stop, {dir, Reason, Dir}}
    end.

%% Nothing here grows with the number of processes on the node: the first
%% pass over the process table is made by the ticks, in slices.
init_capture(Dir, Cfg) ->
    Capture = case maps:get(capture, Cfg) of
                  auto -> new_capture_id();
                  Id -> Id
              end,
    Now = mono_ms(),
    Interval = maps:get(interval_ms, Cfg),
    T2b = case maps:get(compressed, Cfg) of
              false -> [];
              true -> [compressed];
              L -> [{compressed, L}]
          end,
    St0 = #st{dir = Dir, capture = Capture, interval = Interval,
              select = maps:get(select, Cfg),
              reselect_ms = maps:get(reselect_ms, Cfg), t2b_opts = T2b,
              max_file_bytes = maps:get(max_file_bytes, Cfg),
              max_files = maps:get(max_files, Cfg),
              cap = maps:get(max_procs_per_tick, Cfg),
              scan_cap = maps:get(max_scan_per_tick, Cfg),
              budget = maps:get(max_tick_us, Cfg),
              huge_q = maps:get(huge_mailbox_len, Cfg),
              short = maps:get(unchanged, Cfg) =:= short,
              flush_ms = maps:get(flush_ms, Cfg),
              sys_ms = maps:get(system_interval_ms, Cfg),
              depth = maps:get(backtrace_depth, Cfg),
              started_at = erlang:system_time(microsecond),
              due = Now + Interval, sys_due = Now, next_pass_at = Now,
              flush_due = Now, pending = queue:new(),
              dict_mode = dict_mode()},
    case open_file(St0) of
        {ok, St1} ->
            wait_gone(whereis(?GUARD), 5000),
            Old = erlang:system_flag(backtrace_depth, St1#st.depth),
            %% ERTS caps the depth (at 64 on OTP 25): what it says back is
            %% the value in force, the one restore_depth/2 must recognise.
            Depth = erlang:system_flag(backtrace_depth, St1#st.depth),
            Guard = start_guard(self(), Old, Depth),
            St2 = St1#st{old_depth = Old, depth = Depth, guard = Guard,
                         excluded = [self(), Guard],
                         info_raw = raw_info_works(St1#st.path)},
            case maps:get(duration_ms, Cfg) of
                infinity -> ok;
                D -> erlang:send_after(D, self(), duration_elapsed)
            end,
            log_info("flame_agent: capture ~ts started, writing to ~ts",
                     [Capture, Dir]),
            {ok, schedule_at(St2#st.due, St2)};
        {error, Reason} ->
            {stop, Reason}
    end.

handle_call(status, _From, St) ->
    {reply, status_map(St), St};
handle_call(stop, _From, St) ->
    {stop, normal, ok, St};
handle_call(_Other, _From, St) ->
    {reply, {error, unknown_call}, St}.

handle_cast(_Msg, St) ->
    {noreply, St}.

handle_info({timeout, Ref, tick}, #st{timer = Ref} = St) ->
    try tick(St)
    catch C:R:S ->
            log_error("flame_agent: tick failed, stopping: ~p:~p ~p",
                      [C, R, S]),
            {stop, {shutdown, {tick_failed, R}}, St}
    end;
handle_info({flame_lister_ready, Pid},
            #st{src = #src{kind = lister, lister = Pid} = Src} = St) ->
    {noreply, St#st{src = Src#src{ready = true}}};
handle_info({'DOWN', MRef, process, _, _},
            #st{src = #src{kind = lister, mref = MRef} = Src} = St) ->
    %% The lister went away (killed, or it gave up on us): end the pass
    %% with what it gave.
    {noreply, St#st{src = Src#src{done = true, lister = undefined}}};
handle_info(duration_elapsed, St) ->
    {stop, normal, St};
handle_info({'EXIT', _From, Reason}, St) when Reason =/= normal ->
    %% exit(Agent, shutdown) and the like: it traps exits so that it can
    %% end the file with its trailer, then it stops as asked.
    {stop, Reason, St};
handle_info(_Other, St) ->
    %% Stale timers, 'EXIT' from odd links, stray messages (pids from a
    %% lister we stopped waiting for): ignore.
    {noreply, St}.

terminate(Reason, St) ->
    stop_source(St#st.src),
    _ = (catch close_file(St, Reason)),
    _ = (catch restore_depth(St)),
    log_info("flame_agent: capture ~ts ended (~p): ~B ticks, ~B samples, "
             "~B overruns, ~B bytes",
             [St#st.capture, Reason, St#st.ticks, St#st.samples,
              St#st.overruns, St#st.bytes]),
    ok.

code_change(_OldVsn, St, _Extra) ->
    {ok, St}.

%%====================================================================
%% The tick
%%====================================================================

tick(St0) ->
    %% Rotation is done here, before the first write that would go past the
    %% limit, rather than right after the write that passed it: a stop then
    %% never leaves a trailing file with a header and no ticks.
    case maybe_rotate(St0#st{timer = undefined}) of
        {ok, St1} -> tick1(St1);
        {error, Why, St1} -> {stop, {shutdown, Why}, St1}
    end.

tick1(St1) ->
    Ts = erlang:monotonic_time(microsecond),
    Deadline = Ts + St1#st.budget,
    {Samples, N, St2} = sample_phase(Ts, Deadline, St1),
    St3 = scan_phase(Deadline, St2),
    case write_term({samples, Ts, Samples}, St3) of
        {ok, St4} ->
            St5 = St4#st{ticks = St4#st.ticks + 1,
                         f_ticks = St4#st.f_ticks + 1,
                         samples = St4#st.samples + N,
                         f_samples = St4#st.f_samples + N},
            after_samples(Ts, St5);
        {error, Why, St4} ->
            {stop, {shutdown, Why}, St4}
    end.

after_samples(Ts, St0) ->
    Now = mono_ms(),
    case maybe_system(Ts, Now, St0) of
        {ok, St1} ->
            case maybe_flush(Now, St1) of
                {ok, St2} ->
                    {noreply, schedule_next(tick_time(Ts, St2))};
                {gone, Why, St2} ->
                    log_error("flame_agent: ~ts is gone (~p), stopping",
                              [St2#st.path, Why]),
                    %% The file cannot be reached by name any more: close
                    %% it without a trailer, nobody will read it.
                    _ = (catch file:close(St2#st.fd)),
                    {stop, {shutdown, {file_gone, St2#st.path, Why}},
                     St2#st{fd = undefined, buf = [], buf_bytes = 0}};
                {error, Why, St2} ->
                    {stop, {shutdown, Why}, St2}
            end;
        {error, Why, St1} ->
            {stop, {shutdown, Why}, St1}
    end.

%% Next tick on the absolute grid due + k*interval. Slots that already passed
%% are overruns: counted, not caught up.
schedule_next(#st{due = Due, interval = I} = St) ->
    Now = mono_ms(),
    Next0 = Due + I,
    {Next, Missed} =
        case Next0 >= Now of
            true -> {Next0, 0};
            false -> M = (Now - Due) div I, {Due + (M + 1) * I, M}
        end,
    schedule_at(Next, St#st{due = Next,
                            overruns = St#st.overruns + Missed,
                            f_overruns = St#st.f_overruns + Missed}).

%% Ts: when the tick began (monotonic microseconds).
tick_time(Ts, St) ->
    Us = erlang:monotonic_time(microsecond) - Ts,
    Over = case Us > St#st.budget of
               true -> 1;
               false -> 0
           end,
    St#st{tick_us_total = St#st.tick_us_total + Us,
          tick_us_max = max(Us, St#st.tick_us_max),
          over_budget = St#st.over_budget + Over}.

schedule_at(Due, St) ->
    Ref = erlang:start_timer(Due, self(), tick, [{abs, true}]),
    St#st{timer = Ref}.

maybe_system(_Ts, _Now, #st{sys_ms = 0} = St) ->
    {ok, St};
maybe_system(Ts, Now, #st{sys_due = Due} = St) when Now >= Due ->
    Info = #{run_queue => erlang:statistics(total_run_queue_lengths),
             process_count => erlang:system_info(process_count),
             port_count => erlang:system_info(port_count),
             total_memory => erlang:memory(total),
             schedulers_online => erlang:system_info(schedulers_online),
             %% extras: what the agent itself costs
             agent_memory => agent_memory(St),
             agent_overruns => St#st.overruns},
    write_term({system, Ts, Info}, St#st{sys_due = Now + St#st.sys_ms});
maybe_system(_Ts, _Now, St) ->
    {ok, St}.

%%====================================================================
%% Sampling phase: which processes this tick, within the count cap and
%% the time budget
%%====================================================================

%% select all: the current slice of the process table, then the next one.
sample_phase(Ts, Deadline, #st{select = all, rest = []} = St0) ->
    St1 = fill_all(St0),
    sample_rest(Ts, Deadline, St1);
sample_phase(Ts, Deadline, #st{select = all} = St) ->
    sample_rest(Ts, Deadline, St);
%% {top, N} and a list: the candidates, max_procs_per_tick at a time. The
%% time budget is not applied: these are few and chosen, and on a saturated
%% node every process_info of a running process waits for it to answer, so
%% a wall-clock budget would drop exactly the busy processes.
sample_phase(Ts, _Deadline, #st{rest = []} = St0) ->
    %% A new round over the candidates ({top, N} keeps its choice until the
    %% next pass ends; a list resolves its names again, so that a restarted
    %% registered process is followed).
    St1 = refresh_candidates(St0),
    sample_rest(Ts, infinity, St1#st{rest = St1#st.cands});
sample_phase(Ts, _Deadline, St) ->
    sample_rest(Ts, infinity, St).

%% Takes at most 'cap' processes from 'rest', stops early at the deadline
%% (but samples at least one); what is left waits for the next tick.
%% (A number is smaller than the atom infinity: no deadline.)
sample_rest(Ts, Deadline, #st{rest = Rest, cap = Cap} = St) ->
    Ctx = #ctx{ts = Ts, seq = St#st.seq, short = St#st.short,
               huge_q = St#st.huge_q, dict_mode = St#st.dict_mode,
               all = St#st.select =:= all, pass_no = St#st.pass_no},
    {Samples, N, Rest1, Known, U, K} =
        sample_loop(Rest, Cap, Deadline, true, Ctx, St#st.known, [], 0, 0, 0),
    {Samples, N, St#st{rest = Rest1, known = Known,
                       unchanged_samples = St#st.unchanged_samples + U,
                       skipped_samples = St#st.skipped_samples + K}}.

%% The hot loop keeps what changes per process in its arguments, not in
%% the (large) state record.
sample_loop([], _Left, _Deadline, _First, _Ctx, Known, Acc, N, U, K) ->
    {lists:reverse(Acc), N, [], Known, U, K};
sample_loop(Rest, 0, _Deadline, _First, _Ctx, Known, Acc, N, U, K) ->
    {lists:reverse(Acc), N, Rest, Known, U, K};
sample_loop([P | Ps] = Rest, Left, Deadline, First, Ctx, Known, Acc, N, U, K) ->
    case First orelse Deadline =:= infinity orelse
        erlang:monotonic_time(microsecond) < Deadline of
        true ->
            case sample_one(P, Ctx, Known) of
                {undefined, Known1, _} ->
                    sample_loop(Ps, Left - 1, Deadline, false, Ctx, Known1, Acc, N, U, K);
                {Items, Known1, full} ->
                    sample_loop(Ps, Left - 1, Deadline, false, Ctx, Known1,
                                [{P, Items} | Acc], N + 1, U, K);
                {Items, Known1, unchanged} ->
                    sample_loop(Ps, Left - 1, Deadline, false, Ctx, Known1,
                                [{P, Items} | Acc], N + 1, U + 1, K);
                {Items, Known1, skipped} ->
                    sample_loop(Ps, Left - 1, Deadline, false, Ctx, Known1,
                                [{P, Items} | Acc], N + 1, U, K + 1)
            end;
        false ->
            {lists:reverse(Acc), N, Rest, Known, U, K}
    end.

%% select all: the next slice of the current pass; a new pass begins when
%% the last one has been walked.
fill_all(#st{src = undefined} = St) ->
    fill_all(start_pass(St));
fill_all(#st{src = #src{done = true}} = St) ->
    %% One new pass per tick at most (a node with no other process).
    fill_all1(start_pass(end_pass(St)));
fill_all(St) ->
    fill_all1(St).

fill_all1(St) ->
    {Pids, St1} = take_slice(St#st.cap, St),
    St1#st{rest = Pids}.

refresh_candidates(#st{select = {top, _}} = St) ->
    St;
refresh_candidates(#st{select = List, excluded = Ex} = St) ->
    Pids = lists:usort([P || P <- [resolve(X) || X <- List],
                             is_pid(P), not lists:member(P, Ex)]),
    St#st{cands = Pids, known = maps:with(Pids, St#st.known)}.

resolve(P) when is_pid(P) -> P;
resolve(Name) -> whereis(Name).

%%====================================================================
%% Scan phase ({top, N}): rank processes by reductions per second between
%% two reads ?RATE_WINDOW_MS apart, a slice at a time
%%====================================================================

scan_phase(Deadline, #st{select = {top, _}} = St0) ->
    St1 = case St0#st.src of
              undefined ->
                  case mono_ms() >= St0#st.next_pass_at of
                      true -> start_pass(St0);
                      false -> St0
                  end;
              _ -> St0
          end,
    case St1#st.src of
        undefined -> St1;
        _ -> scan(Deadline, St1)
    end;
scan_phase(_Deadline, St) ->
    St.

scan(Deadline, St0) ->
    Now = mono_ms(),
    Cap = St0#st.scan_cap,
    Must0 = min(Cap, ?SCAN_MIN),
    {Left1, Must1, St1} = second_reads(Now, Cap, Must0, Deadline, St0),
    St2 = first_reads(Left1, Must1, Deadline, St1),
    case St2#st.src of
        #src{done = true} ->
            case queue:is_empty(St2#st.pending) of
                true -> finish_top_pass(St2);
                false -> St2
            end;
        _ ->
            St2
    end.

%% Left: reads this tick may still make; Must: of those, how many it makes
%% even past the deadline.
go_on(Must, Deadline) ->
    Must > 0 orelse erlang:monotonic_time(microsecond) < Deadline.

%% Second reads of the slices whose window has passed.
second_reads(Now, Left, Must, Deadline, #st{pending = Q} = St) ->
    case queue:peek(Q) of
        {value, {DueMs, ReadUs, Slice}} when DueMs =< Now, Left > 0 ->
            Q1 = queue:drop(Q),
            Fill = St#st.pass_no =:= 0,
            case rate_reads(Slice, ReadUs, Left, Must, Deadline, Fill, St#st.top) of
                {done, Left1, Must1, Top} ->
                    St1 = progressive(St#st{pending = Q1, top = Top}),
                    second_reads(Now, Left1, Must1, Deadline, St1);
                {stopped, Rest, Left1, Must1, Top} ->
                    %% Out of time or reads: the rest of the slice first
                    %% next tick (a slightly longer window for them).
                    {Left1, Must1,
                     progressive(
                       St#st{pending = queue:in_r({DueMs, ReadUs, Rest}, Q1),
                             top = Top})}
            end;
        _ ->
            {Left, Must, St}
    end.

%% Fill: the first pass, whose choice so far is sampled while it runs; an
%% idle process may stand in (rate -1) until it ends, so that a capture has
%% samples from the start even on a node whose first pass takes minutes.
rate_reads([], _ReadUs, Left, Must, _Deadline, _Fill, Top) ->
    {done, Left, Must, Top};
rate_reads(Rest, _ReadUs, 0, Must, _Deadline, _Fill, Top) ->
    {stopped, Rest, 0, Must, Top};
rate_reads([{P, R0} | More] = Rest, ReadUs, Left, Must, Deadline, Fill, Top) ->
    case go_on(Must, Deadline) of
        true ->
            Top1 = case erlang:process_info(P, [reductions, message_queue_len]) of
                       [{reductions, R1}, _] when R1 - R0 > ?IDLE_REDUCTIONS ->
                           Us = erlang:monotonic_time(microsecond) - ReadUs,
                           Rate = (R1 - R0) * 1000000 div max(1, Us),
                           top_insert(Rate, P, Top);
                       [_, {message_queue_len, Q}] when Q > 0 ->
                           %% Messages wait, and it did no work: stuck, or
                           %% about to run. A suspect either way (a huge
                           %% mailbox is what sick nodes have).
                           top_insert(0, P, Top);
                       [_, _] when Fill ->
                           top_insert(-1, P, Top);
                       _ ->
                           %% Gone, or idle with nothing to do.
                           Top
                   end,
            rate_reads(More, ReadUs, Left - 1, Must - 1, Deadline, Fill, Top1);
        false ->
            {stopped, Rest, Left, Must, Top}
    end.

%% First reads of the next slice of the pass: as many as the reads left
%% allow before the deadline, or the reads it must still make after it.
first_reads(Left, Must, Deadline, #st{src = #src{done = false}} = St0)
  when Left > 0 ->
    N = case erlang:monotonic_time(microsecond) < Deadline of
            true -> Left;
            false -> min(Left, max(0, Must))
        end,
    case N of
        0 ->
            St0;
        _ ->
            {Pids, St1} = take_slice(N, St0),
            Read = first_read(Pids, []),
            ReadUs = erlang:monotonic_time(microsecond),
            Window = case St1#st.pass_no of
                         0 -> 1;    % the first choice soon after start
                         _ -> ?RATE_WINDOW_MS
                     end,
            Q = case Read of
                    [] -> St1#st.pending;
                    _ -> queue:in({mono_ms() + Window, ReadUs, Read},
                                  St1#st.pending)
                end,
            St1#st{pending = Q}
    end;
first_reads(_Left, _Must, _Deadline, St) ->
    St.

%% The slice was taken within the cap; reading it whole keeps the walk
%% simple (it is at most max_scan_per_tick reads of ~0.5 us).
first_read([], Acc) ->
    Acc;
first_read([P | Ps], Acc) ->
    case erlang:process_info(P, reductions) of
        {reductions, R} -> first_read(Ps, [{P, R} | Acc]);
        undefined -> first_read(Ps, Acc)
    end.

%% The best N so far, as a gb_set of {Rate, Pid}.
top_insert(Rate, P, {N, Size, Min, Set}) when Size < N ->
    Set1 = gb_sets:add_element({Rate, P}, Set),
    {N, Size + 1, min(Min, Rate), Set1};
top_insert(Rate, _P, {_N, _Size, Min, _Set} = Top) when Rate =< Min ->
    Top;
top_insert(Rate, P, {N, Size, _Min, Set}) ->
    {_, Set1} = gb_sets:take_smallest(gb_sets:add_element({Rate, P}, Set)),
    {Min1, _} = gb_sets:smallest(Set1),
    {N, Size, Min1, Set1}.

top_pids({_N, _Size, _Min, Set}) ->
    %% Busiest first, each once (a pid read in two slices of a pass).
    dedup([P || {_, P} <- lists:reverse(gb_sets:to_list(Set))], #{}).

%% The choice a pass ends with: the stand-ins of the first pass left out.
working_pids({_N, _Size, _Min, Set}) ->
    dedup([P || {Rate, P} <- lists:reverse(gb_sets:to_list(Set)), Rate >= 0], #{}).

dedup([], _Seen) -> [];
dedup([P | Ps], Seen) when is_map_key(P, Seen) -> dedup(Ps, Seen);
dedup([P | Ps], Seen) -> [P | dedup(Ps, Seen#{P => true})].

%% Before the first pass has ended there is no choice yet: sample the best
%% found so far.
progressive(#st{pass_no = 0, top = Top} = St) ->
    Pids = top_pids(Top),
    St#st{cands = Pids, known = maps:with(Pids, St#st.known)};
progressive(St) ->
    St.

finish_top_pass(#st{top = Top} = St0) ->
    Pids = working_pids(Top),
    St1 = end_pass(St0),
    St1#st{cands = Pids, rest = Pids, top = undefined,
           known = maps:with(Pids, St1#st.known),
           next_pass_at = case St0#st.pass_no of
                              0 -> mono_ms();     % then a full window
                              _ -> St0#st.pass_started + St0#st.reselect_ms
                          end}.

%%====================================================================
%% Passes over the process table
%%====================================================================

start_pass(#st{select = Sel} = St) ->
    Src = new_source(St),
    Ex = case Src of
             #src{kind = lister, lister = L} -> [L | base_excluded(St)];
             _ -> base_excluded(St)
         end,
    Top = case Sel of
              {top, N} -> {N, 0, 0, gb_sets:new()};
              _ -> undefined
          end,
    St#st{src = Src, excluded = Ex, pass_started = mono_ms(), pass_seen = 0,
          pass_total = erlang:system_info(process_count), top = Top,
          pending = queue:new()}.

base_excluded(#st{guard = G}) -> [self(), G].

%% Ends the current pass (the source is walked) and forgets the processes
%% that were not seen in it.
end_pass(#st{src = Src, pass_no = No, known = Known} = St) ->
    stop_source(Src),
    Known1 = case St#st.select of
                 all -> maps:filter(fun(_, E) -> element(6, E) =:= No end, Known);
                 _ -> Known
             end,
    St#st{src = undefined, pass_no = No + 1, excluded = base_excluded(St),
          last_pass_ms = mono_ms() - St#st.pass_started, known = Known1}.

new_source(St) ->
    case erlang:function_exported(erlang, processes_iterator, 0) of
        true ->
            %% OTP 28+: walks the table a slice at a time, nothing to hold.
            #src{kind = iter, iter = erlang:apply(erlang, processes_iterator, [])};
        false ->
            case erlang:system_info(process_count) of
                C when C =< ?DIRECT_MAX ->
                    #src{kind = list, pids = erlang:processes()};
                C ->
                    start_lister(C, St)
            end
    end.

%% Takes up to N pids of the pass (the agent's helpers left out).
take_slice(N, #st{src = Src, excluded = Ex} = St) ->
    {Pids0, Src1} = src_take(N, Src),
    Pids = [P || P <- Pids0, not lists:member(P, Ex)],
    {Pids, St#st{src = Src1, pass_seen = St#st.pass_seen + length(Pids0)}}.

src_take(_N, #src{done = true} = Src) ->
    {[], Src};
src_take(N, #src{kind = list, pids = Pids} = Src) ->
    case take(N, Pids, []) of
        {Slice, []} -> {Slice, Src#src{pids = [], done = true}};
        {Slice, Rest} -> {Slice, Src#src{pids = Rest}}
    end;
src_take(N, #src{kind = iter, iter = I} = Src) ->
    iter_take(N, I, Src, []);
src_take(_N, #src{kind = lister, ready = false} = Src) ->
    %% Still listing: nothing this tick.
    {[], Src};
src_take(N, #src{kind = lister, lister = L, mref = MRef} = Src) ->
    L ! N,
    lister_collect(L, MRef, Src, []).

iter_take(0, I, Src, Acc) ->
    {lists:reverse(Acc), Src#src{iter = I}};
iter_take(N, I, Src, Acc) ->
    case erlang:apply(erlang, processes_next, [I]) of
        {P, I1} -> iter_take(N - 1, I1, Src, [P | Acc]);
        none -> {lists:reverse(Acc), Src#src{iter = none, done = true}}
    end.

take(0, Rest, Acc) -> {lists:reverse(Acc), Rest};
take(_, [], Acc) -> {lists:reverse(Acc), []};
take(N, [P | Rest], Acc) -> take(N - 1, Rest, [P | Acc]).

%% The lister answers a request for N pids with up to N bare pid messages
%% and one atom. Only the lister sends the agent bare pids.
lister_collect(L, MRef, Src, Acc) ->
    receive
        P when is_pid(P) ->
            lister_collect(L, MRef, Src, [P | Acc]);
        flame_slice_end ->
            {lists:reverse(Acc), Src};
        flame_pass_end ->
            erlang:demonitor(MRef, [flush]),
            {lists:reverse(Acc), Src#src{done = true, lister = undefined}};
        {'DOWN', MRef, process, L, _} ->
            {lists:reverse(Acc), Src#src{done = true, lister = undefined}}
    after 5000 ->
            %% A lister that does not answer in 5 s: give up on this pass.
            exit(L, kill),
            erlang:demonitor(MRef, [flush]),
            {lists:reverse(Acc), Src#src{done = true, lister = undefined}}
    end.

stop_source(#src{kind = lister, lister = L, mref = MRef}) when is_pid(L) ->
    erlang:demonitor(MRef, [flush]),
    exit(L, kill),
    ok;
stop_source(_) ->
    ok.

%% A process that calls erlang:processes() once and hands the pids out a
%% slice at a time. Its heap is sized for the whole list before the call,
%% and it allocates nothing afterwards (its requests are small integers, its
%% answers bare pids and atoms), so it never garbage collects: the list is
%% never copied, and all of it is freed at once when the lister exits at
%% the end of the pass. Without the pre-sized heap, the list would land in
%% heap fragments and be copied (twice) by the next collections: ~3x the
%% memory, and collections of tens of ms.
start_lister(Count, #st{}) ->
    Agent = self(),
    %% 2 words a list cell, plus room for processes spawned meanwhile.
    Words = 2 * (Count + Count div 4 + 1000) + 1000,
    {Pid, MRef} =
        spawn_opt(fun() -> lister(Agent) end,
                  [monitor, {min_heap_size, Words},
                   {priority, element(2, process_info(Agent, priority))}]),
    #src{kind = lister, lister = Pid, mref = MRef}.

lister(Agent) ->
    MRef = erlang:monitor(process, Agent),
    Pids = erlang:processes(),
    %% Answering is quick (sending up to a slice of messages): do it ahead
    %% of normal work, so that a tick is not kept waiting on a busy node.
    process_flag(priority, high),
    Agent ! {flame_lister_ready, self()},
    lister_serve(Pids, Agent, MRef).

lister_serve(Pids, Agent, MRef) ->
    receive
        N when is_integer(N) ->
            case lister_send(N, Pids, Agent) of
                [] ->
                    Agent ! flame_pass_end;
                Rest ->
                    Agent ! flame_slice_end,
                    lister_serve(Rest, Agent, MRef)
            end;
        {'DOWN', MRef, _, _, _} ->
            ok
    after 60000 ->
            ok
    end.

lister_send(0, Pids, _Agent) -> Pids;
lister_send(_, [], _Agent) -> [];
lister_send(N, [P | Ps], Agent) -> Agent ! P, lister_send(N - 1, Ps, Agent).

%%====================================================================
%% Sampling one process
%%====================================================================

%% The cheap items first. Unchanged since this process's last full sample
%% in this file: a short sample. Otherwise all items, but not those that
%% walk the message queue when the queue is huge.
sample_one(P, #ctx{seq = Seq, short = Short} = Ctx, Known) ->
    case erlang:process_info(P, ?CHEAP_ITEMS) of
        undefined ->
            {undefined, Known, none};
        [S, {reductions, R} = Rd, {message_queue_len, Q} = Ql] ->
            case Known of
                #{P := {R0, Q, Ts0, Seq, _, No} = E}
                  when Short, R >= R0, R =< R0 + 1 ->
                    %% (+1: a full sample is a request the process serves
                    %% itself, for one reduction; the cheap items are read
                    %% without it.)
                    Known1 = case Ctx#ctx.all andalso No =/= Ctx#ctx.pass_no of
                                 true -> Known#{P := setelement(6, E, Ctx#ctx.pass_no)};
                                 false -> Known
                             end,
                    {[S, Rd, Ql, {flame_unchanged, Ts0}], Known1, unchanged};
                _ ->
                    full_sample(P, Q, maps:get(P, Known, undefined), Ctx, Known)
            end
    end.

full_sample(P, Q, Entry, #ctx{huge_q = HugeQ} = Ctx, Known) ->
    Skip = HugeQ =/= infinity andalso Q > HugeQ,
    Items = case Skip of
                true -> ?ITEMS -- ?QUEUE_ITEMS;
                false -> ?ITEMS
            end,
    {DictItems, Cached} = dict_items(Entry, Ctx),
    case erlang:process_info(P, DictItems ++ Items) of
        undefined ->
            {undefined, Known, none};
        L ->
            %% The dictionary items come first: at most three to split off,
            %% and none at all once the dictionary is cached.
            {DictPart, Got} = case DictItems of
                                  [] -> {[], L};
                                  _ -> lists:split(length(DictItems), L)
                              end,
            Dict = case Cached of
                       {cached, D} -> D;
                       none -> cut_dict(DictPart)
                   end,
            {reductions, R} = lists:keyfind(reductions, 1, Got),
            {message_queue_len, Q1} = lists:keyfind(message_queue_len, 1, Got),
            Known1 = remember(P, R, Q1, keep_dict(Got, Dict, Ctx), Ctx, Known),
            case Skip of
                true ->
                    {Got ++ [{dictionary, Dict}, {flame_skipped, ?QUEUE_ITEMS}],
                     Known1, skipped};
                false ->
                    {Got ++ [{dictionary, Dict}], Known1, full}
            end
    end.

%% OTP 26.2+ can return single dictionary keys: ask for exactly those.
%% Older releases only return the whole dictionary, a copy that can be
%% large. The keys we keep are set once by proc_lib when the process
%% starts, so the whole dictionary is read once per process and the
%% cut-down result remembered with the process.
dict_items(_Entry, #ctx{dict_mode = keyed}) ->
    {[{dictionary, K} || K <- ?DICT_KEYS], none};
dict_items({_, _, _, _, Dict, _}, _Ctx) when is_list(Dict) ->
    {[], {cached, Dict}};
dict_items(_, _Ctx) ->
    {[dictionary], none}.

cut_dict([{dictionary, Full}]) ->
    [KV || {K, _} = KV <- Full, lists:member(K, ?DICT_KEYS)];
cut_dict(Keyed) ->
    [{K, V} || {{dictionary, K}, V} <- Keyed, V =/= undefined].

%% What to remember of the dictionary (cached mode). A proc_lib process
%% caught before proc_lib:init_p has set its keys must be read again next
%% time, not cached as empty.
keep_dict(_Items, _Dict, #ctx{dict_mode = keyed}) ->
    undefined;
keep_dict(Items, Dict, _Ctx) ->
    case lists:keyfind(initial_call, 1, Items) of
        {initial_call, {proc_lib, init_p, 5}} ->
            case lists:keymember('$initial_call', 1, Dict) of
                true -> Dict;
                false -> undefined
            end;
        _ ->
            Dict
    end.

%% With select all, at most ?TRACK_MAX processes are remembered (the
%% others always get full samples); with a list or {top, N}, the candidates.
remember(P, R, Q, Dict, #ctx{ts = Ts, seq = Seq, pass_no = No, all = All}, Known) ->
    E = {R, Q, Ts, Seq, Dict, No},
    case All andalso map_size(Known) >= ?TRACK_MAX of
        true ->
            case Known of
                #{P := _} -> Known#{P := E};
                _ -> Known
            end;
        false ->
            Known#{P => E}
    end.

dict_mode() ->
    try erlang:process_info(self(), [{dictionary, '$initial_call'}]) of
        [_] -> keyed;
        _ -> cached
    catch error:badarg -> cached
    end.

%%====================================================================
%% Files
%%====================================================================

file_name(#st{dir = Dir, capture = C, seq = Seq}) ->
    filename:join(Dir, io_lib:format("~ts-~6..0B.flame", [C, Seq])).

open_file(St) ->
    Path = file_name(St),
    case file:open(Path, [raw, binary, write, exclusive]) of
        {ok, Fd} ->
            %% Paths are kept only to delete the oldest: with max_files
            %% infinity the list would grow with the capture's length.
            Files = case St#st.max_files of
                        infinity -> [];
                        _ -> St#st.files ++ [Path]
                    end,
            St1 = St#st{path = Path, fd = Fd, file_bytes = 0,
                        f_ticks = 0, f_samples = 0, f_overruns = 0,
                        files = Files, file_count = St#st.file_count + 1},
            St2 = delete_old_files(St1),
            {ok, St3} = write_term({flame_dump, 1, header_meta(St2)},
                                   St2#st{buf = [], buf_bytes = 0, flushed = 0}),
            %% The header is written at once: a full disk is an error of
            %% start/1 (or of the rotation), not of some later tick.
            case flush(St3) of
                {ok, St4} ->
                    {ok, St4};
                {error, Why, _} ->
                    %% Not even a header (disk full): leave no file at all.
                    _ = file:delete(Path),
                    {error, Why}
            end;
        {error, Reason} ->
            {error, {open, Reason, Path}}
    end.

header_meta(St) ->
    %% started_at and monotonic_start are taken back to back so that
    %% started_at + (Ts - monotonic_start) maps a tick to wall-clock time.
    Mono = erlang:monotonic_time(microsecond),
    Sys = erlang:system_time(microsecond),
    #{node => node(),
      otp_release => list_to_binary(erlang:system_info(otp_release)),
      %% bytes per word: heap and binary sizes are counted in words
      word_size => erlang:system_info(wordsize),
      started_at => Sys,
      monotonic_start => Mono,
      sample_interval_ms => St#st.interval,
      capture => St#st.capture,
      seq => St#st.seq,
      agent => ?AGENT_ID,
      %% extras, ignored by readers that do not know them
      agent_pid => self(),
      select => St#st.select,
      max_procs_per_tick => St#st.cap,
      max_scan_per_tick => St#st.scan_cap,
      max_tick_us => St#st.budget,
      huge_mailbox_len => St#st.huge_q,
      unchanged => case St#st.short of true -> short; false -> full end,
      backtrace_depth => St#st.depth,
      items => ?ITEMS ++ [dictionary]}.

%% Frames are buffered and written together (flush/1): fewer, larger
%% writes. Every write holds whole frames only, so a crash between writes
%% leaves whole frames; at most flush_ms of capture is lost with the node.
write_term(Term, #st{t2b_opts = Opts} = St) ->
    Bin = term_to_binary(Term, Opts),
    Size = byte_size(Bin),
    {ok, St#st{buf = [Bin, <<Size:32>> | St#st.buf],
               buf_bytes = St#st.buf_bytes + 4 + Size,
               file_bytes = St#st.file_bytes + 4 + Size,
               bytes = St#st.bytes + 4 + Size}}.

%% Writes the buffer when it is due (flush_ms since the last write) or big,
%% and then checks that the file can still be reached by name.
maybe_flush(Now, #st{flush_due = Due, buf_bytes = B} = St)
  when Now >= Due; B >= ?FLUSH_BYTES ->
    case flush(St) of
        {ok, St1} ->
            St2 = St1#st{flush_due = Now + St1#st.flush_ms},
            case check_file(St2) of
                ok -> {ok, St2};
                {error, Why} -> {gone, Why, St2}
            end;
        {error, _, _} = Error ->
            Error
    end;
maybe_flush(_Now, St) ->
    {ok, St}.

flush(#st{buf = []} = St) ->
    {ok, St};
flush(#st{fd = Fd, buf = Buf} = St) ->
    case file:write(Fd, lists:reverse(Buf)) of
        ok ->
            {ok, St#st{buf = [], buf_bytes = 0, flushed = St#st.file_bytes}};
        {error, Reason} ->
            log_error("flame_agent: writing ~ts failed (~p), stopping",
                      [St#st.path, Reason]),
            %% Cut off a partly written frame so the file ends on a frame
            %% boundary (best effort: the disk may be full).
            _ = (catch file:position(Fd, {bof, St#st.flushed})),
            _ = (catch file:truncate(Fd)),
            _ = (catch file:close(Fd)),
            {error, {write, Reason, St#st.path},
             St#st{fd = undefined, buf = [], buf_bytes = 0,
                   file_bytes = St#st.flushed}}
    end.

maybe_rotate(#st{file_bytes = B, max_file_bytes = Max, f_ticks = T} = St)
  when B >= Max, T > 0 ->
    case write_trailer(St, rotated) of
        ok ->
            _ = file:close(St#st.fd),
            case open_file(St#st{seq = St#st.seq + 1, fd = undefined}) of
                {ok, St1} ->
                    {ok, St1};
                {error, Why} ->
                    log_error("flame_agent: rotation failed (~p), stopping",
                              [Why]),
                    {error, Why, St#st{fd = undefined}}
            end;
        {error, Why, St1} ->
            {error, Why, St1}
    end;
maybe_rotate(St) ->
    {ok, St}.

write_trailer(St, Reason) ->
    Stats = #{ticks => St#st.f_ticks, samples => St#st.f_samples,
              overruns => St#st.f_overruns,
              %% extras: why the file ended, and capture totals so far
              reason => trailer_reason(Reason),
              capture_ticks => St#st.ticks,
              capture_samples => St#st.samples,
              capture_overruns => St#st.overruns,
              capture_unchanged_samples => St#st.unchanged_samples,
              capture_skipped_samples => St#st.skipped_samples},
    {ok, St1} = write_term({flame_dump_end, Stats}, St),
    case flush(St1) of
        {ok, _} -> ok;
        Error -> Error
    end.

trailer_reason(rotated) -> rotated;
trailer_reason(normal) -> stopped;
trailer_reason(shutdown) -> shutdown;
trailer_reason({shutdown, _}) -> shutdown;
trailer_reason(_) -> crashed.

close_file(#st{fd = undefined}, _Reason) ->
    ok;
close_file(#st{fd = Fd} = St, Reason) ->
    _ = write_trailer(St, Reason),
    file:close(Fd).

%% Oldest first; the current file always stays.
delete_old_files(#st{max_files = infinity} = St) ->
    St;
delete_old_files(#st{files = Files, max_files = Max} = St)
  when length(Files) > Max ->
    [Oldest | Rest] = Files,
    case file:delete(Oldest) of
        ok -> ok;
        {error, Reason} ->
            log_warning("flame_agent: could not delete ~ts: ~p",
                        [Oldest, Reason])
    end,
    delete_old_files(St#st{files = Rest});
delete_old_files(St) ->
    St.

%% On Linux a file stays writable after its directory is removed, so ask
%% the file system whether our file can still be reached by name.
check_file(#st{path = Path, info_raw = Raw}) ->
    R = case Raw of
            %% posix times: no conversion to local time (~40 us)
            true -> file:read_file_info(Path, [raw, {time, posix}]);
            false -> file:read_file_info(Path, [{time, posix}])
        end,
    case R of
        {ok, _} -> ok;
        {error, Reason} -> {error, Reason}
    end.

raw_info_works(Path) ->
    case catch file:read_file_info(Path, [raw]) of
        {ok, _} -> true;
        _ -> false
    end.

%%====================================================================
%% backtrace_depth guard
%%====================================================================

%% A tiny unlinked process that restores backtrace_depth when the agent goes
%% away for any reason, including exit(Agent, kill) where terminate/2 does
%% not run.
start_guard(Agent, Old, Ours) ->
    Parent = self(),
    Guard = spawn(fun() ->
                          Ref = erlang:monitor(process, Agent),
                          _ = (catch register(?GUARD, self())),
                          Parent ! {guard_ready, self()},
                          receive {'DOWN', Ref, process, Agent, _} ->
                                  restore_depth(Old, Ours)
                          end
                  end),
    receive {guard_ready, Guard} -> ok after 5000 -> ok end,
    Guard.

restore_depth(#st{old_depth = undefined}) -> ok;
restore_depth(#st{old_depth = Old, depth = Ours}) -> restore_depth(Old, Ours).

%% Put the old value back only if the value is still ours: if someone else
%% changed it meanwhile, theirs stays.
restore_depth(Old, Ours) ->
    case erlang:system_flag(backtrace_depth, Old) of
        Ours -> ok;
        Other -> _ = erlang:system_flag(backtrace_depth, Other), ok
    end.

wait_gone(undefined, _Timeout) ->
    ok;
wait_gone(Pid, Timeout) ->
    Ref = erlang:monitor(process, Pid),
    receive {'DOWN', Ref, process, Pid, _} -> ok
    after Timeout -> erlang:demonitor(Ref, [flush]), ok
    end.

%%====================================================================
%% Helpers
%%====================================================================

status_map(St) ->
    #{running => true,
      capture => St#st.capture,
      file => unicode:characters_to_binary(St#st.path),
      seq => St#st.seq,
      files => St#st.file_count,
      dir => unicode:characters_to_binary(St#st.dir),
      select => St#st.select,
      interval_ms => St#st.interval,
      ticks => St#st.ticks,
      samples => St#st.samples,
      overruns => St#st.overruns,
      bytes => St#st.bytes,
      file_bytes => St#st.file_bytes,
      started_at => St#st.started_at,
      candidates => length(St#st.cands),
      tick_us_avg => St#st.tick_us_total div max(1, St#st.ticks),
      tick_us_max => St#st.tick_us_max,
      backtrace_depth => St#st.depth,
      dict_mode => St#st.dict_mode,
      max_tick_us => St#st.budget,
      over_budget => St#st.over_budget,
      unchanged_samples => St#st.unchanged_samples,
      skipped_samples => St#st.skipped_samples,
      memory => agent_memory(St),
      pass => pass_status(St)}.

%% How far the current pass over the process table has got, and how long
%% the last whole one took.
pass_status(#st{select = Sel} = St) when Sel =:= all; element(1, Sel) =:= top ->
    Now = mono_ms(),
    Cur = case St#st.src of
              undefined -> #{running => false};
              _ -> #{running => true,
                     seen => St#st.pass_seen,
                     process_count_at_start => St#st.pass_total,
                     elapsed_ms => Now - St#st.pass_started}
          end,
    Cur#{completed => St#st.pass_no,
         last_ms => St#st.last_pass_ms,
         source => case St#st.src of
                       #src{kind = K} -> K;
                       undefined -> none
                   end};
pass_status(_St) ->
    #{running => false, completed => 0, last_ms => undefined, source => none}.

%% Bytes used by the agent process and its lister (if one runs); its
%% buffered frames are binaries, counted in the frames' size.
agent_memory(St) ->
    Own = case erlang:process_info(self(), memory) of
              {memory, M} -> M;
              _ -> 0
          end,
    Lister = case St#st.src of
                 #src{kind = lister, lister = L} when is_pid(L) ->
                     case erlang:process_info(L, memory) of
                         {memory, LM} -> LM;
                         _ -> 0
                     end;
                 _ -> 0
             end,
    Own + Lister + St#st.buf_bytes.

%% Sortable and unique enough: UTC time of start plus a hash of node, time
%% and a unique integer, e.g. <<"20251125T050102Z-3fa2c1">>.
new_capture_id() ->
    S = erlang:system_time(second),
    {{Y, Mo, D}, {H, Mi, Se}} =
        calendar:gregorian_seconds_to_datetime(S + 62167219200),
    Hash = erlang:phash2({node(), erlang:system_time(),
                          erlang:unique_integer()}, 16#1000000),
    iolist_to_binary(
      io_lib:format("~4..0B~2..0B~2..0BT~2..0B~2..0B~2..0BZ-~6.16.0b",
                    [Y, Mo, D, H, Mi, Se, Hash])).

mono_ms() ->
    erlang:monotonic_time(millisecond).

log_error(Fmt, Args) ->
    catch logger:error(Fmt, Args).

log_warning(Fmt, Args) ->
    catch logger:warning(Fmt, Args).

log_info(Fmt, Args) ->
    catch logger:info(Fmt, Args).
