#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell
%%
%% dump_check: an independent reader of flame dump files (docs/dump-format.md,
%% version 1), written against that description, not against flame_agent's
%% code. It decodes with binary_to_term only and checks:
%%   - framing (4-byte length + one external term), or concatenated terms;
%%     gzip-compressed files (detected from the bytes)
%%   - header first with every spec key and type; trailer last, once
%%   - trailer counts (ticks, samples) match what the file holds
%%   - files of one capture: same capture id/node/interval, seq contiguous
%%   - timestamps: integers >= monotonic_start, non-decreasing within a file
%%     and across the files of a capture in seq order
%%   - every samples term well-formed: unique local pids, the spec's items
%%     with plausible value shapes, dictionary cut down to the three keys,
%%     the agent (header key agent_pid, when present) not sampled
%%   - the two sample shapes of flame_agent 1.1 (docs/dump-format.md):
%%     items named in a trailing {flame_skipped, Items} may be absent (and
%%     must be); a short sample [status, reductions, message_queue_len,
%%     {flame_unchanged, Ts}] must name the Ts of the last full sample of the
%%     same pid earlier in the same file
%% Usage: dump_check.escript [--allow-open] FILE...   (exit 1 on violation)
%% --allow-open accepts files without a trailer (a capture still running).
-mode(compile).

main(Args) ->
    {AllowOpen, Files} = case Args of
                             ["--allow-open" | Fs] -> {true, Fs};
                             Fs -> {false, Fs}
                         end,
    case Files of
        [] ->
            io:format(standard_error,
                      "usage: dump_check.escript [--allow-open] FILE...~n", []),
            halt(2);
        _ -> ok
    end,
    Results = [check_file(F, AllowOpen) || F <- Files],
    CaptureErrors = check_captures(Results),
    FileErrors = lists:append([Errs || #{errors := Errs} <- Results]),
    lists:foreach(fun print_file/1, Results),
    print_captures(Results),
    Errors = FileErrors ++ CaptureErrors,
    case Errors of
        [] ->
            io:format("OK: ~B file(s), no violations~n", [length(Files)]),
            halt(0);
        _ ->
            [io:format("VIOLATION: ~ts~n", [E]) || E <- Errors],
            io:format("FAILED: ~B violation(s)~n", [length(Errors)]),
            halt(1)
    end.

%%--------------------------------------------------------------------
%% One file
%%--------------------------------------------------------------------

check_file(File, AllowOpen) ->
    Base = #{file => File, errors => [], terms => 0, ticks => 0, samples => 0,
             system => 0, unknown => 0, pids => #{}, first_ts => undefined,
             last_ts => undefined, header => undefined, trailer => undefined,
             bytes => 0, encoding => unknown},
    case file:read_file(File) of
        {ok, Raw} ->
            case decompress(Raw) of
                {ok, Enc, Bin} ->
                    case split_terms(Bin) of
                        {ok, Framing, Terms, Tail} ->
                            S0 = Base#{bytes => byte_size(Raw),
                                       encoding => {Enc, Framing}},
                            S1 = case Tail of
                                     ok -> S0;
                                     {tail, Off, Why} ->
                                         err(S0, "~ts: bad tail at byte ~B: ~p",
                                             [File, Off, Why])
                                 end,
                            check_terms(Terms, S1, AllowOpen);
                        {error, Why} ->
                            err(Base, "~ts: ~p", [File, Why])
                    end;
                {error, Why} ->
                    err(Base, "~ts: ~p", [File, Why])
            end;
        {error, Why} ->
            err(Base, "~ts: cannot read: ~p", [File, Why])
    end.

decompress(<<16#1F, 16#8B, _/binary>> = Gz) ->
    try {ok, gzip, zlib:gunzip(Gz)}
    catch _:Why -> {error, {gunzip, Why}}
    end;
decompress(<<16#28, 16#B5, 16#2F, 16#FD, _/binary>>) ->
    {error, zstd_not_supported_by_this_checker};
decompress(Bin) ->
    {ok, none, Bin}.

%% 131 first: concatenated external terms; otherwise 4-byte framed.
split_terms(<<>>) ->
    {error, empty_file};
split_terms(<<131, _/binary>> = Bin) ->
    concatenated(Bin, 0, []);
split_terms(Bin) ->
    framed(Bin, 0, []).

framed(<<>>, _Off, Acc) ->
    {ok, framed, lists:reverse(Acc), ok};
framed(<<N:32, Body:N/binary, Rest/binary>>, Off, Acc) ->
    case decode_exact(Body) of
        {ok, T} -> framed(Rest, Off + 4 + N, [T | Acc]);
        {error, Why} -> {ok, framed, lists:reverse(Acc), {tail, Off, Why}}
    end;
framed(Rest, Off, Acc) ->
    {ok, framed, lists:reverse(Acc),
     {tail, Off, {truncated_frame, byte_size(Rest)}}}.

decode_exact(<<131, _/binary>> = Body) ->
    try binary_to_term(Body, [used]) of
        {T, Used} when Used =:= byte_size(Body) -> {ok, T};
        {_, Used} -> {error, {frame_has_extra_bytes, byte_size(Body) - Used}}
    catch _:_ -> {error, undecodable_term}
    end;
decode_exact(_) ->
    {error, frame_not_external_term}.

concatenated(<<>>, _Off, Acc) ->
    {ok, concatenated, lists:reverse(Acc), ok};
concatenated(Bin, Off, Acc) ->
    try binary_to_term(Bin, [used]) of
        {T, Used} ->
            <<_:Used/binary, Rest/binary>> = Bin,
            concatenated(Rest, Off + Used, [T | Acc])
    catch _:_ ->
            {ok, concatenated, lists:reverse(Acc), {tail, Off, undecodable_term}}
    end.

check_terms([], S, _AllowOpen) ->
    err(S, "~ts: no terms", [maps:get(file, S)]);
check_terms([First | Rest], S0, AllowOpen) ->
    S1 = check_header(First, S0),
    S2 = check_body(Rest, S1),
    case {maps:get(trailer, S2), AllowOpen} of
        {undefined, false} ->
            err(S2, "~ts: no trailer (file not closed cleanly)",
                [maps:get(file, S2)]);
        _ -> S2
    end.

-define(HEADER_TYPES,
        [{node, fun is_atom/1}, {otp_release, fun is_binary/1},
         {started_at, fun is_integer/1}, {monotonic_start, fun is_integer/1},
         {sample_interval_ms, fun is_integer/1}, {capture, fun is_binary/1},
         {seq, fun is_integer/1}, {agent, fun is_binary/1}]).

check_header({flame_dump, 1, Meta} = H, S) when is_map(Meta) ->
    Bad = [K || {K, Ok} <- ?HEADER_TYPES,
                not (maps:is_key(K, Meta) andalso Ok(maps:get(K, Meta)))],
    S1 = S#{header => H, terms => 1},
    case Bad of
        [] -> S1;
        _ -> err(S1, "~ts: header keys missing or mistyped: ~p",
                 [maps:get(file, S), Bad])
    end;
check_header(Other, S) ->
    err(S#{terms => 1}, "~ts: first term is not a v1 header: ~P",
        [maps:get(file, S), Other, 8]).

check_body([], S) ->
    S;
check_body([T | Rest], S0) ->
    S = S0#{terms => maps:get(terms, S0) + 1},
    S1 = case maps:get(trailer, S) of
             undefined -> S;
             _ -> err(S, "~ts: term #~B after the trailer",
                      [maps:get(file, S), maps:get(terms, S)])
         end,
    check_body(Rest, check_term(T, S1)).

check_term({samples, Ts, List} = _T, S) when is_integer(Ts), is_list(List) ->
    S1 = check_ts(Ts, S),
    S2 = check_samples(List, Ts, S1, #{}),
    S2#{ticks => maps:get(ticks, S2) + 1,
        samples => maps:get(samples, S2) + length(List)};
check_term({samples, _, _} = T, S) ->
    err(S, "~ts: malformed samples term ~P", [maps:get(file, S), T, 6]);
check_term({system, Ts, Info}, S) when is_integer(Ts), is_map(Info) ->
    S1 = check_ts(Ts, S),
    S1#{system => maps:get(system, S1) + 1};
check_term({flame_dump_end, Stats} = T, S) when is_map(Stats) ->
    S1 = S#{trailer => T},
    Want = [{ticks, maps:get(ticks, S)}, {samples, maps:get(samples, S)}],
    Mismatch = [{K, maps:get(K, Stats, missing), V} || {K, V} <- Want,
                                                       maps:get(K, Stats, missing) =/= V],
    case Mismatch of
        [] -> S1;
        _ -> err(S1, "~ts: trailer counts differ from content {key, trailer, counted}: ~p",
                 [maps:get(file, S), Mismatch])
    end;
check_term({flame_dump, _, _}, S) ->
    err(S, "~ts: a second header at term #~B", [maps:get(file, S), maps:get(terms, S)]);
check_term(_Unknown, S) ->
    %% Unknown terms are allowed by the spec; count them.
    S#{unknown => maps:get(unknown, S) + 1}.

check_ts(Ts, S) ->
    Mono = case maps:get(header, S) of
               {flame_dump, 1, #{monotonic_start := M}} when is_integer(M) -> M;
               _ -> Ts
           end,
    S1 = case Ts < Mono of
             true -> err(S, "~ts: timestamp ~B before monotonic_start ~B",
                         [maps:get(file, S), Ts, Mono]);
             false -> S
         end,
    S2 = case maps:get(last_ts, S1) of
             L when is_integer(L), Ts < L ->
                 err(S1, "~ts: timestamp goes back: ~B after ~B",
                     [maps:get(file, S1), Ts, L]);
             _ -> S1
         end,
    First = case maps:get(first_ts, S2) of undefined -> Ts; F -> F end,
    S2#{first_ts => First, last_ts => Ts}.

check_samples([], _Ts, S, _Seen) ->
    S;
check_samples([{Pid, Items} | Rest], Ts, S, Seen) when is_pid(Pid), is_list(Items) ->
    S1 = case Seen of
             #{Pid := _} -> err(S, "~ts: ~p sampled twice at ~B",
                                [maps:get(file, S), Pid, Ts]);
             _ -> S
         end,
    S2 = case maps:get(header, S1) of
             {flame_dump, 1, #{agent_pid := Pid}} ->
                 err(S1, "~ts: the agent ~p sampled itself", [maps:get(file, S1), Pid]);
             _ -> S1
         end,
    S3 = case node(Pid) =:= header_node(S2) of
             true -> S2;
             false -> err(S2, "~ts: ~p is not a pid of the sampled node",
                          [maps:get(file, S2), Pid])
         end,
    Fulls = maps:get(fulls, S3, #{}),
    {Errors, S4a} =
        case lists:keyfind(flame_unchanged, 1, Items) of
            {flame_unchanged, Ref} ->
                {short_errors(Items, Ref, maps:get(Pid, Fulls, none)), S3};
            false ->
                {item_errors(Items),
                 S3#{fulls => Fulls#{Pid => Ts}}}
        end,
    S4 = case Errors of
             [] -> S4a;
             Errs -> err(S4a, "~ts: ~p at ~B: ~p", [maps:get(file, S4a), Pid, Ts, Errs])
         end,
    Pids = maps:get(pids, S4),
    check_samples(Rest, Ts, S4#{pids => Pids#{Pid => true}}, Seen#{Pid => true});
check_samples([Bad | Rest], Ts, S, Seen) ->
    check_samples(Rest, Ts, err(S, "~ts: bad sample entry at ~B: ~P",
                                [maps:get(file, S), Ts, Bad, 6]), Seen).

header_node(S) ->
    case maps:get(header, S) of
        {flame_dump, 1, #{node := N}} -> N;
        _ -> undefined
    end.

-define(SPEC_ITEMS, [status, current_function, current_stacktrace,
                     initial_call, registered_name, reductions,
                     message_queue_len, memory, total_heap_size, heap_size,
                     stack_size, garbage_collection, garbage_collection_info,
                     dictionary]).

%% A short sample: exactly these items, and Ref the tick of the pid's last
%% full sample in this file.
short_errors(Items, Ref, LastFullTs) ->
    Keys = [K || {K, _} <- Items],
    [{short_sample_items, Keys}
     || Keys =/= [status, reductions, message_queue_len, flame_unchanged]] ++
        [{bad_values, Items} || not lists:all(fun({K, V}) -> item_ok(K, V); (_) -> false end,
                                               Items)] ++
        [{unchanged_not_last_full_sample, Ref, LastFullTs} || Ref =/= LastFullTs].

item_errors(Items) ->
    Keys = [K || {K, _} <- Items],
    Skipped = case lists:keyfind(flame_skipped, 1, Items) of
                  {flame_skipped, L} when is_list(L) -> L;
                  _ -> []
              end,
    Missing = (?SPEC_ITEMS -- Skipped) -- Keys,
    NotPairs = [I || I <- Items, not (is_tuple(I) andalso tuple_size(I) =:= 2)],
    Bad = [K || {K, V} <- Items, not item_ok(K, V)],
    [{missing_items, Missing} || Missing =/= []] ++
        [{not_pairs, NotPairs} || NotPairs =/= []] ++
        [{bad_values, [{K, proplists:get_value(K, Items)} || K <- Bad]} || Bad =/= []] ++
        [{duplicate_items, Keys} || length(lists:usort(Keys)) =/= length(Keys)] ++
        [{skipped_yet_present, Skipped -- (Skipped -- Keys)} || Skipped -- Keys =/= Skipped].

item_ok(status, V) -> is_atom(V);
item_ok(current_function, undefined) -> true;
item_ok(current_function, V) -> is_mfa(V);
item_ok(initial_call, V) -> is_mfa(V);
item_ok(current_stacktrace, V) -> is_list(V) andalso lists:all(fun is_frame/1, V);
item_ok(registered_name, V) -> is_atom(V) orelse V =:= [];
item_ok(garbage_collection, V) ->
    is_list(V) andalso
        case lists:keyfind(max_heap_size, 1, V) of
            {max_heap_size, M} -> is_map(M) orelse is_integer(M);
            false -> true
        end;
item_ok(garbage_collection_info, V) ->
    is_list(V) andalso lists:all(fun({K, N}) -> is_atom(K) andalso is_integer(N);
                                    (_) -> false end, V);
item_ok(dictionary, V) ->
    is_list(V) andalso
        lists:all(fun({K, _}) -> lists:member(K, ['$initial_call', '$ancestors',
                                                  '$process_label']);
                     (_) -> false end, V);
item_ok(flame_skipped, V) -> is_list(V) andalso lists:all(fun is_atom/1, V);
item_ok(flame_unchanged, V) -> is_integer(V);
item_ok(K, V) when K =:= reductions; K =:= message_queue_len; K =:= memory;
                   K =:= total_heap_size; K =:= heap_size; K =:= stack_size ->
    is_integer(V) andalso V >= 0;
item_ok(_, _) ->
    true.

is_mfa({M, F, A}) -> is_atom(M) andalso is_atom(F) andalso is_integer(A);
is_mfa(_) -> false.

is_frame({M, F, A, Loc}) ->
    is_atom(M) andalso is_atom(F) andalso (is_integer(A) orelse is_list(A))
        andalso is_list(Loc);
is_frame(_) -> false.

err(S, Fmt, Args) ->
    S#{errors => maps:get(errors, S) ++ [lists:flatten(io_lib:format(Fmt, Args))]}.

%%--------------------------------------------------------------------
%% Across the files of a capture
%%--------------------------------------------------------------------

meta(R) ->
    case maps:get(header, R) of
        {flame_dump, 1, M} when is_map(M) -> M;
        _ -> #{}
    end.

by_capture(Results) ->
    lists:foldl(fun(R, Acc) ->
                        case maps:get(capture, meta(R), undefined) of
                            undefined -> Acc;
                            C -> maps:update_with(C, fun(L) -> [R | L] end, [R], Acc)
                        end
                end, #{}, Results).

check_captures(Results) ->
    lists:append([check_capture(C, Rs) || {C, Rs} <- maps:to_list(by_capture(Results))]).

check_capture(C, Rs0) ->
    Rs = lists:sort(fun(A, B) -> maps:get(seq, meta(A), 0) =< maps:get(seq, meta(B), 0) end, Rs0),
    Seqs = [maps:get(seq, meta(R), undefined) || R <- Rs],
    E1 = case Seqs =:= lists:seq(hd(Seqs), hd(Seqs) + length(Seqs) - 1) of
             true -> [];
             false -> [fmt("capture ~ts: seq not contiguous: ~p", [C, Seqs])]
         end,
    Same = fun(K) ->
                   case lists:usort([maps:get(K, meta(R), undefined) || R <- Rs]) of
                       [_] -> [];
                       Vs -> [fmt("capture ~ts: files disagree on ~p: ~p", [C, K, Vs])]
                   end
           end,
    E2 = Same(node) ++ Same(sample_interval_ms) ++ Same(otp_release),
    E3 = ts_across(C, Rs),
    E1 ++ E2 ++ E3.

ts_across(_C, [_]) -> [];
ts_across(C, [A, B | Rest]) ->
    E = case {maps:get(last_ts, A), maps:get(first_ts, B)} of
            {La, Fb} when is_integer(La), is_integer(Fb), Fb < La ->
                [fmt("capture ~ts: seq ~p starts at ~B, before the end of seq ~p (~B)",
                     [C, maps:get(seq, meta(B)), Fb, maps:get(seq, meta(A)), La])];
            _ -> []
        end,
    E ++ ts_across(C, [B | Rest]).

fmt(Fmt, Args) -> lists:flatten(io_lib:format(Fmt, Args)).

%%--------------------------------------------------------------------
%% Output
%%--------------------------------------------------------------------

print_file(R) ->
    M = meta(R),
    Span = case {maps:get(first_ts, R), maps:get(last_ts, R)} of
               {F, L} when is_integer(F), is_integer(L) -> (L - F) / 1.0e6;
               _ -> 0.0
           end,
    Trailer = case maps:get(trailer, R) of
                  {flame_dump_end, St} -> maps:get(overruns, St, '?');
                  undefined -> none
              end,
    io:format("~ts: ~B bytes ~p capture=~ts seq=~p node=~p otp=~ts interval=~pms "
              "terms=~B ticks=~B samples=~B pids=~B system=~B unknown=~B "
              "span=~.3fs trailer_overruns=~p~n",
              [maps:get(file, R), maps:get(bytes, R), maps:get(encoding, R),
               maps:get(capture, M, <<"?">>), maps:get(seq, M, '?'),
               maps:get(node, M, '?'), maps:get(otp_release, M, <<"?">>),
               maps:get(sample_interval_ms, M, '?'),
               maps:get(terms, R), maps:get(ticks, R), maps:get(samples, R),
               map_size(maps:get(pids, R)), maps:get(system, R),
               maps:get(unknown, R), Span, Trailer]).

print_captures(Results) ->
    [io:format("capture ~ts: ~B file(s), ~B ticks, ~B samples, ~B bytes~n",
               [C, length(Rs), lists:sum([maps:get(ticks, R) || R <- Rs]),
                lists:sum([maps:get(samples, R) || R <- Rs]),
                lists:sum([maps:get(bytes, R) || R <- Rs])])
     || {C, Rs} <- lists:sort(maps:to_list(by_capture(Results)))],
    ok.
