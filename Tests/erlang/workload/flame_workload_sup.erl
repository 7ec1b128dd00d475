%% Supervisor of flame_workload (gives the gen_servers '$ancestors').
-module(flame_workload_sup).
-behaviour(supervisor).

-export([start_link/1, init/1]).

start_link(Children) ->
    supervisor:start_link({local, flame_workload_sup}, ?MODULE, Children).

init(Children) ->
    {ok, {#{strategy => one_for_one, intensity => 10, period => 1}, Children}}.
