/* server.h - running the HTTP server: configuration and the entry point.
 *
 * vial_server_run() is the whole engine seen from above: the master process
 * binds the listening sockets, forks the workers, watches over them and
 * handles signals; each worker runs an epoll loop that parses requests and
 * calls the exchange handler on a coroutine per request. The app layer fills
 * a vial_server_config from its own config and CLI and calls it; tests and
 * benchmarks call it directly with a handler written on vial_exchange. */
#ifndef VIAL_SERVER_SERVER_H
#define VIAL_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/exchange.h"
#include "http/parser.h"

typedef struct vial_server_config {
    const char *host;  /* address to bind: "127.0.0.1" (default), "0.0.0.0", "::1", a name */
    int port;          /* default 5000; 0 = a free port, shown in the "Running on" line */
    int workers;       /* worker processes; 0 = one per CPU (1 in debug mode) */
    int backlog;       /* listen(2) backlog per socket; 0 = 4096 (capped by the kernel) */

    vial_http_limits limits; /* zero fields take VIAL_HTTP_LIMITS_DEFAULT's values */
    int64_t max_body;        /* bytes (MAX_CONTENT_LENGTH): larger → 413; 0 = 16 MiB, <0 = unlimited */

    int header_timeout_ms;    /* from a request's first byte to its complete head: 408 and close; 0 = 10 s */
    int body_timeout_ms;      /* longest wait for more body bytes: the read fails with 408; 0 = 30 s */
    int keepalive_timeout_ms; /* idle connection between requests, then closed; 0 = 60 s */
    int write_timeout_ms;     /* longest wait for a client to take response bytes; 0 = 30 s */
    int graceful_timeout_ms;  /* on stop/reload, in-flight requests get this long; 0 = 30 s */

    size_t stack_size;      /* coroutine stack bytes; 0 = 64 KiB (256 KiB under ASan) */
    int max_connections;    /* per worker; 0 = from RLIMIT_NOFILE (raised to its hard limit) */

    vial_exchange_handler handler; /* called on a coroutine for every request */
    void *handler_ctx;

    /* In each worker after fork, before it accepts (open DB pools here).
     * Nonzero: the worker exits and the master retries with back-off. */
    int (*worker_init)(void *ctx, int worker_index);
    /* In each worker when it stops cleanly. */
    void (*worker_exit)(void *ctx, int worker_index);
    /* In the master once every worker is ready; url is "http://127.0.0.1:5000". */
    void (*on_ready)(void *ctx, const char *url);

    const char *server_name; /* Server header; NULL = "vial", "" = none */
    bool debug;              /* one worker; reload when the binary or a watched file changes */
    const char *const *watch_files; /* NULL-terminated, debug mode only (templates, config) */
    bool quiet;              /* no "Running on" line (on_ready still runs) */
    bool single_process;     /* no master: one worker in this process (for debuggers and
                              * profilers, like nginx's master_process off); no respawn, no reload */
} vial_server_config;

/* Fills cfg with the defaults (everything zero means "default" too). */
void vial_server_config_init(vial_server_config *cfg);

/* Runs the server until SIGTERM/SIGINT: master + workers, as configured.
 * SIGHUP reloads with zero downtime (re-executes the binary, which calls
 * vial_server_run again, with the listening sockets inherited); SIGUSR1
 * reopens the log. Returns 0 after a clean stop, -1 when the server could not
 * start (the reason is logged). Only the master returns; workers exit. */
int vial_server_run(const vial_server_config *cfg);

#endif
