/* master.c - the master process: sockets, workers, signals, reloads.
 *
 * The master binds the listening sockets (listen.c), forks the workers and
 * then only supervises; it never touches a request, so a crashing handler
 * costs the requests in flight on one worker, not the service:
 *   - a worker that dies is logged and respawned, at once the first time and
 *     with a growing delay while it keeps dying young;
 *   - SIGTERM / SIGINT: graceful stop. The master closes its copies of the
 *     sockets and sends SIGTERM to the workers, which finish what they are
 *     doing (up to the graceful timeout) and exit; then it returns 0. A
 *     second signal stops everything at once;
 *   - SIGHUP: zero-downtime reload. The master re-executes its binary (the
 *     one on disk now, possibly rebuilt) in place, keeping its pid, its
 *     children and the listening sockets, whose numbers travel in the
 *     environment. The new image starts a new set of workers on the same
 *     sockets and, once every one of them is ready, stops the old ones
 *     gracefully. Connections queue on the sockets meanwhile, none is
 *     refused; if the new binary cannot be executed the old one carries on;
 *   - SIGUSR1: reopen the log (after rotation), in the master and workers.
 * In debug mode one worker runs and the master reloads by itself when the
 * binary or a watched file changes. Signals are read from a signalfd, so the
 * master's loop is ordinary code, not a signal handler. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/listen.h"
#include "server/server.h"
#include "server/worker.h"
#include "vial.h"

#define ENV_FDS "VIAL_SERVER_FDS"
#define ENV_OLD "VIAL_SERVER_OLD_WORKERS"
#define YOUNG_MS 2000       /* a worker dying sooner than this after its start backs off */
#define BACKOFF_MAX_MS 10000
#define WATCH_MS 500
#define MAX_OLD 1024

typedef struct slot {
    pid_t pid;        /* 0: not running */
    uint64_t started; /* ms */
    uint64_t respawn_at;
    int fails;
    bool ready;
} slot;

typedef struct watched {
    const char *path;
    struct timespec mtime;
    off_t size;
    bool exists;
} watched;

typedef struct master {
    vial_server_config cfg;
    int nslots;
    slot *slots;
    int *fds;
    vial_sockaddr addr;
    char url[128];
    pid_t old[MAX_OLD]; /* workers of the image before a reload */
    int nold;
    bool reloaded;      /* this image came from a reload */
    int sigfd, ready_rd, ready_wr;
    bool stopping;
    uint64_t stop_deadline;
    bool announced;
    pid_t pid;
    char exe[PATH_MAX];
    char **argv;
    char *argv_mem;
    watched *watch;
    int nwatch;
    bool change_seen; /* a watched file changed at the last check: reload when stable */
} master;

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void raise_fd_limit(void);

/* ---- the command line to re-execute ----------------------------------- */

static int read_self(master *m) {
    ssize_t n = readlink("/proc/self/exe", m->exe, sizeof m->exe - 1);
    if (n <= 0) return -1;
    m->exe[n] = '\0';
    const char *deleted = " (deleted)";
    size_t dl = strlen(deleted);
    if ((size_t)n > dl && strcmp(m->exe + n - dl, deleted) == 0) m->exe[n - dl] = '\0';
    FILE *f = fopen("/proc/self/cmdline", "rb");
    if (!f) return -1;
    size_t cap = 4096, len = 0;
    char *mem = malloc(cap);
    while (mem) {
        size_t got = fread(mem + len, 1, cap - len, f);
        len += got;
        if (len < cap) break;
        char *bigger = realloc(mem, cap * 2);
        if (!bigger) {
            free(mem);
            mem = NULL;
            break;
        }
        mem = bigger;
        cap *= 2;
    }
    fclose(f);
    if (!mem || len == 0) {
        free(mem);
        return -1;
    }
    int argc = 0;
    for (size_t i = 0; i < len; i++)
        if (mem[i] == '\0') argc++;
    if (mem[len - 1] != '\0') argc++;
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    char *term = realloc(mem, len + 1);
    if (!argv || !term) {
        free(argv);
        free(term ? term : mem);
        return -1;
    }
    mem = term;
    mem[len] = '\0';
    int k = 0;
    for (size_t i = 0; i < len && k < argc; i += strlen(mem + i) + 1) argv[k++] = mem + i;
    argv[k] = NULL;
    m->argv = argv;
    m->argv_mem = mem;
    return 0;
}

/* ---- workers ---------------------------------------------------------------- */

static int slot_of(master *m, pid_t pid) {
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid == pid) return i;
    return -1;
}

static void spawn(master *m, int i) {
    fflush(NULL); /* buffered output must not be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        vial_log(VIAL_LOG_ERROR, "cannot start worker %d: fork: %s", i, strerror(errno));
        m->slots[i].respawn_at = now_ms() + 1000;
        return;
    }
    if (pid == 0) {
        /* A worker outliving its master would keep serving unsupervised. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != m->pid) _exit(0);
        close(m->sigfd);
        close(m->ready_rd);
        for (int j = 0; j < m->nslots; j++)
            if (j != i && m->fds[j] >= 0) close(m->fds[j]);
        vial_worker_main(&m->cfg, i, m->fds[i], m->ready_wr);
    }
    slot *s = &m->slots[i];
    s->pid = pid;
    s->started = now_ms();
    s->respawn_at = 0;
    s->ready = false;
}

static void describe_exit(int status, char *out, size_t n) {
    if (WIFEXITED(status))
        snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "was killed by signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    else
        snprintf(out, n, "stopped (status %d)", status);
}

static void reap(master *m) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        char how[128];
        describe_exit(status, how, sizeof how);
        int i = slot_of(m, pid);
        if (i >= 0) {
            slot *s = &m->slots[i];
            s->pid = 0;
            s->ready = false;
            if (m->stopping) {
                if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                    vial_log(VIAL_LOG_WARNING, "worker %d (pid %d) %s while stopping", i, (int)pid, how);
                continue;
            }
            uint64_t now = now_ms();
            if (now - s->started < YOUNG_MS)
                s->fails++;
            else
                s->fails = 0;
            uint64_t delay = 0;
            if (s->fails > 0) {
                delay = 100ull << (s->fails > 7 ? 7 : s->fails - 1);
                if (delay > BACKOFF_MAX_MS) delay = BACKOFF_MAX_MS;
            }
            s->respawn_at = now + delay;
            if (delay)
                vial_log(VIAL_LOG_ERROR, "worker %d (pid %d) %s; respawning in %llu ms", i, (int)pid, how,
                         (unsigned long long)delay);
            else
                vial_log(VIAL_LOG_ERROR, "worker %d (pid %d) %s; respawning", i, (int)pid, how);
            continue;
        }
        for (int k = 0; k < m->nold; k++) {
            if (m->old[k] != pid) continue;
            m->old[k] = m->old[--m->nold];
            if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                vial_log(VIAL_LOG_WARNING, "previous worker (pid %d) %s", (int)pid, how);
            else
                vial_log(VIAL_LOG_INFO, "previous worker (pid %d) finished", (int)pid);
            break;
        }
    }
}

static void respawn_due(master *m) {
    if (m->stopping) return;
    uint64_t now = now_ms();
    for (int i = 0; i < m->nslots; i++) {
        slot *s = &m->slots[i];
        if (s->pid == 0 && s->respawn_at <= now) {
            spawn(m, i);
            if (s->pid) vial_log(VIAL_LOG_INFO, "worker %d started (pid %d)", i, (int)s->pid);
        }
    }
}

static void signal_all(master *m, int sig) {
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid > 0) kill(m->slots[i].pid, sig);
    for (int k = 0; k < m->nold; k++) kill(m->old[k], sig);
}

static int live_children(master *m) {
    int n = m->nold;
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid > 0) n++;
    return n;
}

static void read_ready(master *m) {
    int32_t pids[64];
    ssize_t n;
    while ((n = read(m->ready_rd, pids, sizeof pids)) > 0) {
        for (size_t k = 0; k < (size_t)n / sizeof pids[0]; k++) {
            int i = slot_of(m, (pid_t)pids[k]);
            if (i >= 0) m->slots[i].ready = true;
        }
    }
    for (int i = 0; i < m->nslots; i++)
        if (!m->slots[i].ready) return;
    if (!m->announced) {
        m->announced = true;
        if (m->reloaded) {
            vial_log(VIAL_LOG_INFO, "Reloaded: %d new worker(s) running on %s; stopping %d previous worker(s)",
                     m->nslots, m->url, m->nold);
            for (int k = 0; k < m->nold; k++) kill(m->old[k], SIGTERM);
        } else if (!m->cfg.quiet) {
            vial_log(VIAL_LOG_INFO, "Running on %s (%d worker%s, master pid %d%s; Ctrl-C to quit)", m->url,
                     m->nslots, m->nslots == 1 ? "" : "s", (int)m->pid, m->cfg.debug ? ", debug" : "");
        }
        if (m->cfg.on_ready) m->cfg.on_ready(m->cfg.handler_ctx, m->url);
    }
}

/* ---- stop and reload -------------------------------------------------------- */

static void begin_stop(master *m, int sig) {
    if (m->stopping) {
        vial_log(VIAL_LOG_WARNING, "%s again: stopping now", strsignal(sig));
        signal_all(m, SIGKILL);
        m->stop_deadline = 0;
        return;
    }
    m->stopping = true;
    m->stop_deadline = now_ms() + (uint64_t)m->cfg.graceful_timeout_ms + 2000;
    vial_log(VIAL_LOG_INFO, "%s: shutting down (in-flight requests get up to %d ms)", strsignal(sig),
             m->cfg.graceful_timeout_ms);
    for (int i = 0; i < m->nslots; i++) {
        if (m->fds[i] >= 0) close(m->fds[i]);
        m->fds[i] = -1;
    }
    signal_all(m, SIGTERM);
}

static void set_cloexec(int fd, bool on) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

static void reload(master *m, const char *why) {
    if (m->stopping) return;
    if (!m->argv) {
        vial_log(VIAL_LOG_ERROR, "cannot reload (%s): the command line is unknown", why);
        return;
    }
    char fds[1024] = "", old[8192] = "";
    size_t fl = 0, ol = 0;
    for (int i = 0; i < m->nslots; i++)
        fl += (size_t)snprintf(fds + fl, sizeof fds - fl, "%s%d", i ? "," : "", m->fds[i]);
    for (int i = 0; i < m->nslots && ol < sizeof old - 16; i++)
        if (m->slots[i].pid > 0) ol += (size_t)snprintf(old + ol, sizeof old - ol, "%s%d", ol ? "," : "", (int)m->slots[i].pid);
    for (int k = 0; k < m->nold && ol < sizeof old - 16; k++)
        ol += (size_t)snprintf(old + ol, sizeof old - ol, "%s%d", ol ? "," : "", (int)m->old[k]);
    vial_log(VIAL_LOG_INFO, "Reloading (%s): executing %s", why, m->exe);
    for (int i = 0; i < m->nslots; i++) set_cloexec(m->fds[i], false);
    setenv(ENV_FDS, fds, 1);
    setenv(ENV_OLD, old, 1);
    fflush(NULL);
    execv(m->exe, m->argv);
    int e = errno;
    unsetenv(ENV_FDS);
    unsetenv(ENV_OLD);
    for (int i = 0; i < m->nslots; i++) set_cloexec(m->fds[i], true);
    vial_log(VIAL_LOG_ERROR, "reload failed: cannot execute %s: %s; the running version carries on", m->exe,
             strerror(e));
}

/* ---- debug: watching the binary ------------------------------------------- */

static void watch_stat(watched *w) {
    struct stat st;
    w->exists = stat(w->path, &st) == 0;
    w->mtime = w->exists ? st.st_mtim : (struct timespec){0, 0};
    w->size = w->exists ? st.st_size : 0;
}

static void watch_check(master *m) {
    bool changed = false;
    for (int i = 0; i < m->nwatch; i++) {
        watched before = m->watch[i];
        watch_stat(&m->watch[i]);
        if (before.exists != m->watch[i].exists || before.size != m->watch[i].size ||
            before.mtime.tv_sec != m->watch[i].mtime.tv_sec || before.mtime.tv_nsec != m->watch[i].mtime.tv_nsec)
            changed = true;
    }
    if (changed) {
        m->change_seen = true; /* wait until it holds still: a linker may be writing it */
        return;
    }
    if (m->change_seen && m->watch[0].exists) {
        m->change_seen = false;
        reload(m, "a watched file changed");
    }
}

/* ---- startup ------------------------------------------------------------------ */

static int parse_int_list(const char *s, long *out, int max) {
    int n = 0;
    while (s && *s && n < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) return -1;
        out[n++] = v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

/* Sockets from a reload, or fresh ones. */
static int open_sockets(master *m) {
    const char *host = m->cfg.host ? m->cfg.host : "127.0.0.1";
    long inherited[256];
    int ninherited = 0;
    const char *env = getenv(ENV_FDS);
    if (env) {
        ninherited = parse_int_list(env, inherited, 256);
        if (ninherited < 0) ninherited = 0;
        const char *old = getenv(ENV_OLD);
        long pids[MAX_OLD];
        int npids = old ? parse_int_list(old, pids, MAX_OLD) : 0;
        for (int k = 0; k < npids; k++)
            if (pids[k] > 0) m->old[m->nold++] = (pid_t)pids[k];
        unsetenv(ENV_FDS);
        unsetenv(ENV_OLD);
        m->reloaded = true;
    }
    int next = 0;
    vial_sockaddr addr;
    for (int k = 0; k < ninherited; k++) {
        int fd = (int)inherited[k];
        if (fd < 0 || vial_listen_address(fd, &addr) != 0) continue;
        if (m->cfg.port != 0 && vial_listen_port(&addr) != m->cfg.port) {
            vial_log(VIAL_LOG_WARNING, "an inherited socket listens on port %d, not %d: closing it",
                     vial_listen_port(&addr), m->cfg.port);
            close(fd);
            continue;
        }
        set_cloexec(fd, true);
        if (next < m->nslots) {
            if (next == 0) m->addr = addr;
            m->fds[next++] = fd;
        } else {
            close(fd); /* fewer workers now */
        }
    }
    char err[256];
    for (; next < m->nslots; next++) {
        int port = next == 0 ? m->cfg.port : vial_listen_port(&m->addr);
        int fd = vial_listen_bind(host, port, m->cfg.backlog > 0 ? m->cfg.backlog : 4096, &addr, err, sizeof err);
        if (fd < 0) {
            vial_log(VIAL_LOG_ERROR, "%s", err);
            return -1;
        }
        if (next == 0) m->addr = addr;
        m->fds[next] = fd;
    }
    vial_listen_url(&m->addr, m->url, sizeof m->url);
    return 0;
}

static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void master_free(master *m) {
    for (int i = 0; i < m->nslots; i++)
        if (m->fds && m->fds[i] >= 0) close(m->fds[i]);
    if (m->sigfd >= 0) close(m->sigfd);
    if (m->ready_rd >= 0) close(m->ready_rd);
    if (m->ready_wr >= 0) close(m->ready_wr);
    free(m->slots);
    free(m->fds);
    free(m->argv);
    free(m->argv_mem);
    free(m->watch);
}

/* No master: bind one socket and be the worker (debuggers, profilers). */
static int run_single(const vial_server_config *cfg) {
    vial_sockaddr addr;
    char err[256], url[128];
    raise_fd_limit();
    int fd = vial_listen_bind(cfg->host ? cfg->host : "127.0.0.1", cfg->port, cfg->backlog > 0 ? cfg->backlog : 4096,
                              &addr, err, sizeof err);
    if (fd < 0) {
        vial_log(VIAL_LOG_ERROR, "%s", err);
        return -1;
    }
    vial_listen_url(&addr, url, sizeof url);
    if (!cfg->quiet)
        vial_log(VIAL_LOG_INFO, "Running on %s (single process, pid %d; Ctrl-C to quit)", url, (int)getpid());
    if (cfg->on_ready) cfg->on_ready(cfg->handler_ctx, url);
    int rc = vial_worker_run(cfg, 0, fd, -1, true); /* closes fd */
    if (!cfg->quiet) vial_log(VIAL_LOG_INFO, "Stopped");
    return rc == 0 ? 0 : -1;
}

int vial_server_run(const vial_server_config *cfg_in) {
    if (cfg_in->single_process) {
        if (!cfg_in->handler) {
            vial_log(VIAL_LOG_ERROR, "vial_server_run: no handler");
            return -1;
        }
        return run_single(cfg_in);
    }
    static master mstate;
    master *m = &mstate;
    memset(m, 0, sizeof *m);
    m->sigfd = m->ready_rd = m->ready_wr = -1;
    m->cfg = *cfg_in;
    if (!m->cfg.handler) {
        vial_log(VIAL_LOG_ERROR, "vial_server_run: no handler");
        return -1;
    }
    if (!m->cfg.host) m->cfg.host = "127.0.0.1";
    if (m->cfg.graceful_timeout_ms <= 0) m->cfg.graceful_timeout_ms = 30000;
    if (m->cfg.debug) {
        m->cfg.workers = 1;
    } else if (m->cfg.workers <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        m->cfg.workers = cpus > 0 ? (int)cpus : 1;
    }
    if (m->cfg.workers > 256) m->cfg.workers = 256;
    m->nslots = m->cfg.workers;
    m->pid = getpid();
    m->slots = calloc((size_t)m->nslots, sizeof *m->slots);
    m->fds = malloc((size_t)m->nslots * sizeof *m->fds);
    if (!m->slots || !m->fds) {
        vial_log(VIAL_LOG_ERROR, "vial_server_run: out of memory");
        master_free(m);
        return -1;
    }
    for (int i = 0; i < m->nslots; i++) m->fds[i] = -1;
    if (read_self(m) != 0) vial_log(VIAL_LOG_WARNING, "cannot read /proc/self: reloading will not work");

    /* Signals are read from a signalfd; workers inherit the mask and set their own. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    m->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    int pipefd[2];
    if (m->sigfd < 0 || pipe2(pipefd, O_CLOEXEC) != 0) {
        vial_log(VIAL_LOG_ERROR, "vial_server_run: %s", strerror(errno));
        master_free(m);
        return -1;
    }
    m->ready_rd = pipefd[0];
    m->ready_wr = pipefd[1];
    fcntl(m->ready_rd, F_SETFL, O_NONBLOCK);

    raise_fd_limit();
    if (open_sockets(m) != 0) {
        /* Workers of a previous image keep serving if there are any; stop them cleanly. */
        for (int k = 0; k < m->nold; k++) kill(m->old[k], SIGTERM);
        master_free(m);
        return -1;
    }

    if (m->cfg.debug) {
        int extra = 0;
        while (m->cfg.watch_files && m->cfg.watch_files[extra]) extra++;
        m->watch = calloc((size_t)extra + 1, sizeof *m->watch);
        if (m->watch) {
            m->watch[0].path = m->exe;
            for (int k = 0; k < extra; k++) m->watch[k + 1].path = m->cfg.watch_files[k];
            m->nwatch = m->exe[0] ? extra + 1 : 0;
            for (int k = 0; k < m->nwatch; k++) watch_stat(&m->watch[k]);
        }
    }

    for (int i = 0; i < m->nslots; i++) spawn(m, i);

    uint64_t next_watch = now_ms() + WATCH_MS;
    for (;;) {
        reap(m);
        if (m->stopping && live_children(m) == 0) break;
        uint64_t now = now_ms();
        if (m->stopping && now >= m->stop_deadline) {
            if (live_children(m) > 0) {
                vial_log(VIAL_LOG_WARNING, "%d worker(s) still running after the graceful timeout: killing them",
                         live_children(m));
                signal_all(m, SIGKILL);
                while (live_children(m) > 0 && waitpid(-1, NULL, 0) > 0) reap(m);
            }
            break;
        }
        respawn_due(m);

        int timeout = -1;
        for (int i = 0; i < m->nslots && !m->stopping; i++)
            if (m->slots[i].pid == 0) {
                int64_t wait = (int64_t)m->slots[i].respawn_at - (int64_t)now;
                if (wait < 0) wait = 0;
                if (timeout < 0 || wait < timeout) timeout = (int)wait;
            }
        if (m->stopping) {
            int64_t wait = (int64_t)m->stop_deadline - (int64_t)now;
            if (timeout < 0 || wait < timeout) timeout = wait < 0 ? 0 : (int)wait;
        }
        if (m->nwatch) {
            int64_t wait = (int64_t)next_watch - (int64_t)now;
            if (wait < 0) wait = 0;
            if (timeout < 0 || wait < timeout) timeout = (int)wait;
        }
        struct pollfd pfd[2] = {{m->sigfd, POLLIN, 0}, {m->ready_rd, POLLIN, 0}};
        int rc = poll(pfd, 2, timeout);
        if (rc < 0 && errno != EINTR) {
            vial_log(VIAL_LOG_ERROR, "master: poll: %s", strerror(errno));
            break;
        }
        if (pfd[1].revents & POLLIN) read_ready(m);
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(m->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                switch (si.ssi_signo) {
                case SIGCHLD: break; /* reaped at the top of the loop */
                case SIGTERM:
                case SIGINT: begin_stop(m, (int)si.ssi_signo); break;
                case SIGHUP: reload(m, "SIGHUP"); break;
                case SIGUSR1:
                    vial_log_reopen();
                    signal_all(m, SIGUSR1);
                    break;
                default: break;
                }
            }
        }
        if (m->nwatch && now_ms() >= next_watch && !m->stopping) {
            next_watch = now_ms() + WATCH_MS;
            watch_check(m);
        }
    }
    reap(m);
    if (!m->cfg.quiet) vial_log(VIAL_LOG_INFO, "Stopped");
    master_free(m);
    sigprocmask(SIG_UNBLOCK, &mask, NULL);
    return 0;
}
