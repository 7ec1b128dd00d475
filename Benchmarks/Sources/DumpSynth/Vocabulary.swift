/// The module/function vocabulary of the synthetic node: real OTP, Elixir,
/// Phoenix/Ecto/Cowboy call sites with the file names and lines OTP 25 reports,
/// plus an application of generated modules. Stack frames are `{M, F, Arity,
/// Location}`; `Location` is `[{file, Chars}, {line, N}]`, or `[]` for BIFs and
/// NIFs, exactly as `process_info(P, current_stacktrace)` returns them.

/// One call site: a frame of a stack trace.
struct CallSite {
    let module: String
    let function: String
    let arity: Int
    /// 0 for a BIF or NIF frame, which has no location.
    let line: Int
}

/// A frame written `module|function|arity|line` (line 0: no location).
private func site(_ spec: String) -> CallSite {
    let parts = spec.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    precondition(parts.count == 4, "bad call site \(spec)")
    return CallSite(module: parts[0], function: parts[1], arity: Int(parts[2])!, line: Int(parts[3])!)
}

private func sites(_ specs: [String]) -> [CallSite] { specs.map(site) }

/// The source file a module's frames name: OTP modules by base name (as OTP's
/// own build records them), Elixir modules by their path under `lib/`, and the
/// generated Erlang application by the absolute path rebar3 compiles it from.
func sourceFile(ofModule module: String) -> String {
    if module.hasPrefix("Elixir.") {
        let parts = module.dropFirst("Elixir.".count).split(separator: ".").map { snakeCase(String($0)) }
        return "lib/" + parts.joined(separator: "/") + ".ex"
    }
    for app in Vocabulary.erlangApps where module.hasPrefix(app + "_") {
        return "/srv/\(app)/_build/prod/lib/\(app)/src/\(module).erl"
    }
    return module + ".erl"
}

/// `DBConnection` -> `db_connection`, `Cowboy2Handler` -> `cowboy2_handler`.
private func snakeCase(_ s: String) -> String {
    var out = ""
    let chars = Array(s)
    for (i, ch) in chars.enumerated() {
        if ch.isUppercase {
            // A capital starts a word unless it continues an acronym (DB|Connection).
            let prevUpper = i > 0 && chars[i - 1].isUppercase
            let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
            if i > 0 && (!prevUpper || nextLower) { out.append("_") }
            out.append(Character(ch.lowercased()))
        } else {
            out.append(ch)
        }
    }
    return out
}

enum Vocabulary {
    // MARK: Spines: the bottom of a stack, bottom frame first.

    static let genServerSpine = sites([
        "proc_lib|init_p_do_apply|3|240",
        "gen_server|handle_msg|6|1200",
    ])
    static let genServerCall = site("gen_server|try_handle_call|4|1149")
    static let genServerInfo = site("gen_server|try_handle_info|3|1124")
    static let genServerCast = site("gen_server|try_handle_cast|3|1110")

    static let genStatemSpine = sites([
        "proc_lib|init_p_do_apply|3|240",
        "gen_statem|loop_receive|3|1245",
        "gen_statem|loop_state_callback|11|1378",
        "gen_statem|loop_callback_mode_result|12|1448",
    ])

    static let cowboySpine = sites([
        "proc_lib|init_p_do_apply|3|240",
        "cowboy_stream_h|request_process|3|300",
        "cowboy_stream_h|execute|3|314",
        "cowboy_handler|execute|2|37",
        "Elixir.Phoenix.Endpoint.Cowboy2Handler|init|4|43",
        "Elixir.Shop.Endpoint|call|2|1",
        "Elixir.Shop.Endpoint|plug_builder_call|2|1",
        "Elixir.Shop.Endpoint|call|2|1",
        "Elixir.Plug.Telemetry|call|2|16",
        "Elixir.Shop.Router|call|2|1",
        "Elixir.Phoenix.Router|__call__|5|478",
    ])

    static let taskSpine = sites([
        "proc_lib|init_p_do_apply|3|240",
        "Elixir.Task.Supervised|invoke_mfa|2|101",
        "Elixir.Task.Supervised|reply|4|34",
    ])

    static let acceptorStack = sites([
        "ranch_acceptor|loop|5|67",
        "ranch_tcp|accept|2|110",
        "gen_tcp|accept|2|187",
        "inet_tcp|accept|1|219",
        "prim_inet|accept0|3|440",
    ])

    static let workerSpine = sites([
        "erlang|apply|2|0",
    ])

    // MARK: Library frames that call back into application code (callers of funs).

    static let higherOrder = sites([
        "lists|foldl|3|1355",
        "lists|map|2|1315",
        "lists|foreach_1|2|1442",
        "lists|filtermap_1|2|1626",
        "lists|mapfoldl_1|3|1389",
        "maps|fold_1|4|415",
        "maps|map_1|2|445",
        "Elixir.Enum|map|2|1658",
        "Elixir.Enum|-map/2-lists^map/1-0-|2|1658",
        "Elixir.Enum|reduce|3|2468",
        "Elixir.Enum|-reduce/3-lists^foldl/2-0-|3|2468",
        "Elixir.Enum|each|2|942",
        "Elixir.Stream|-map/2-fun-0-|4|633",
        "Elixir.Task.Supervised|invoke_mfa|2|101",
        "erl_eval|do_apply|7|744",
        "timer|tc|1|235",
        "Elixir.DBConnection|run|3|1560",
        "Elixir.Ecto.Repo.Transaction|transaction|4|18",
        "Elixir.DBConnection|transaction|3|938",
        "mnesia_tm|apply_fun|3|851",
        "mnesia|transaction|6|332",
    ])

    // MARK: Tops of stacks.

    /// What a waiting process is blocked in, top frame first.
    static let blockingTops: [[CallSite]] = [
        sites(["gen|do_call|4|237", "gen|call|4|220", "gen_server|call|3|401"]),
        sites(["gen|do_call|4|237", "gen|call|4|220", "gen_server|call|2|386"]),
        sites(["gen|do_call|4|237", "gen|call|4|220", "gen_statem|call_dirty|4|917", "gen_statem|call|3|903"]),
        sites(["prim_inet|recv0|3|455", "gen_tcp|recv|3|434"]),
        sites(["prim_inet|recv0|3|455", "gen_tcp|recv|3|434", "Elixir.Postgrex.Protocol|msg_recv|4|3292", "Elixir.Postgrex.Protocol|recv_bind|3|2101"]),
        sites(["Elixir.DBConnection.Holder|checkout_call|5|363", "Elixir.DBConnection.Holder|checkout|3|95", "Elixir.DBConnection|checkout|3|1104", "Elixir.DBConnection|run|3|1560"]),
        sites(["timer|sleep|1|219"]),
        sites(["Elixir.Process|sleep|1|295"]),
        sites(["Elixir.Task|await|2|831"]),
        sites(["ssl_gen_statem|call|2|1208", "ssl_gen_statem|read_application_data|2|603"]),
        sites(["erlang|hibernate|3|0"]),
        sites(["mnesia_locker|receive_wlocks|4|702", "mnesia_locker|wlock|3|405", "mnesia|write|5|528"]),
        sites(["global|trans|4|521"]),
    ]

    /// What a running process is busy in, top frame first.
    static let runningTops: [[CallSite]] = [
        sites(["lists|reverse|2|0"]),
        sites(["lists|keyfind|3|0"]),
        sites(["ets|lookup|2|0"]),
        sites(["ets|select|2|0"]),
        sites(["ets|insert|2|0"]),
        sites(["ets|match_object|2|0"]),
        sites(["erlang|term_to_binary|1|0"]),
        sites(["erlang|binary_to_term|1|0"]),
        sites(["erlang|iolist_to_binary|1|0"]),
        sites(["erlang|iolist_size|1|0"]),
        sites(["maps|from_list|1|0"]),
        sites(["crypto|hash|2|0", "crypto|hash|2|1194"]),
        sites(["re|run|3|0", "re|run|2|346"]),
        sites(["lists|merge3_1|6|2047", "lists|mergel|2|1808", "lists|sort|1|481"]),
        sites(["lists|rmerge3_12_3|6|2150", "lists|rmergel|2|1823", "lists|sort|2|1062"]),
        sites(["lists|split_2|5|1511", "lists|split|2|1502"]),
        sites(["lists|seq_loop|3|275", "lists|seq|2|255"]),
        sites(["io_lib_format|build_small|1|593", "io_lib_format|build|3|251", "io_lib_format|fwrite|2|72", "io_lib|format|2|184"]),
        sites(["io_lib_format|collect_cseq|2|172", "io_lib_format|collect|2|96", "io_lib_format|fwrite|2|71", "io_lib|format|2|184"]),
        sites(["unicode|characters_to_binary|2|0", "unicode|characters_to_binary|1|380"]),
        sites(["string|split_1|6|1548", "string|split|3|583"]),
        sites(["binary|split|3|0", "binary|split|2|107"]),
        sites(["Elixir.Jason.Encode|escape_json|4|476", "Elixir.Jason.Encode|encode_string|2|450", "Elixir.Jason.Encode|map_naive_loop|3|320", "Elixir.Jason.Encode|map_naive|3|311", "Elixir.Jason|encode_to_iodata!|2|88"]),
        sites(["Elixir.Jason.Decoder|string|6|422", "Elixir.Jason.Decoder|object|6|240", "Elixir.Jason.Decoder|parse|2|56", "Elixir.Jason|decode|2|46"]),
        sites(["Elixir.Ecto.Repo.Preloader|-preload_assocs/5-fun-0-|6|327", "Elixir.Ecto.Repo.Preloader|preload_assocs|5|318", "Elixir.Ecto.Repo.Preloader|preload_each|4|97"]),
        sites(["Elixir.Ecto.Changeset|cast_field|9|867", "Elixir.Ecto.Changeset|process_param|8|842", "Elixir.Ecto.Changeset|-cast/6-fun-0-|8|733", "Elixir.Enum|-reduce/3-lists^foldl/2-0-|3|2468", "Elixir.Ecto.Changeset|cast|6|733"]),
        sites(["Elixir.Plug.Conn.Query|decode_each|2|160", "Elixir.Plug.Conn.Query|decode|4|130"]),
        sites(["Elixir.Enum|-map/2-lists^map/1-0-|2|1658"]),
        sites(["erlang|garbage_collect|0|0"]),
    ]

    // MARK: Process shapes.

    static let supervisors = ["shop_sup", "billing_sup", "ingest_sup", "kernel_sup", "shop_pool_sup", "Elixir.Shop.Supervisor",
                              "Elixir.Shop.Repo.Supervisor", "ranch_sup", "ssl_connection_sup", "tls_connection_sup"]
    static let appSupervisors = ["shop_sup", "billing_sup", "ingest_sup", "Elixir.Shop.Supervisor"]

    static let statuses: [String] = ["waiting", "running", "runnable", "garbage_collecting", "suspended"]

    /// Erlang's heap size steps (words): what `heap_size` and the block sizes take.
    static let heapSizes: [Int] = [233, 376, 610, 987, 1598, 2586, 4185, 6772, 10958, 17731, 28690, 46422,
                                   75113, 121536, 196650, 318187, 514838, 833026, 1347869, 2180895, 3528764]

    // MARK: The generated application.

    static let erlangApps = ["billing", "ingest"]
    static let domains = ["orders", "payments", "users", "sessions", "inventory", "events", "metrics", "search",
                          "ledger", "invoices", "shipments", "carts", "prices", "tokens", "audit", "reports",
                          "feeds", "notifications", "webhooks", "accounts"]
    static let roles = ["server", "worker", "store", "handler", "cache", "api", "pool", "codec", "queue", "router",
                        "scheduler", "consumer", "producer", "batcher", "index"]
    static let elixirRoles = ["Server", "Worker", "Store", "Cache", "Query", "Context", "Schema", "Consumer",
                              "Producer", "Batcher", "Pipeline", "Validator", "Serializer"]
    /// Function names of application modules, with arities; a generated module takes a handful.
    static let appFunctions: [(String, Int)] = [
        ("handle_call", 3), ("handle_cast", 2), ("handle_info", 2), ("init", 1), ("process", 2), ("do_process", 3),
        ("fetch", 2), ("fetch_many", 3), ("persist", 2), ("validate", 1), ("encode", 1), ("decode", 1), ("run", 1),
        ("loop", 1), ("loop", 2), ("execute", 3), ("build_query", 2), ("apply_rules", 3), ("normalize", 1),
        ("merge", 2), ("flush", 1), ("maybe_flush", 2), ("dispatch", 3), ("notify", 2), ("compute_totals", 2),
        ("-process/2-fun-0-", 1), ("-handle_call/3-fun-1-", 2), ("-fetch_many/3-lc$^0/1-0-", 1),
        ("-apply_rules/3-fun-2-", 3), ("-compute_totals/2-fun-0-", 2),
    ]
    static let elixirFunctions: [(String, Int)] = [
        ("handle_call", 3), ("handle_info", 2), ("call", 2), ("list", 1), ("get!", 2), ("get", 2), ("create", 1),
        ("update", 2), ("changeset", 2), ("run", 2), ("process_batch", 2), ("handle_event", 3), ("to_map", 1),
        ("from_map", 1), ("build", 2), ("-process_batch/2-fun-0-", 1), ("-list/1-fun-1-", 2),
        ("-update/2-fn-0-", 1), ("action", 2), ("index", 2), ("show", 2), ("render", 3),
    ]
}
