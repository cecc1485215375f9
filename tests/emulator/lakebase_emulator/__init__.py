"""Databricks workspace emulator for the lakebase-odbc tests (Python 3.11, stdlib only).
Owns: the OAuth M2M token endpoint, the Lakebase `postgres` credential and endpoint APIs,
the Lakebase Provisioned `database` credential and instance APIs,
the live-credentials file that the local PostgreSQL's PAM check reads, scale-to-zero of the
local PostgreSQL (suspend / wake on first use), and a control API (/_emulator/...) for stats,
fault injection and run-time settings.

Usage:
    python3 lakebase_emulator.py --config CONFIG.json --port N --cert CERT.pem --key KEY.pem
                                 --live-file FILE [--pidfile FILE] [--log FILE]
                                 [--record-issued FILE]
                                 [--wrong-host-port N --wrong-host-cert PEM --wrong-host-key KEY]

  --config     JSON: {"service_principals": [{"client_id", "client_secret", "workspace_access"}],
               "endpoints": [{"name", "host", "port", "state"}], "credential_lifetime": s,
               "token_lifetime": s}  (optional per endpoint: "endpoint_type", "read_only_host",
               "read_write_pooled_host", "read_only_pooled_host", "disabled"; top level "max_page_size";
               optional top level: "instances": [{"name", "read_write_dns", "read_only_dns",
               "state"}] for Lakebase Provisioned;
               optional top level: "fractional_seconds": 0, 3, 6 or 9 (digits of expire_time's
               fraction; true = 6, false = 0; default 9), "error_details": bool (default true),
               "retry_after": s (default 1; 0: none), and "compute": {"port": N,
               "start": [argv], "stop": [argv], "ready": [argv], "endpoint": name (default the
               first), "log": file for the commands' output, "hosts": [addresses to hold while
               suspended, default 127.0.0.1 and ::1], "ready_timeout": s}, and "unified_host":
               {"workspace_ids": ["<digits>", ...], "account_id": "<id>"}: see Unified below;
               "users": [{"userName": "<e-mail>", "id": "<digits>", "pats": ["<token>", ...]}]:
               people, who authenticate with a personal access token or a CLI login (see Users);
               "federation": {"issuer", "audience", "key": "<hex HS256 key>", "policies":
               [{"client_id", "subject"}]}: workload identity federation (see Federation);
               "azure": {"tenant_id", "apps": [{"client_id", "client_secret"}], "managed_identities":
               [{"client_id", "system_assigned": bool}]}: an Entra ID tenant and the machine's
               managed identities (see azure.Azure))
  --port       HTTPS port; the emulator listens on 127.0.0.1 and, when available, ::1
  --cert/--key PEM server certificate (chain) and key
  --live-file  rewritten atomically on every change: "<role> <sha256 hex of token> <expiry>"
               per live database credential (never the token itself)
  --pidfile    written once the sockets are bound, removed on exit
  --log        append request log lines here instead of stderr (method, path, status only)
  --record-issued  append every database credential and OAuth access token issued, one per
               line (file mode 0600), so that a test can look for leaks of each of them
  --wrong-host-port/--wrong-host-cert/--wrong-host-key
               a second HTTPS listener (same routes and state) with a certificate for another
               host name, for hostname-verification tests
  --imds-port  a plain-HTTP listener on 127.0.0.1 serving the Azure instance metadata service's
               token route (/metadata/identity/oauth2/token)

Layout: common (constants, log, error bodies), faults, state, compute (scale to zero),
server (handler, dispatch, TLS listeners), the routes by service (oauth, postgres, database,
unified, users, federation, azure), control (/_emulator/...), __main__ (the command line).

See README.md beside this package for the routes, the control API and the suspend design.
"""
