%% flame_agent: a tiny sampling agent for a live Erlang node.
%%
%% It samples erlang:process_info/2 of chosen processes on a fixed tick and
%% writes the raw results as framed External Term Format (dump format
%% version 1, described in docs/dump-format.md of the flameconv repository).
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
%%  - Bounded work per tick: at most max_procs_per_tick processes are sampled
%%    per tick; with more candidates it walks them round-robin over ticks.
%%  - Ticks run on an absolute monotonic schedule; a slot that passes while a
%%    tick is still running (or while the agent waits for a scheduler) is
%%    counted as an overrun and skipped, never queued.
%%  - Each tick is written as it is taken, as one whole frame with a single
%%    file:write on a raw file without delayed_write: memory does not grow
%%    with capture length, and a node crash leaves only complete frames.
%%  - A write error (disk full) or a vanished file/directory stops the agent
%%    cleanly with a log message.
%%  - Atoms are never created from data; the agent and its guard are left
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
-define(AGENT_ID, <<"flame_agent 1.0">>).

%% The items of the spec, in the spec's order. 'dictionary' is asked for
%% separately (see sample_one/2) so it can be cut down cheaply.
-define(ITEMS, [status, current_function, current_stacktrace, initial_call,
                registered_name, reductions, message_queue_len, memory,
                total_heap_size, heap_size, stack_size, garbage_collection,
                garbage_collection_info]).
-define(DICT_KEYS, ['$initial_call', '$ancestors', '$process_label']).

-define(DEFAULTS, #{interval_ms => 10,
                    select => {top, 100},
                    reselect_ms => 5000,
                    compressed => false,
                    max_file_bytes => 64 * 1024 * 1024,
                    max_files => infinity,
                    duration_ms => infinity,
                    backtrace_depth => 64,
                    max_procs_per_tick => 250,
                    system_interval_ms => 1000,
                    priority => normal,
                    capture => auto}).

-record(st, {
          %% configuration
          dir, capture, interval, select, reselect_ms, t2b_opts,
          max_file_bytes, max_files, cap, sys_ms, depth, old_depth,
          %% current file
          seq = 0, path, fd, file_bytes = 0, files = [], file_count = 0,
          f_ticks = 0, f_samples = 0, f_overruns = 0,
          %% whole capture
          ticks = 0, samples = 0, overruns = 0, bytes = 0, started_at,
          %% time spent in ticks (microseconds), so status/0 shows the cost
          tick_us_total = 0, tick_us_max = 0,
          %% scheduling (monotonic milliseconds)
          due, timer, sys_due,
          %% selection: cands = current candidate pids, rest = what is left
          %% of them in this round-robin pass
          cands = [], rest = [], red_snap = #{}, next_reselect,
          %% dictionary handling: keyed (OTP 26.2+) or cached (older)
          dict_mode, dict_cache = #{},
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
              sys_ms = maps:get(system_interval_ms, Cfg),
              depth = maps:get(backtrace_depth, Cfg),
              started_at = erlang:system_time(microsecond),
              due = Now + Interval, sys_due = Now, next_reselect = Now,
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
            St3 = initial_selection(St2),
            case maps:get(duration_ms, Cfg) of
                infinity -> ok;
                D -> erlang:send_after(D, self(), duration_elapsed)
            end,
            log_info("flame_agent: capture ~ts started, writing to ~ts",
                     [Capture, Dir]),
            {ok, schedule_at(St3#st.due, St3)};
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
handle_info(duration_elapsed, St) ->
    {stop, normal, St};
handle_info({'EXIT', _From, Reason}, St) when Reason =/= normal ->
    %% exit(Agent, shutdown) and the like: it traps exits so that it can
    %% end the file with its trailer, then it stops as asked.
    {stop, Reason, St};
handle_info(_Other, St) ->
    %% Stale timers, 'EXIT' from odd links, stray messages: ignore.
    {noreply, St}.

terminate(Reason, St) ->
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
    {Batch, St2} = next_batch(St1),
    {Samples, St3} = sample(Batch, St2),
    N = length(Samples),
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
            case check_file(St1) of
                ok ->
                    {noreply, schedule_next(tick_time(Ts, St1))};
                {error, Why} ->
                    log_error("flame_agent: ~ts is gone (~p), stopping",
                              [St1#st.path, Why]),
                    %% The file cannot be reached by name any more: close
                    %% it without a trailer, nobody will read it.
                    _ = (catch file:close(St1#st.fd)),
                    {stop, {shutdown, {file_gone, St1#st.path, Why}},
                     St1#st{fd = undefined}}
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
    St#st{tick_us_total = St#st.tick_us_total + Us,
          tick_us_max = max(Us, St#st.tick_us_max)}.

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
             schedulers_online => erlang:system_info(schedulers_online)},
    write_term({system, Ts, Info}, St#st{sys_due = Now + St#st.sys_ms});
maybe_system(_Ts, _Now, St) ->
    {ok, St}.

%%====================================================================
%% Selection
%%====================================================================

initial_selection(#st{select = {top, _}} = St) ->
    %% Take a reductions snapshot now so that the first selection (at the
    %% first tick) ranks by reductions since start, not by lifetime totals
    %% in which long-lived system processes always win.
    St#st{red_snap = reductions_snapshot(St)};
initial_selection(St) ->
    St.

%% Returns at most 'cap' pids for this tick.
next_batch(#st{select = {top, _}, next_reselect = At} = St) ->
    case mono_ms() >= At of
        true -> take_batch(reselect_top(St));
        false -> take_batch(St)
    end;
next_batch(St) ->
    take_batch(St).

take_batch(#st{rest = []} = St) ->
    St1 = refresh_candidates(St),
    take_batch1(St1#st{rest = St1#st.cands});
take_batch(St) ->
    take_batch1(St).

take_batch1(#st{rest = Rest, cap = Cap} = St) ->
    {Batch, Rest1} = take(Cap, Rest, []),
    {Batch, St#st{rest = Rest1}}.

take(0, Rest, Acc) -> {lists:reverse(Acc), Rest};
take(_, [], Acc) -> {lists:reverse(Acc), []};
take(N, [P | Rest], Acc) -> take(N - 1, Rest, [P | Acc]).

%% A new round-robin pass begins. 'all' re-reads the process table once per
%% pass (so its cost is spread over the pass); a list re-resolves names so a
%% restarted registered process is followed; top N keeps its choice until the
%% next reselect.
refresh_candidates(#st{select = all} = St) ->
    prune_cache(St#st{cands = other_processes(St)});
refresh_candidates(#st{select = {top, _}} = St) ->
    St;
refresh_candidates(#st{select = List, excluded = Ex} = St) ->
    Pids = lists:usort([P || P <- [resolve(X) || X <- List],
                             is_pid(P), not lists:member(P, Ex)]),
    prune_cache(St#st{cands = Pids}).

resolve(P) when is_pid(P) -> P;
resolve(Name) -> whereis(Name).

%% Top N by reductions since the previous reselect (new processes count with
%% their total, which all falls in the window).
reselect_top(#st{select = {top, N}, red_snap = Prev} = St) ->
    Snap = reductions_snapshot(St),
    Ranked = lists:sort(fun({A, _}, {B, _}) -> A >= B end,
                        [{R - maps:get(P, Prev, 0), P}
                         || {P, R} <- maps:to_list(Snap)]),
    {Top, _} = take(N, [P || {_, P} <- Ranked], []),
    prune_cache(St#st{red_snap = Snap, cands = Top, rest = Top,
                      next_reselect = mono_ms() + St#st.reselect_ms}).

reductions_snapshot(St) ->
    maps:from_list([{P, R} || P <- other_processes(St),
                              {reductions, R} <-
                                  [erlang:process_info(P, reductions)]]).

other_processes(#st{excluded = Ex}) ->
    [P || P <- erlang:processes(), not lists:member(P, Ex)].

%%====================================================================
%% Sampling
%%====================================================================

sample(Pids, St) ->
    sample(Pids, St, []).

sample([], St, Acc) ->
    {lists:reverse(Acc), St};
sample([P | Ps], St, Acc) ->
    case sample_one(P, St) of
        undefined -> sample(Ps, St, Acc);
        {Items, St1} -> sample(Ps, St1, [{P, Items} | Acc])
    end.

%% OTP 26.2+ can return single dictionary keys: ask for exactly those.
sample_one(P, #st{dict_mode = keyed} = St) ->
    case erlang:process_info(P, ?ITEMS ++ [{dictionary, K} || K <- ?DICT_KEYS]) of
        undefined -> undefined;
        L ->
            {Items, Keyed} = lists:split(length(?ITEMS), L),
            Dict = [{K, V} || {{dictionary, K}, V} <- Keyed, V =/= undefined],
            {Items ++ [{dictionary, Dict}], St}
    end;
%% Older releases only return the whole dictionary, a copy that can be large.
%% The keys we keep are set once by proc_lib when the process starts, so the
%% whole dictionary is read once per process and the cut-down result cached
%% (pruned to the current candidates at every pass / reselect).
sample_one(P, #st{dict_cache = Cache} = St) ->
    case Cache of
        #{P := Dict} ->
            case erlang:process_info(P, ?ITEMS) of
                undefined -> undefined;
                Items -> {Items ++ [{dictionary, Dict}], St}
            end;
        _ ->
            case erlang:process_info(P, ?ITEMS ++ [dictionary]) of
                undefined -> undefined;
                L ->
                    {Items, [{dictionary, Full}]} =
                        lists:split(length(?ITEMS), L),
                    Dict = [KV || {K, _} = KV <- Full,
                                  lists:member(K, ?DICT_KEYS)],
                    {Items ++ [{dictionary, Dict}],
                     St#st{dict_cache = maybe_cache(P, Items, Dict, Cache)}}
            end
    end.

%% A proc_lib process caught before proc_lib:init_p has set its keys must be
%% read again next time, not cached as empty.
maybe_cache(P, Items, Dict, Cache) ->
    case lists:keyfind(initial_call, 1, Items) of
        {initial_call, {proc_lib, init_p, 5}} ->
            case lists:keymember('$initial_call', 1, Dict) of
                true -> Cache#{P => Dict};
                false -> Cache
            end;
        _ ->
            Cache#{P => Dict}
    end.

prune_cache(#st{dict_mode = keyed} = St) ->
    St;
prune_cache(#st{dict_cache = Cache, cands = Cands} = St) ->
    St#st{dict_cache = maps:with(Cands, Cache)}.

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
            case write_term({flame_dump, 1, header_meta(St2)}, St2) of
                {ok, St3} ->
                    {ok, St3};
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
      backtrace_depth => St#st.depth,
      items => ?ITEMS ++ [dictionary]}.

%% One frame, one file:write: a crash between writes leaves whole frames.
write_term(Term, #st{fd = Fd, t2b_opts = Opts} = St) ->
    Bin = term_to_binary(Term, Opts),
    Size = byte_size(Bin),
    case file:write(Fd, [<<Size:32>>, Bin]) of
        ok ->
            {ok, St#st{file_bytes = St#st.file_bytes + 4 + Size,
                       bytes = St#st.bytes + 4 + Size}};
        {error, Reason} ->
            log_error("flame_agent: writing ~ts failed (~p), stopping",
                      [St#st.path, Reason]),
            %% Cut off a partly written frame so the file ends on a frame
            %% boundary (best effort: the disk may be full).
            _ = (catch file:position(Fd, {bof, St#st.file_bytes})),
            _ = (catch file:truncate(Fd)),
            _ = (catch file:close(Fd)),
            {error, {write, Reason, St#st.path}, St#st{fd = undefined}}
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
              capture_overruns => St#st.overruns},
    case write_term({flame_dump_end, Stats}, St) of
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
            true -> file:read_file_info(Path, [raw]);
            false -> file:read_file_info(Path)
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
      dict_mode => St#st.dict_mode}.

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
