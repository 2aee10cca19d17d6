/* vial.h - Flask for C. The one public header.
 *
 *   #include <vial.h>
 *
 *   static void home(vial_req *rq, vial_res *rs) { vial_html(rs, "<h1>hello vial</h1>"); }
 *
 *   int main(int argc, char **argv) {
 *       vial_app *app = vial_app_new("demo");
 *       vial_route(app, "/", VIAL_GET, home);
 *       return vial_main(app, argc, argv);      // ./demo run --port 5000
 *   }
 *
 * Conventions: every name starts with vial_. Functions that can fail return
 * an int (0 on success, -1 on failure) or NULL. Memory handed to a handler
 * belongs to the request and is released when the response is sent; user
 * code never frees it. See docs/ for the guide. MIT licensed. */
#ifndef VIAL_H
#define VIAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIAL_VERSION "0.1.0"

#if defined(__GNUC__)
#define VIAL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define VIAL_NORETURN __attribute__((noreturn))
#else
#define VIAL_PRINTF(f, a)
#define VIAL_NORETURN
#endif

/* ======================================================================
 * Core: strings, arenas, buffers
 * ====================================================================== */

/* A byte string that is not NUL-terminated: pointer + length. */
typedef struct vial_str {
    const char *ptr;
    size_t len;
} vial_str;

#define VIAL_STR(lit) ((vial_str){(lit), sizeof(lit) - 1})

/* A region allocator: many allocations, one release. */
typedef struct vial_arena vial_arena;

/* Creates an arena whose first block holds first_block bytes (min 1 KiB). */
vial_arena *vial_arena_new(size_t first_block);
/* Runs the arena's cleanups and releases all its memory. */
void vial_arena_free(vial_arena *a);
/* Runs cleanups and forgets every allocation, keeping the first block. */
void vial_arena_reset(vial_arena *a);
/* Caps the bytes the arena may hand out (0 = no cap); allocations past it fail. */
void vial_arena_set_limit(vial_arena *a, size_t limit);
/* Bytes handed out since the last reset. */
size_t vial_arena_used(const vial_arena *a);
/* Allocates n bytes aligned to 16; NULL when out of memory or over the cap. */
void *vial_arena_alloc(vial_arena *a, size_t n);
/* Like vial_arena_alloc, zero-filled. */
void *vial_arena_calloc(vial_arena *a, size_t n);
/* Grows an allocation, in place when it is the arena's latest; copies otherwise. */
void *vial_arena_grow(vial_arena *a, void *ptr, size_t old_size, size_t new_size);
/* Copies n bytes into the arena and NUL-terminates them. */
char *vial_arena_strndup(vial_arena *a, const char *s, size_t n);
/* Copies a C string into the arena. */
char *vial_arena_strdup(vial_arena *a, const char *s);
/* printf into a fresh arena string. */
char *vial_arena_sprintf(vial_arena *a, const char *fmt, ...) VIAL_PRINTF(2, 3);
/* vprintf into a fresh arena string. */
char *vial_arena_vsprintf(vial_arena *a, const char *fmt, va_list ap);
/* Registers fn(arg) to run when the arena is reset or freed (newest first). */
int vial_arena_defer(vial_arena *a, void (*fn)(void *), void *arg);

/* A growable byte buffer with a hard maximum size, always NUL-terminated. */
typedef struct vial_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
    vial_arena *arena; /* NULL: malloc'd, release with vial_buf_free */
} vial_buf;

/* Starts an empty buffer drawing from arena (or malloc when NULL), capped at max bytes (0 = no cap). */
void vial_buf_init(vial_buf *b, vial_arena *arena, size_t max);
/* Releases a malloc'd buffer's memory (no-op for arena buffers). */
void vial_buf_free(vial_buf *b);
/* Empties the buffer, keeping its memory. */
void vial_buf_reset(vial_buf *b);
/* Makes room for extra more bytes; -1 when that would pass the maximum. */
int vial_buf_reserve(vial_buf *b, size_t extra);
/* Appends n bytes; -1 (buffer unchanged) past the maximum. */
int vial_buf_append(vial_buf *b, const void *bytes, size_t n);
/* Appends a C string. */
int vial_buf_puts(vial_buf *b, const char *s);
/* Appends one byte. */
int vial_buf_putc(vial_buf *b, int c);
/* Appends a decimal integer. */
int vial_buf_put_i64(vial_buf *b, int64_t v);
/* Appends printf output. */
int vial_buf_printf(vial_buf *b, const char *fmt, ...) VIAL_PRINTF(2, 3);
/* Appends vprintf output. */
int vial_buf_vprintf(vial_buf *b, const char *fmt, va_list ap);
/* The contents as a C string ("" when empty). */
const char *vial_buf_cstr(vial_buf *b);

/* ======================================================================
 * Core: vial_value, the dynamic type of JSON, templates, rows and sessions
 * ====================================================================== */

typedef enum vial_type {
    VIAL_NULL,
    VIAL_BOOL,
    VIAL_INT,
    VIAL_DOUBLE,
    VIAL_STRING,
    VIAL_ARRAY,
    VIAL_OBJECT,
} vial_type;

/* String flag: already-escaped HTML (Jinja2's Markup), never escaped again. */
#define VIAL_FLAG_SAFE 0x01

typedef struct vial_value vial_value;

/* One key/value pair of an object; objects keep insertion order. */
typedef struct vial_member {
    const char *key; /* NUL-terminated */
    size_t key_len;
    vial_value *value;
} vial_member;

struct vial_value {
    uint8_t type;  /* vial_type */
    uint8_t flags; /* VIAL_FLAG_* */
    uint16_t tag;  /* free for layers that attach meaning (tagged JSON, templates) */
    union {
        bool b;
        int64_t i;
        double d;
        struct {
            const char *ptr; /* NUL-terminated; may contain NULs within len */
            size_t len;
        } s;
        struct {
            vial_value **items;
            size_t len, cap;
            vial_arena *arena;
        } arr;
        struct {
            vial_member *items;
            size_t len, cap;
            vial_arena *arena;
            uint32_t *index; /* hash index of member positions, built when large */
            size_t index_slots;
        } obj;
    } as;
};

/* The shared null value. */
vial_value *vial_value_null(void);
/* null (shared; the arena is not used). */
vial_value *vial_new_null(vial_arena *a);
/* true or false (shared). */
vial_value *vial_new_bool(vial_arena *a, bool b);
/* A 64-bit integer. */
vial_value *vial_new_int(vial_arena *a, int64_t i);
/* A double. */
vial_value *vial_new_double(vial_arena *a, double d);
/* A string copied from a C string (NULL → ""). */
vial_value *vial_new_str(vial_arena *a, const char *s);
/* A string copied from n bytes. */
vial_value *vial_new_strn(vial_arena *a, const char *s, size_t n);
/* A string that points at s without copying (s must outlive the value). */
vial_value *vial_new_str_ref(vial_arena *a, const char *s, size_t n);
/* A string marked safe HTML (Markup): templates will not escape it. */
vial_value *vial_new_safe(vial_arena *a, const char *s, size_t n);
/* An empty array. */
vial_value *vial_new_array(vial_arena *a);
/* An empty object. */
vial_value *vial_new_object(vial_arena *a);

/* Appends item to an array. */
int vial_array_push(vial_value *arr, vial_value *item);
/* The i-th item of an array, or NULL. */
vial_value *vial_array_get(const vial_value *arr, size_t i);
/* Items of an array, members of an object, bytes of a string; 0 otherwise. */
size_t vial_len(const vial_value *v);
/* Sets key (copied) to v, replacing an existing value in place. */
int vial_object_set(vial_value *obj, const char *key, vial_value *v);
/* Like vial_object_set with a key of n bytes. */
int vial_object_setn(vial_value *obj, const char *key, size_t n, vial_value *v);
/* Like vial_object_setn, but keeps a pointer to key instead of copying it. */
int vial_object_set_ref(vial_value *obj, const char *key, size_t n, vial_value *v);
/* The value at key, or NULL. */
vial_value *vial_object_get(const vial_value *obj, const char *key);
/* The value at a key of n bytes, or NULL. */
vial_value *vial_object_getn(const vial_value *obj, const char *key, size_t n);
/* Removes key; -1 when absent. */
int vial_object_del(vial_value *obj, const char *key);

/* Python truthiness: null, false, 0, 0.0, "", [] and {} are false. */
bool vial_truthy(const vial_value *v);
/* The C string of a string value, else NULL. */
const char *vial_str_of(const vial_value *v);
/* obj[key] as a C string, or NULL when absent or not a string. */
const char *vial_get_str(const vial_value *obj, const char *key);
/* obj[key] as an integer, or fallback. */
int64_t vial_get_int(const vial_value *obj, const char *key, int64_t fallback);
/* obj[key] as a double, or fallback. */
double vial_get_double(const vial_value *obj, const char *key, double fallback);
/* obj[key] as a truth value, or fallback when absent. */
bool vial_get_bool(const vial_value *obj, const char *key, bool fallback);
/* Deep copy of v into arena a. */
vial_value *vial_value_copy(vial_arena *a, const vial_value *v);
/* Deep equality with Python's rules (1 == 1.0 == true). */
bool vial_value_equal(const vial_value *x, const vial_value *y);

/* Builds a value from a jansson-style format: s s# i I f b n o [ ] { }. */
vial_value *vial_pack_in(vial_arena *a, const char *fmt, ...);
/* va_list form of vial_pack_in. */
vial_value *vial_vpack_in(vial_arena *a, const char *fmt, va_list ap);

/* ======================================================================
 * Core: JSON
 * ====================================================================== */

/* Where and why a parse failed. */
typedef struct vial_json_error {
    size_t offset; /* byte offset of the problem */
    int line, column;
    char message[128]; /* "expected ',' or ']' at offset 12 (line 1, column 13)" */
} vial_json_error;

#define VIAL_JSON_SPACED 0x01    /* Python's ", " and ": " separators */
#define VIAL_JSON_SORT_KEYS 0x02 /* objects by key, as sort_keys=True */
#define VIAL_JSON_ASCII 0x04     /* \uXXXX for non-ASCII, as ensure_ascii=True */
#define VIAL_JSON_HTML_SAFE 0x08 /* < > & ' as \u003c..., as Jinja2's tojson */
#define VIAL_JSON_INDENT(n) (((n)&0xff) << 8)

/* Parses RFC 8259 JSON; NULL on error with err filled. max_depth <= 0 means 512. */
vial_value *vial_json_parse(vial_arena *a, const char *text, size_t len, int max_depth, vial_json_error *err);
/* Appends v as JSON to b; -1 (b unchanged) when b's maximum is reached. */
int vial_json_write(vial_buf *b, const vial_value *v, int flags);
/* v as a JSON string in the arena. */
char *vial_json_encode(vial_arena *a, const vial_value *v, int flags, size_t *len_out);

/* ======================================================================
 * Core: text helpers
 * ====================================================================== */

#define VIAL_DOUBLE_BUFSIZE 32
#define VIAL_INT_BUFSIZE 24
/* Writes d as Python's repr() does ("1.0", "1e+16", "0.1"); returns its length. */
size_t vial_format_double(char out[VIAL_DOUBLE_BUFSIZE], double d);
/* Writes a decimal int64; returns its length. */
size_t vial_format_i64(char out[VIAL_INT_BUFSIZE], int64_t v);

/* Decodes one UTF-8 sequence: its length, or 0 when invalid. */
size_t vial_utf8_decode(const char *s, size_t n, uint32_t *cp_out);
/* Encodes a code point; returns its length (1-4). */
size_t vial_utf8_encode(uint32_t cp, char out[4]);
/* True when s is entirely valid UTF-8. */
bool vial_utf8_valid(const char *s, size_t n);
/* Offset of the first invalid byte (n when valid). */
size_t vial_utf8_invalid_offset(const char *s, size_t n);
/* Appends s with each maximal invalid subsequence replaced by U+FFFD (Python's errors='replace'). */
int vial_utf8_replace_invalid(vial_buf *out, const char *s, size_t n);

#define VIAL_B64_URL 0x01   /* URL-safe alphabet (- and _) */
#define VIAL_B64_NOPAD 0x02 /* no trailing '=' */
/* Length of the encoding of n bytes. */
size_t vial_base64_encoded_len(size_t n, int flags);
/* Encodes n bytes into out (room for encoded_len + 1); returns the length. */
size_t vial_base64_encode(char *out, const void *data, size_t n, int flags);
/* Strict decode into out (room for n*3/4); returns bytes or -1 when invalid. */
long vial_base64_decode(void *out, const char *s, size_t n, int flags);

/* ======================================================================
 * Core: logging
 * ====================================================================== */

enum { VIAL_LOG_DEBUG, VIAL_LOG_INFO, VIAL_LOG_WARNING, VIAL_LOG_ERROR };
/* Writes one log line (atomic across processes) if level is enabled. */
void vial_log(int level, const char *fmt, ...) VIAL_PRINTF(2, 3);
/* va_list form of vial_log. */
void vial_vlog(int level, const char *fmt, va_list ap);
/* Lowest level written (default VIAL_LOG_INFO). */
void vial_log_set_level(int level);
/* The current level. */
int vial_log_get_level(void);
/* Sends log lines to a file (NULL or "" → stderr). */
int vial_log_open(const char *path);
/* Reopens the log file (after rotation). */
int vial_log_reopen(void);

/* ==== section: http (src/http) ==== */

/* HTTP methods, as bits so a route can take several: VIAL_GET | VIAL_POST. */
#define VIAL_GET (1u << 0)
#define VIAL_HEAD (1u << 1)
#define VIAL_POST (1u << 2)
#define VIAL_PUT (1u << 3)
#define VIAL_DELETE (1u << 4)
#define VIAL_PATCH (1u << 5)
#define VIAL_OPTIONS (1u << 6)
#define VIAL_TRACE (1u << 7)
#define VIAL_CONNECT (1u << 8)

/* ==== end section: http ==== */

/* ==== section: server (src/server) ==== */

#define VIAL_WAIT_READ 1
#define VIAL_WAIT_WRITE 2
/* Waits until fd is readable/writable (VIAL_WAIT_*), parking the request's
 * coroutine so other requests run meanwhile; outside a coroutine it blocks in
 * poll(2). Returns the ready events, 0 on timeout (timeout_ms < 0: none), -1 on error. */
int vial_wait_fd(int fd, int events, int timeout_ms);
/* Sleeps ms milliseconds without blocking the worker's other requests. */
void vial_sleep_ms(int ms);
/* True when running on a request coroutine of a worker's event loop. */
bool vial_in_coroutine(void);

/* ==== end section: server ==== */

/* ==== section: app (src/app) ==== */

/* ==== end section: app ==== */

/* ==== section: routing (src/app/router) ==== */

/* ==== end section: routing ==== */

/* ==== section: forms and cookies (src/app/forms) ==== */

/* ==== end section: forms and cookies ==== */

/* ==== section: session, signing and passwords (src/session) ==== */

/* ==== end section: session ==== */

/* ==== section: templates (src/template) ==== */

/* ==== end section: templates ==== */

/* ==== section: database (src/db) ==== */

#include <stdio.h>

/* One API over SQLite (the embedded default) and PostgreSQL: a vial_db is a
 * URL plus a pool of connections for one worker process; a vial_db_conn is
 * one connection checked out of it. SQL takes ? placeholders and bound values
 * only. Rows come back as arrays of objects (column -> typed value) in the
 * caller's arena, ready for vial_jsonify and vial_render. Every call records a
 * result code on the connection (vial_db_errcode): a failed call returns NULL
 * or -1 and says why there. See docs/database.md. */

/* String flag: the bytes are binary data (a BLOB / bytea column), not text. */
#define VIAL_FLAG_BLOB 0x02

typedef struct vial_db vial_db;
typedef struct vial_db_conn vial_db_conn;

/* Result codes (vial_db_errcode). NOT_FOUND is an outcome, not a failure. */
enum {
    VIAL_DB_OK = 0,
    VIAL_DB_NOT_FOUND = 1,    /* a single-row lookup found no row (get, first, one, scalar) */
    VIAL_DB_ERROR = -1,       /* the database rejected the statement (syntax, types, ...) */
    VIAL_DB_UNAVAILABLE = -2, /* cannot connect, connection lost, or pool exhausted: answer 503 */
    VIAL_DB_INVALID = -3,     /* bad arguments or values, caught before any SQL ran */
    VIAL_DB_CONSTRAINT = -4,  /* unique / foreign key / not-null / check violation */
    VIAL_DB_BUSY = -5,        /* SQLite: still locked when the busy timeout ran out: answer 503 */
    VIAL_DB_TIMEOUT = -6,     /* PostgreSQL: no answer within query_timeout_ms */
    VIAL_DB_NOMEM = -7,       /* out of memory, or past the arena's cap */
};

/* Backends (vial_db_backend). */
enum { VIAL_DB_SQLITE = 1, VIAL_DB_POSTGRES = 2 };

/* Knobs for vial_db_open; zero fields take the default shown. */
typedef struct vial_db_options {
    int pool_size;          /* connections per worker, 10 (SQLite :memory: is always 1) */
    int pool_timeout_ms;    /* wait for a free connection inside a request, 30000 */
    int busy_timeout_ms;    /* SQLite: wait for another writer's lock, 5000 */
    int connect_timeout_ms; /* PostgreSQL: give up connecting, 5000 (URL connect_timeout=S wins) */
    int query_timeout_ms;   /* PostgreSQL: give up on an answer, 0 = wait as long as it takes */
    int statement_cache;    /* prepared statements kept per connection, 64 (-1: none) */
} vial_db_options;

/* Pool counters of one vial_db (this process). */
typedef struct vial_db_stats {
    int open;          /* connections open (idle + checked out) */
    int idle;          /* connections waiting in the pool */
    uint64_t connects; /* connections ever opened */
    uint64_t reuses;   /* checkouts served by an idle connection */
    uint64_t replaced; /* connections found broken and replaced */
} vial_db_stats;

/* Opens a database from a URL without connecting yet: sqlite:///relative.db,
 * sqlite:////absolute.db, sqlite://:memory:, postgresql://user:pass@host:port/db?k=v
 * (NULL → sqlite:///instance/app.db). NULL with a reason in err on a bad URL. */
vial_db *vial_db_open(const char *url, const vial_db_options *opts, char *err, size_t errlen);
/* Closes every pooled connection and frees db (checked-out connections must be released first). */
void vial_db_close(vial_db *db);
/* VIAL_DB_SQLITE or VIAL_DB_POSTGRES. */
int vial_db_backend(const vial_db *db);
/* The URL with any password masked, for logs and messages. */
const char *vial_db_display_url(const vial_db *db);
/* Fills st with the pool's counters. */
void vial_db_get_stats(const vial_db *db, vial_db_stats *st);

/* Checks a connection out of the pool, connecting when none is idle. Never NULL
 * except out of memory: when no connection can be had, the handle returned is
 * dead and reports VIAL_DB_UNAVAILABLE (or BUSY) from vial_db_errcode and every call. */
vial_db_conn *vial_db_acquire(vial_db *db);
/* Rolls back whatever c left open and returns it to the pool (a broken one is closed). */
void vial_db_release(vial_db_conn *c);
/* The code of c's last call: VIAL_DB_OK, VIAL_DB_NOT_FOUND or an error code. */
int vial_db_errcode(const vial_db_conn *c);
/* A message for c's last error ("" after success), naming the problem. */
const char *vial_db_errmsg(const vial_db_conn *c);
/* PostgreSQL's SQLSTATE of the last error ("" when none or SQLite). */
const char *vial_db_sqlstate(const vial_db_conn *c);
/* A short name for a code: "ok", "not found", "unavailable", ... */
const char *vial_db_code_name(int code);
/* The database c belongs to. */
vial_db *vial_db_of(const vial_db_conn *c);

/* ---- bound values ---- */

/* A list of values bound, in order, to a statement's ? placeholders. */
typedef struct vial_args {
    const vial_value *items;
    size_t len;
} vial_args;

#define VIAL_BIND_BAD_POINTER 0xdb01 /* tag of a value bound from a non-NULL void pointer (rejected) */

#ifndef __cplusplus
static inline vial_value vial_bind_int_(long long i) {
    vial_value v = {.type = VIAL_INT};
    v.as.i = (int64_t)i;
    return v;
}
static inline vial_value vial_bind_uint_(unsigned long long u) {
    vial_value v = {.type = VIAL_INT};
    if (u > (unsigned long long)INT64_MAX) {
        v.type = VIAL_DOUBLE; /* past int64: the nearest double rather than a wrapped negative */
        v.as.d = (double)u;
    } else
        v.as.i = (int64_t)u;
    return v;
}
static inline vial_value vial_bind_bool_(bool b) {
    vial_value v = {.type = VIAL_BOOL};
    v.as.b = b;
    return v;
}
static inline vial_value vial_bind_double_(double d) {
    vial_value v = {.type = VIAL_DOUBLE};
    v.as.d = d;
    return v;
}
static inline vial_value vial_bind_str_(const char *s) {
    vial_value v = {.type = VIAL_NULL};
    if (s) {
        size_t n = 0;
        while (s[n]) n++;
        v.type = VIAL_STRING;
        v.as.s.ptr = s;
        v.as.s.len = n;
    }
    return v;
}
static inline vial_value vial_bind_value_(const vial_value *p) {
    vial_value v = {.type = VIAL_NULL};
    return p ? *p : v;
}
static inline vial_value vial_bind_self_(vial_value v) { return v; }
static inline vial_value vial_bind_pointer_(const void *p) {
    vial_value v = {.type = VIAL_NULL};
    if (p) v.tag = VIAL_BIND_BAD_POINTER;
    return v;
}

/* A BLOB value of n bytes at ptr, for binding (not copied). */
#define VIAL_BLOB(ptr, n) ((vial_value){.type = VIAL_STRING, .flags = VIAL_FLAG_BLOB, .as.s = {(const char *)(ptr), (n)}})
/* SQL NULL, for binding. */
#define VIAL_SQL_NULL ((vial_value){.type = VIAL_NULL})

/* One C value as a vial_value by its type: integers, bool, float/double, C strings
 * (NULL → SQL NULL), vial_value pointers (NULL → SQL NULL), vial_value (VIAL_BLOB). */
#define VIAL_BIND(x)                                                                                   \
    _Generic((x), _Bool: vial_bind_bool_, char: vial_bind_int_, signed char: vial_bind_int_,         \
             unsigned char: vial_bind_int_, short: vial_bind_int_, unsigned short: vial_bind_int_,  \
             int: vial_bind_int_, unsigned int: vial_bind_int_, long: vial_bind_int_,              \
             unsigned long: vial_bind_uint_, long long: vial_bind_int_,                             \
             unsigned long long: vial_bind_uint_, float: vial_bind_double_,                         \
             double: vial_bind_double_, char *: vial_bind_str_, const char *: vial_bind_str_,       \
             vial_value *: vial_bind_value_, const vial_value *: vial_bind_value_,                  \
             vial_value: vial_bind_self_, void *: vial_bind_pointer_,                               \
             const void *: vial_bind_pointer_)(x)

/* VIAL_ARGS(a, b, ...): up to 32 C values bound by type (VIAL_BIND), as a vial_args.
 * (Counting uses __VA_OPT__: GCC >= 8 and Clang >= 12 in every C mode.) */
#define VIAL_ARGS(...) VIAL_ARGS_CAT(VIAL_ARGS_MAKE_, VIAL_ARGS_COUNT(__VA_ARGS__))(__VA_ARGS__)
#define VIAL_ARGS_CAT_(a, b) a##b
#define VIAL_ARGS_CAT(a, b) VIAL_ARGS_CAT_(a, b)
#define VIAL_ARGS_COUNT(...) VIAL_ARGS_COUNT_(_0 __VA_OPT__(,) __VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define VIAL_ARGS_COUNT_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, n, ...) n
#define VIAL_ARGS_MAP_0()
#define VIAL_ARGS_MAP_1(x) VIAL_BIND(x)
#define VIAL_ARGS_MAP_2(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_1(__VA_ARGS__)
#define VIAL_ARGS_MAP_3(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_2(__VA_ARGS__)
#define VIAL_ARGS_MAP_4(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_3(__VA_ARGS__)
#define VIAL_ARGS_MAP_5(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_4(__VA_ARGS__)
#define VIAL_ARGS_MAP_6(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_5(__VA_ARGS__)
#define VIAL_ARGS_MAP_7(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_6(__VA_ARGS__)
#define VIAL_ARGS_MAP_8(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_7(__VA_ARGS__)
#define VIAL_ARGS_MAP_9(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_8(__VA_ARGS__)
#define VIAL_ARGS_MAP_10(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_9(__VA_ARGS__)
#define VIAL_ARGS_MAP_11(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_10(__VA_ARGS__)
#define VIAL_ARGS_MAP_12(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_11(__VA_ARGS__)
#define VIAL_ARGS_MAP_13(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_12(__VA_ARGS__)
#define VIAL_ARGS_MAP_14(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_13(__VA_ARGS__)
#define VIAL_ARGS_MAP_15(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_14(__VA_ARGS__)
#define VIAL_ARGS_MAP_16(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_15(__VA_ARGS__)
#define VIAL_ARGS_MAP_17(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_16(__VA_ARGS__)
#define VIAL_ARGS_MAP_18(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_17(__VA_ARGS__)
#define VIAL_ARGS_MAP_19(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_18(__VA_ARGS__)
#define VIAL_ARGS_MAP_20(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_19(__VA_ARGS__)
#define VIAL_ARGS_MAP_21(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_20(__VA_ARGS__)
#define VIAL_ARGS_MAP_22(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_21(__VA_ARGS__)
#define VIAL_ARGS_MAP_23(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_22(__VA_ARGS__)
#define VIAL_ARGS_MAP_24(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_23(__VA_ARGS__)
#define VIAL_ARGS_MAP_25(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_24(__VA_ARGS__)
#define VIAL_ARGS_MAP_26(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_25(__VA_ARGS__)
#define VIAL_ARGS_MAP_27(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_26(__VA_ARGS__)
#define VIAL_ARGS_MAP_28(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_27(__VA_ARGS__)
#define VIAL_ARGS_MAP_29(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_28(__VA_ARGS__)
#define VIAL_ARGS_MAP_30(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_29(__VA_ARGS__)
#define VIAL_ARGS_MAP_31(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_30(__VA_ARGS__)
#define VIAL_ARGS_MAP_32(x, ...) VIAL_BIND(x), VIAL_ARGS_MAP_31(__VA_ARGS__)
#define VIAL_ARGS_MAKE_0() ((vial_args){NULL, 0})
#define VIAL_ARGS_MAKE_1(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_1(__VA_ARGS__)}, 1})
#define VIAL_ARGS_MAKE_2(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_2(__VA_ARGS__)}, 2})
#define VIAL_ARGS_MAKE_3(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_3(__VA_ARGS__)}, 3})
#define VIAL_ARGS_MAKE_4(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_4(__VA_ARGS__)}, 4})
#define VIAL_ARGS_MAKE_5(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_5(__VA_ARGS__)}, 5})
#define VIAL_ARGS_MAKE_6(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_6(__VA_ARGS__)}, 6})
#define VIAL_ARGS_MAKE_7(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_7(__VA_ARGS__)}, 7})
#define VIAL_ARGS_MAKE_8(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_8(__VA_ARGS__)}, 8})
#define VIAL_ARGS_MAKE_9(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_9(__VA_ARGS__)}, 9})
#define VIAL_ARGS_MAKE_10(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_10(__VA_ARGS__)}, 10})
#define VIAL_ARGS_MAKE_11(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_11(__VA_ARGS__)}, 11})
#define VIAL_ARGS_MAKE_12(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_12(__VA_ARGS__)}, 12})
#define VIAL_ARGS_MAKE_13(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_13(__VA_ARGS__)}, 13})
#define VIAL_ARGS_MAKE_14(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_14(__VA_ARGS__)}, 14})
#define VIAL_ARGS_MAKE_15(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_15(__VA_ARGS__)}, 15})
#define VIAL_ARGS_MAKE_16(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_16(__VA_ARGS__)}, 16})
#define VIAL_ARGS_MAKE_17(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_17(__VA_ARGS__)}, 17})
#define VIAL_ARGS_MAKE_18(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_18(__VA_ARGS__)}, 18})
#define VIAL_ARGS_MAKE_19(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_19(__VA_ARGS__)}, 19})
#define VIAL_ARGS_MAKE_20(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_20(__VA_ARGS__)}, 20})
#define VIAL_ARGS_MAKE_21(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_21(__VA_ARGS__)}, 21})
#define VIAL_ARGS_MAKE_22(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_22(__VA_ARGS__)}, 22})
#define VIAL_ARGS_MAKE_23(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_23(__VA_ARGS__)}, 23})
#define VIAL_ARGS_MAKE_24(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_24(__VA_ARGS__)}, 24})
#define VIAL_ARGS_MAKE_25(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_25(__VA_ARGS__)}, 25})
#define VIAL_ARGS_MAKE_26(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_26(__VA_ARGS__)}, 26})
#define VIAL_ARGS_MAKE_27(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_27(__VA_ARGS__)}, 27})
#define VIAL_ARGS_MAKE_28(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_28(__VA_ARGS__)}, 28})
#define VIAL_ARGS_MAKE_29(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_29(__VA_ARGS__)}, 29})
#define VIAL_ARGS_MAKE_30(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_30(__VA_ARGS__)}, 30})
#define VIAL_ARGS_MAKE_31(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_31(__VA_ARGS__)}, 31})
#define VIAL_ARGS_MAKE_32(...) ((vial_args){(const vial_value[]){VIAL_ARGS_MAP_32(__VA_ARGS__)}, 32})
#endif /* !__cplusplus */

/* A BLOB value in the arena: a copy of n bytes flagged VIAL_FLAG_BLOB. */
vial_value *vial_db_blob(vial_arena *a, const void *bytes, size_t n);

/* ---- statements ----
 * One statement per call, ? placeholders only (translated to $1.. for
 * PostgreSQL), values bound never pasted. Result values: INTEGER → int,
 * REAL/DOUBLE → double, TEXT → string, BLOB/bytea → string flagged
 * VIAL_FLAG_BLOB (raw bytes), NULL → null, BOOLEAN columns → bool, TIMESTAMP →
 * "YYYY-MM-DD HH:MM:SS" string. Column names are the object keys. */

/* Runs sql; all rows as an array of objects (an empty array for statements without rows). */
vial_value *vial_db_query_args(vial_db_conn *c, vial_arena *a, const char *sql, vial_args args);
/* The first row, or NULL: VIAL_DB_NOT_FOUND when there is none, an error code otherwise. */
vial_value *vial_db_one_args(vial_db_conn *c, vial_arena *a, const char *sql, vial_args args);
/* The first column of the first row (null for SQL NULL), or NULL as vial_db_one_args. */
vial_value *vial_db_scalar_args(vial_db_conn *c, vial_arena *a, const char *sql, vial_args args);
/* Runs a statement; the number of rows it changed, or -1. */
int64_t vial_db_exec_args(vial_db_conn *c, const char *sql, vial_args args);
/* Runs several ;-separated statements without parameters (schema files); 0 or -1. */
int vial_db_script(vial_db_conn *c, const char *sql);
/* Rows changed by the last statement. */
int64_t vial_db_changes(const vial_db_conn *c);
/* Id of the last inserted row (SQLite: last_insert_rowid; PostgreSQL: lastval()), or -1. */
int64_t vial_db_last_insert_id(vial_db_conn *c);

#define vial_db_query(c, a, sql, ...) vial_db_query_args((c), (a), (sql), VIAL_ARGS(__VA_ARGS__))
#define vial_db_one(c, a, sql, ...) vial_db_one_args((c), (a), (sql), VIAL_ARGS(__VA_ARGS__))
#define vial_db_scalar(c, a, sql, ...) vial_db_scalar_args((c), (a), (sql), VIAL_ARGS(__VA_ARGS__))
#define vial_db_exec(c, sql, ...) vial_db_exec_args((c), (sql), VIAL_ARGS(__VA_ARGS__))

/* ---- transactions: nested calls become savepoints ---- */

/* Starts a transaction (SQLite: BEGIN IMMEDIATE), or a savepoint inside one. */
int vial_db_begin(vial_db_conn *c);
/* Commits the innermost level (RELEASE for a savepoint); fails, rolling back, when it had aborted. */
int vial_db_commit(vial_db_conn *c);
/* Rolls back the innermost level. */
int vial_db_rollback(vial_db_conn *c);
/* Nesting depth: 0 outside a transaction. */
int vial_db_depth(const vial_db_conn *c);
/* Rolls back everything left open (call at request end); levels undone, or -1. */
int vial_db_rollback_all(vial_db_conn *c);

/* ---- models ---- */

/* Column types of a model. */
typedef enum vial_coltype {
    VIAL_INTEGER = 1, /* int64; with .primary_key an auto-numbered id */
    VIAL_TEXT,        /* UTF-8 text */
    VIAL_REAL,        /* double */
    VIAL_BOOLEAN,     /* true/false (SQLite stores 1/0) */
    VIAL_TIMESTAMP,   /* "YYYY-MM-DD HH:MM:SS", UTC, whole seconds */
    VIAL_BLOB,        /* bytes */
} vial_coltype;

/* One column: {"title", VIAL_TEXT, .not_null = true}. */
typedef struct vial_column {
    const char *name;
    vial_coltype type;
    bool primary_key;        /* one INTEGER column: the row id */
    bool not_null;
    bool unique;
    bool index;              /* CREATE INDEX ix_<table>_<column> */
    const char *default_sql; /* trusted SQL expression: "CURRENT_TIMESTAMP", "0", "'draft'" */
    const char *references;  /* foreign key "table.column" */
    const char *on_delete;   /* with references: "CASCADE", "SET NULL", "RESTRICT" */
} vial_column;

/* A column with designated fields only, so -Wextra's missing-field-initializers stays quiet:
 * VIAL_COLUMN("title", VIAL_TEXT, .not_null = true). Plain braces work too when at least one
 * field is designated: {"title", VIAL_TEXT, .not_null = true}. */
#define VIAL_COLUMN(column_name, column_type, ...) {.name = (column_name), .type = (column_type), __VA_ARGS__}

/* An index over one or more columns: {"ix_post_author_created", "author_id, created"}. */
typedef struct vial_index {
    const char *name;
    const char *columns; /* comma-separated model columns */
    bool unique;
} vial_index;

typedef struct vial_model vial_model;

/* A relationship loaded into rows under .name. */
typedef struct vial_relation {
    const char *name;         /* key set on each row: "posts", "author" */
    const vial_model *target; /* the other model */
    const char *foreign_key;  /* one-to-many: target's column holding our key; many-to-one: our column */
    bool many_to_one;         /* true: one object (or null) instead of a list */
    const char *order_by;     /* one-to-many: order of the list, as vial_query.order_by */
} vial_relation;

/* A table declared once in C; arrays end with a zeroed entry. */
struct vial_model {
    const char *table;
    const vial_column *columns;
    const vial_index *indexes;     /* optional */
    const vial_relation *relations; /* optional */
};

/* What to select: every field optional. */
typedef struct vial_query {
    const char *where;           /* trusted SQL condition with ? placeholders: "author_id = ?" */
    vial_args args;              /* values for where's placeholders: VIAL_ARGS(uid) */
    const vial_value *filter_by; /* object column → value, ANDed as "col = ?" (null: IS NULL), checked */
    const char *order_by;        /* "created DESC, id": model columns + ASC/DESC only, checked */
    int64_t limit;               /* 0: no limit */
    int64_t offset;
    int64_t page;         /* paginate: 1-based page, 0 → 1 */
    int64_t per_page;     /* paginate: 0 → 20 */
    int64_t max_per_page; /* paginate: cap on per_page, 0 → 100, -1 none */
    bool no_error_out;    /* paginate: clamp bad page/per_page instead of VIAL_DB_NOT_FOUND */
    const char *load;     /* relations to load into each row: "posts" or "author, comments" */
    bool load_join;       /* load them with a LEFT JOIN instead of a second query */
} vial_query;

/* Checks row against m before any SQL: unknown column, wrong type, NULL in a NOT NULL column,
 * missing required column (for_insert). 0, or -1 with a message naming the column in msg. */
int vial_db_check(const vial_model *m, const vial_value *row, bool for_insert, char *msg, size_t msglen);
/* CREATE TABLE (and indexes) for each model not yet present, dependency order; models ends with NULL. */
int vial_db_create_all(vial_db_conn *c, const vial_model *const *models);
/* DROP TABLE for each model present, reverse dependency order. */
int vial_db_drop_all(vial_db_conn *c, const vial_model *const *models);
/* The DDL create_all would run for this backend, as text in a. */
char *vial_db_schema_sql(vial_arena *a, int backend, const vial_model *const *models);
/* Inserts row (checked against m); the new id (the primary key), or -1. */
int64_t vial_db_insert(vial_db_conn *c, const vial_model *m, const vial_value *row);
/* The row with primary key key, or NULL (VIAL_DB_NOT_FOUND when absent). */
vial_value *vial_db_get_v(vial_db_conn *c, vial_arena *a, const vial_model *m, vial_value key);
/* Updates the row with primary key key; rows changed (0 with VIAL_DB_NOT_FOUND), or -1. */
int64_t vial_db_update_v(vial_db_conn *c, const vial_model *m, vial_value key, const vial_value *changes);
/* Deletes the row with primary key key; rows deleted (0 with VIAL_DB_NOT_FOUND), or -1. */
int64_t vial_db_delete_v(vial_db_conn *c, const vial_model *m, vial_value key);
/* Matching rows as an array (with q->load relations), or NULL. */
vial_value *vial_db_select_q(vial_db_conn *c, vial_arena *a, const vial_model *m, const vial_query *q);
/* The first matching row, or NULL (VIAL_DB_NOT_FOUND when none). */
vial_value *vial_db_first_q(vial_db_conn *c, vial_arena *a, const vial_model *m, const vial_query *q);
/* Number of matching rows, or -1. */
int64_t vial_db_count_q(vial_db_conn *c, const vial_model *m, const vial_query *q);
/* A page as Flask-SQLAlchemy's Pagination: {items, page, per_page, total, pages, has_prev,
 * has_next, prev_num, next_num, first, last}; NULL with VIAL_DB_NOT_FOUND where it would 404. */
vial_value *vial_db_paginate_q(vial_db_conn *c, vial_arena *a, const vial_model *m, const vial_query *q);
/* Page numbers for a pager (Pagination.iter_pages): ints, null for a gap. */
vial_value *vial_db_iter_pages(vial_arena *a, const vial_value *pagination, int left_edge, int left_current,
                               int right_current, int right_edge);
/* Updates every matching row with changes (checked); rows changed, or -1. */
int64_t vial_db_update_where_q(vial_db_conn *c, const vial_model *m, const vial_value *changes, const vial_query *q);
/* Deletes every matching row (all rows when q has no filter); rows deleted, or -1. */
int64_t vial_db_delete_where_q(vial_db_conn *c, const vial_model *m, const vial_query *q);
/* Loads relations ("posts, author") into row (an object) or each row of an array; 0 or -1. */
int vial_db_load(vial_db_conn *c, vial_arena *a, const vial_model *m, vial_value *rows, const char *relations,
                 bool join);

#define vial_db_get(c, a, m, key) vial_db_get_v((c), (a), (m), VIAL_BIND(key))
#define vial_db_update(c, m, key, changes) vial_db_update_v((c), (m), VIAL_BIND(key), (changes))
#define vial_db_delete(c, m, key) vial_db_delete_v((c), (m), VIAL_BIND(key))
#define vial_db_select(c, a, m, ...) vial_db_select_q((c), (a), (m), &(const vial_query){__VA_ARGS__})
#define vial_db_first(c, a, m, ...) vial_db_first_q((c), (a), (m), &(const vial_query){__VA_ARGS__})
#define vial_db_count(c, m, ...) vial_db_count_q((c), (m), &(const vial_query){__VA_ARGS__})
#define vial_db_paginate(c, a, m, ...) vial_db_paginate_q((c), (a), (m), &(const vial_query){__VA_ARGS__})
#define vial_db_update_where(c, m, changes, ...) \
    vial_db_update_where_q((c), (m), (changes), &(const vial_query){__VA_ARGS__})
#define vial_db_delete_where(c, m, ...) vial_db_delete_where_q((c), (m), &(const vial_query){__VA_ARGS__})

/* ---- migrations ---- */

/* The app's `db` command: init, revision -m MSG, upgrade [target], downgrade [target],
 * current, history, migrate [-m MSG] (autogenerate from models). argv[0] is the
 * subcommand. Writes to out/err; returns the exit status. */
int vial_db_command(vial_db *db, const vial_model *const *models, const char *migrations_dir, int argc,
                    char **argv, FILE *out, FILE *err);
/* Applies pending migrations up to target ("head" or NULL, a version, "+N"); 0 or -1 (reason on err). */
int vial_db_upgrade(vial_db *db, const char *migrations_dir, const char *target, FILE *out, FILE *err);

/* ==== end section: database ==== */

#ifdef __cplusplus
}
#endif

#endif /* VIAL_H */
