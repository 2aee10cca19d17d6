/* url.c - database URLs, as Flask-SQLAlchemy's SQLALCHEMY_DATABASE_URI reads them.
 *
 *   sqlite:///relative/path.db     a file relative to the working directory
 *   sqlite:////absolute/path.db    an absolute path (four slashes)
 *   sqlite://:memory:  sqlite:///:memory:  sqlite://    a private in-memory database
 *   postgresql://user:pass@host:port/dbname?k=v   (postgres:// too; k=v go to libpq)
 *
 * The parts are percent-decoded here, once, and PostgreSQL's become libpq
 * keyword/value pairs so that no part of the URL is ever pasted into a
 * connection string. A URL we cannot read is an error that says which part is
 * wrong; a password never appears in a message or a log line (display form). */
#include "db/db.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URL_MAX 8192
#define URL_MAX_PARAMS 64

static int url_error(char *err, size_t errlen, const char *fmt, ...) VIAL_PRINTF(3, 4);
static int url_error(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes n bytes into a fresh malloc'd string; NULL (with err) on a bad
 * escape or a decoded NUL, which C strings handed to libpq/SQLite cannot carry. */
static char *decode(const char *s, size_t n, const char *what, char *err, size_t errlen) {
    char *out = malloc(n + 1);
    if (!out) {
        url_error(err, errlen, "out of memory");
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h = i + 1 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int l = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                free(out);
                url_error(err, errlen, "bad percent escape in the %s of the database URL", what);
                return NULL;
            }
            int c = h * 16 + l;
            if (c == 0) {
                free(out);
                url_error(err, errlen, "the %s of the database URL contains a NUL byte (%%00)", what);
                return NULL;
            }
            out[o++] = (char)c;
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static int add_param(db_url *u, const char *key, char *value, char *err, size_t errlen) {
    if (u->nparams + 1 >= URL_MAX_PARAMS) {
        free(value);
        return url_error(err, errlen, "too many parameters in the database URL (at most %d)", URL_MAX_PARAMS - 2);
    }
    /* A later duplicate replaces the earlier one, as libpq's own URI parser does. */
    for (size_t i = 0; i < u->nparams; i++) {
        if (strcmp(u->keys[i], key) == 0) {
            free(u->values[i]);
            u->values[i] = value;
            return 0;
        }
    }
    char *k = strdup(key);
    if (!k) {
        free(value);
        return url_error(err, errlen, "out of memory");
    }
    u->keys[u->nparams] = k;
    u->values[u->nparams] = value;
    u->nparams++;
    u->keys[u->nparams] = NULL;
    u->values[u->nparams] = NULL;
    return 0;
}

static int parse_int(const char *s, long min, long max, long *out) {
    if (!*s) return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > max) return -1;
    }
    if (v < min) return -1;
    *out = v;
    return 0;
}

/* Splits "k=v&k2=v2" and hands each decoded pair to fn. */
static int each_query_param(const char *q, size_t n, int (*fn)(db_url *, char *, char *, char *, size_t),
                            db_url *u, char *err, size_t errlen) {
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && q[end] != '&') end++;
        if (end > i) {
            const char *eq = memchr(q + i, '=', end - i);
            if (!eq) return url_error(err, errlen, "database URL parameter \"%.*s\" has no value (write key=value)",
                                      (int)(end - i), q + i);
            if (eq == q + i) return url_error(err, errlen, "database URL parameter without a name");
            char *key = decode(q + i, (size_t)(eq - (q + i)), "parameter name", err, errlen);
            if (!key) return -1;
            char *val = decode(eq + 1, (size_t)(q + end - eq - 1), "parameter value", err, errlen);
            if (!val) {
                free(key);
                return -1;
            }
            int rc = fn(u, key, val, err, errlen); /* takes val */
            free(key);
            if (rc != 0) return -1;
        }
        i = end + 1;
    }
    return 0;
}

static int sqlite_param(db_url *u, char *key, char *val, char *err, size_t errlen) {
    long v;
    if (strcmp(key, "busy_timeout") == 0) {
        if (parse_int(val, 0, 3600000, &v) != 0) {
            url_error(err, errlen, "busy_timeout in the database URL must be milliseconds (0..3600000), not \"%s\"",
                      val);
            free(val);
            return -1;
        }
        u->busy_timeout_ms = v ? (int)v : -1; /* -1: explicitly no waiting */
        free(val);
        return 0;
    }
    url_error(err, errlen, "unknown parameter \"%s\" in a sqlite database URL (known: busy_timeout)", key);
    free(val);
    return -1;
}

static int pg_param(db_url *u, char *key, char *val, char *err, size_t errlen) {
    if (strcmp(key, "connect_timeout") == 0) {
        long v;
        if (parse_int(val, 0, 86400, &v) != 0) {
            url_error(err, errlen, "connect_timeout in the database URL must be whole seconds, not \"%s\"", val);
            free(val);
            return -1;
        }
        u->connect_timeout_ms = (int)v * 1000;
    }
    return add_param(u, key, val, err, errlen);
}

static int parse_sqlite(db_url *u, const char *rest, char *err, size_t errlen) {
    const char *q = strchr(rest, '?');
    size_t n = q ? (size_t)(q - rest) : strlen(rest);
    u->backend = VIAL_DB_SQLITE;
    if (n == 0 || (n == 8 && memcmp(rest, ":memory:", 8) == 0) || (n == 9 && memcmp(rest, "/:memory:", 9) == 0)) {
        u->memory = true;
        u->path = strdup(":memory:");
    } else if (rest[0] != '/') {
        return url_error(err, errlen,
                         "a sqlite database URL takes no host: write sqlite:///relative/path.db "
                         "or sqlite:////absolute/path.db");
    } else {
        if (n == 1) return url_error(err, errlen, "the sqlite database URL has no file path (sqlite:///app.db)");
        u->path = decode(rest + 1, n - 1, "path", err, errlen);
        if (!u->path) return -1;
        size_t plen = strlen(u->path);
        if (u->path[plen - 1] == '/')
            return url_error(err, errlen, "the sqlite database path \"%s\" names a directory, not a file", u->path);
    }
    if (!u->path) return url_error(err, errlen, "out of memory");
    if (q && each_query_param(q + 1, strlen(q + 1), sqlite_param, u, err, errlen) != 0) return -1;
    return 0;
}

static int parse_postgres(db_url *u, const char *rest, char *err, size_t errlen) {
    u->backend = VIAL_DB_POSTGRES;
    size_t auth_end = strcspn(rest, "/?");
    const char *auth = rest;
    const char *at = NULL;
    for (size_t i = 0; i < auth_end; i++)
        if (auth[i] == '@') at = auth + i; /* the last one: an unescaped @ in a password still works */
    const char *hostspec = auth;
    if (at) {
        size_t ulen = (size_t)(at - auth);
        const char *colon = memchr(auth, ':', ulen);
        size_t name_len = colon ? (size_t)(colon - auth) : ulen;
        if (name_len) {
            char *user = decode(auth, name_len, "user name", err, errlen);
            if (!user || add_param(u, "user", user, err, errlen) != 0) return -1;
        }
        if (colon) {
            char *pass = decode(colon + 1, ulen - name_len - 1, "password", err, errlen);
            if (!pass || add_param(u, "password", pass, err, errlen) != 0) return -1;
        }
        hostspec = at + 1;
    }
    /* host[:port][,host[:port]...] → libpq's comma-separated host and port lists */
    size_t hlen = (size_t)(auth + auth_end - hostspec);
    if (hlen) {
        vial_buf hosts, ports;
        vial_buf_init(&hosts, NULL, URL_MAX);
        vial_buf_init(&ports, NULL, URL_MAX);
        bool any_port = false;
        size_t i = 0;
        int rc = 0;
        while (rc == 0 && i <= hlen) {
            size_t end = i;
            if (end < hlen && hostspec[end] == '[') {
                while (end < hlen && hostspec[end] != ']') end++;
                if (end == hlen) {
                    rc = url_error(err, errlen, "unclosed [ in the host of the database URL");
                    break;
                }
            }
            while (end < hlen && hostspec[end] != ',') end++;
            const char *h = hostspec + i;
            size_t n = end - i;
            const char *port = NULL;
            size_t port_len = 0;
            const char *hname = h;
            size_t hname_len = n;
            if (n && h[0] == '[') {
                const char *close = memchr(h, ']', n);
                hname = h + 1;
                hname_len = (size_t)(close - h - 1);
                if ((size_t)(close - h) + 1 < n) {
                    if (close[1] != ':') {
                        rc = url_error(err, errlen, "unexpected text after ] in the host of the database URL");
                        break;
                    }
                    port = close + 2;
                    port_len = (size_t)(h + n - port);
                }
            } else {
                const char *colon = memchr(h, ':', n);
                if (colon) {
                    hname_len = (size_t)(colon - h);
                    port = colon + 1;
                    port_len = (size_t)(h + n - port);
                }
            }
            char *hdec = decode(hname, hname_len, "host", err, errlen);
            if (!hdec) {
                rc = -1;
                break;
            }
            if (i) {
                vial_buf_putc(&hosts, ',');
                vial_buf_putc(&ports, ',');
            }
            vial_buf_puts(&hosts, hdec);
            free(hdec);
            if (port) {
                char pbuf[16];
                long pv;
                if (port_len == 0 || port_len >= sizeof pbuf) {
                    rc = url_error(err, errlen, "invalid port \"%.*s\" in the database URL", (int)port_len, port);
                    break;
                }
                memcpy(pbuf, port, port_len);
                pbuf[port_len] = '\0';
                if (parse_int(pbuf, 1, 65535, &pv) != 0) {
                    rc = url_error(err, errlen, "invalid port \"%s\" in the database URL (1..65535)", pbuf);
                    break;
                }
                vial_buf_puts(&ports, pbuf);
                any_port = true;
            }
            i = end + 1;
        }
        if (rc == 0 && hosts.len) {
            char *hv = strdup(vial_buf_cstr(&hosts));
            rc = hv ? add_param(u, "host", hv, err, errlen) : url_error(err, errlen, "out of memory");
        }
        if (rc == 0 && any_port) {
            char *pv = strdup(vial_buf_cstr(&ports));
            rc = pv ? add_param(u, "port", pv, err, errlen) : url_error(err, errlen, "out of memory");
        }
        vial_buf_free(&hosts);
        vial_buf_free(&ports);
        if (rc != 0) return -1;
    }
    const char *p = rest + auth_end;
    if (*p == '/') {
        p++;
        size_t n = strcspn(p, "?");
        if (n) {
            char *db = decode(p, n, "database name", err, errlen);
            if (!db || add_param(u, "dbname", db, err, errlen) != 0) return -1;
        }
        p += n;
    }
    if (*p == '?' && each_query_param(p + 1, strlen(p + 1), pg_param, u, err, errlen) != 0) return -1;
    return 0;
}

/* The URL as it may be shown: the password replaced by ***. */
static char *display_form(const char *url, const db_url *u) {
    vial_buf b;
    vial_buf_init(&b, NULL, URL_MAX * 2);
    if (u->backend == VIAL_DB_POSTGRES) {
        const char *scheme_end = strstr(url, "://") + 3;
        size_t auth_end = strcspn(scheme_end, "/?");
        const char *at = NULL;
        for (size_t i = 0; i < auth_end; i++)
            if (scheme_end[i] == '@') at = scheme_end + i;
        const char *colon = at ? memchr(scheme_end, ':', (size_t)(at - scheme_end)) : NULL;
        if (colon) {
            vial_buf_append(&b, url, (size_t)(colon - url) + 1);
            vial_buf_puts(&b, "***");
            const char *tail = at;
            /* mask password=... among the parameters too */
            const char *q = strchr(tail, '?');
            vial_buf_append(&b, tail, q ? (size_t)(q - tail) : strlen(tail));
            url = q ? q : "";
        } else {
            const char *q = strchr(url, '?');
            vial_buf_append(&b, url, q ? (size_t)(q - url) : strlen(url));
            url = q ? q : "";
        }
        /* url now points at "?..." or "" */
        while (*url) {
            size_t n = strcspn(url + 1, "&") + 1;
            if (n > 10 && strncasecmp(url + 1, "password=", 9) == 0) {
                vial_buf_putc(&b, url[0]);
                vial_buf_puts(&b, "password=***");
            } else {
                vial_buf_append(&b, url, n);
            }
            url += n;
        }
    } else {
        vial_buf_puts(&b, url);
    }
    char *s = strdup(vial_buf_cstr(&b));
    vial_buf_free(&b);
    return s;
}

int vial_db_url_parse(const char *url, db_url *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (err && errlen) err[0] = '\0';
    if (!url) url = "sqlite:///instance/app.db";
    while (isspace((unsigned char)*url)) url++;
    size_t len = strlen(url);
    while (len && isspace((unsigned char)url[len - 1])) len--;
    if (len == 0) return url_error(err, errlen, "the database URL is empty (e.g. sqlite:///instance/app.db)");
    if (len > URL_MAX) return url_error(err, errlen, "the database URL is longer than %d bytes", URL_MAX);
    char *copy = strndup(url, len);
    if (!copy) return url_error(err, errlen, "out of memory");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)copy[i];
        if (ch < 0x20 || ch == 0x7f) {
            free(copy);
            return url_error(err, errlen, "the database URL contains a control character at offset %zu", i);
        }
    }
    char *sep = strstr(copy, "://");
    size_t slen = sep ? (size_t)(sep - copy) : 0;
    bool scheme_ok = sep && slen > 0;
    for (size_t i = 0; scheme_ok && i < slen; i++)
        if (!isalnum((unsigned char)copy[i]) && copy[i] != '+' && copy[i] != '-' && copy[i] != '.') scheme_ok = false;
    if (!scheme_ok) {
        url_error(err, errlen,
                  "not a database URL: \"%.40s%s\" (expected sqlite:///path.db or "
                  "postgresql://user:password@host:port/dbname)",
                  copy, len > 40 ? "..." : "");
        free(copy);
        return -1;
    }
    out->keys = calloc(URL_MAX_PARAMS, sizeof(char *));
    out->values = calloc(URL_MAX_PARAMS, sizeof(char *));
    if (!out->keys || !out->values) {
        free(copy);
        vial_db_url_free(out);
        return url_error(err, errlen, "out of memory");
    }
    int rc;
    const char *rest = sep + 3;
    if (slen == 6 && strncasecmp(copy, "sqlite", 6) == 0) {
        rc = parse_sqlite(out, rest, err, errlen);
    } else if ((slen == 10 && strncasecmp(copy, "postgresql", 10) == 0) ||
               (slen == 8 && strncasecmp(copy, "postgres", 8) == 0)) {
        rc = parse_postgres(out, rest, err, errlen);
    } else {
        rc = url_error(err, errlen, "unsupported database URL scheme \"%.*s\" (use sqlite:// or postgresql://)",
                       (int)(slen > 40 ? 40 : slen), copy);
    }
    if (rc == 0) {
        out->display = display_form(copy, out);
        if (!out->display) rc = url_error(err, errlen, "out of memory");
    }
    free(copy);
    if (rc != 0) vial_db_url_free(out);
    return rc;
}

void vial_db_url_free(db_url *u) {
    if (u->keys) {
        for (size_t i = 0; i < u->nparams; i++) {
            free(u->keys[i]);
            free(u->values[i]);
        }
    }
    free(u->keys);
    free(u->values);
    free(u->path);
    free(u->display);
    memset(u, 0, sizeof *u);
}

const char *vial_db_url_param(const db_url *u, const char *key) {
    for (size_t i = 0; i < u->nparams; i++)
        if (strcmp(u->keys[i], key) == 0) return u->values[i];
    return NULL;
}
