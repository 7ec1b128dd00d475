%% The terms of flame dump format version 1 (docs/dump-format.md), as
%% Erlang types. A file is a sequence of frames (4-byte big-endian length, then
%% term_to_binary of one term) or of plain concatenated terms, optionally
%% gzip- or zstd-compressed as a whole:
%%
%%     header(), then any number of samples() | system() | term(), then trailer()
%%
%% Readers ignore map keys and terms they do not know, so the format can grow.
%% Compile-checked by Tests/erlang (erlc accepts it as a module of types only).
-module(flame_dump_v1).

-export_type([file_term/0, header/0, samples/0, system/0, trailer/0,
              sample/0, item/0, short_items/0, stack_frame/0]).

-type file_term() :: header() | samples() | system() | trailer().

%% The first term of every file.
-type header() :: {flame_dump, 1, #{node := atom(),
                                    otp_release := binary(),
                                    started_at := integer(),        % system_time(microsecond)
                                    monotonic_start := integer(),   % monotonic_time(microsecond), same moment
                                    sample_interval_ms := pos_integer(),
                                    capture := binary(),            % shared by the files of one capture
                                    seq := non_neg_integer(),       % place of the file in its capture
                                    agent := binary(),
                                    word_size => pos_integer(),      % bytes per word (optional; 8 assumed)
                                    %% flame_agent 1.1, optional:
                                    unchanged => short | full,       % may short samples appear
                                    huge_mailbox_len => non_neg_integer() | infinity,
                                    max_tick_us => pos_integer(),
                                    max_scan_per_tick => pos_integer(),
                                    atom() => term()}}.

%% One sampling tick; Ts is monotonic_time(microsecond).
%% Wall clock of Ts: started_at + (Ts - monotonic_start).
-type samples() :: {samples, Ts :: integer(), [sample()]}.

%% What erlang:process_info(Pid, Items) returned; dead processes are left out.
%% Since flame_agent 1.1 (still format 1, see docs/dump-format.md) a sample
%% may also be
%%  - a full sample without some queue-walking items, ending with
%%    {flame_skipped, [memory, total_heap_size, garbage_collection_info]}
%%    (the process's queue was over huge_mailbox_len: those are absent, not 0);
%%  - a short sample of a process that has not run since its full sample at
%%    tick Ts of the same file:
%%    [{status, S}, {reductions, R}, {message_queue_len, Q}, {flame_unchanged, Ts}].
-type sample() :: {pid(), [item()]}
                | {pid(), short_items()}.

-type short_items() :: [{status, atom()} | {reductions, non_neg_integer()}
                        | {message_queue_len, non_neg_integer()}
                        | {flame_unchanged, Ts :: integer()}].

-type item() ::
        {status, atom()}
      | {current_function, {module(), atom(), arity()} | undefined}
      | {current_stacktrace, [stack_frame()]}
      | {initial_call, {module(), atom(), arity()}}
      | {registered_name, atom() | []}
      | {reductions, non_neg_integer()}
      | {message_queue_len, non_neg_integer()}
      | {memory, non_neg_integer()}
      | {total_heap_size, non_neg_integer()}
      | {heap_size, non_neg_integer()}
      | {stack_size, non_neg_integer()}
      | {garbage_collection, [{atom(), term()}]}        % minor_gcs among them
      | {garbage_collection_info, [{atom(), integer()}]}
      | {dictionary, [{'$initial_call' | '$ancestors' | '$process_label', term()}]}
      | {flame_skipped, [atom()]}                       % items left out on purpose (last)
      | {atom(), term()}.                                % items a reader does not know

-type stack_frame() :: {module(), atom(), arity() | [term()],
                        [{file, string()} | {line, pos_integer()} | {atom(), term()}]}.

%% Node-wide figures at a tick (optional).
-type system() :: {system, Ts :: integer(), #{atom() => term()}}.

%% The last term of a file closed cleanly; a file without it was cut short.
-type trailer() :: {flame_dump_end, #{ticks := non_neg_integer(),
                                      samples := non_neg_integer(),
                                      overruns => non_neg_integer(),
                                      atom() => term()}}.
