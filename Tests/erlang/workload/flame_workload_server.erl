%% gen_server part of flame_workload: proc_lib processes, so samples carry
%% '$initial_call' and '$ancestors' in their dictionary.
-module(flame_workload_server).
-behaviour(gen_server).

-export([start_link/2, put/3, get/2, sort/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

start_link(Kind, undefined) ->
    gen_server:start_link(?MODULE, Kind, []);
start_link(Kind, Name) ->
    gen_server:start_link({local, Name}, ?MODULE, Kind, []).

put(Server, K, V) -> gen_server:cast(Server, {put, K, V}).
get(Server, K) -> gen_server:call(Server, {get, K}).
sort(Server, N) -> gen_server:call(Server, {sort, N}).

init(Kind) ->
    %% proc_lib:set_label/1 exists from OTP 27 on; use it when present so
    %% '$process_label' shows up there.
    case erlang:function_exported(proc_lib, set_label, 1) of
        true -> apply(proc_lib, set_label, [{flame_workload, Kind}]);
        false -> ok
    end,
    {ok, #{kind => Kind, data => #{}, seed => 1}}.

handle_call({get, K}, _From, #{data := D} = S) ->
    {reply, maps:get(K, D, undefined), S};
handle_call({sort, N}, _From, #{seed := Seed} = S) ->
    %% A deterministic pseudo-random list (LCG), sorted: CPU and garbage.
    {L, Seed1} = lcg_list(N, Seed, []),
    {reply, length(lists:sort(L)), S#{seed := Seed1}}.

handle_cast({put, K, V}, #{data := D} = S) ->
    {noreply, S#{data := D#{K => V}}}.

handle_info(_Msg, S) ->
    {noreply, S}.

lcg_list(0, Seed, Acc) -> {Acc, Seed};
lcg_list(N, Seed, Acc) ->
    Next = (Seed * 1103515245 + 12345) rem 2147483648,
    lcg_list(N - 1, Next, [Next | Acc]).
