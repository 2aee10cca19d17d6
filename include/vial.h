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

/* A URL map with Werkzeug 2.2's rule syntax and semantics: rules such as
 * "/goods/<float:cid>/<uuid:gid>" compiled into a tree walked by path
 * segment, matching with Werkzeug's priorities, strict slashes and merged
 * slashes, 404/405 with the allowed methods, and URL building (url_for).
 * The router knows nothing about requests or the app: the app layer owns one
 * and calls it. */
typedef struct vial_router vial_router;

/* methods value meaning "every method", like a bare Werkzeug rule without methods. */
#define VIAL_ANY_METHOD (1u << 31)

/* A user converter (Flask's app.url_map.converters["name"] = Class). Every
 * field may be left 0/NULL. */
typedef struct vial_converter_setup {
    const vial_value *args;   /* positional arguments of <name(...):var>, an array (maybe empty) */
    const vial_value *kwargs; /* keyword arguments, an object (maybe empty) */
    vial_arena *arena;        /* lives as long as the router: allocate state here */
    const char *regex;        /* in: the converter's regex; out: this placeholder's regex */
    void *state;              /* in: the converter's userdata; out: handed to to_value/to_url */
    char error[160];          /* out: why setup failed */
} vial_converter_setup;

typedef struct vial_converter {
    /* What the placeholder matches (PCRE2, written as for Python's re); NULL: "[^/]+". */
    const char *regex;
    /* Priority among converters at one position, lower first; 0 = 100 (int/float 50, path 200). */
    int weight;
    /* True when the regex may match '/' (Werkzeug's part_isolating = False, like path). */
    bool spans_slashes;
    /* Reads the rule's arguments; returns 0, or -1 with s->error filled. NULL: no arguments allowed. */
    int (*setup)(vial_converter_setup *s);
    /* Matched text (len bytes, not NUL-terminated) -> value; NULL rejects the URL (404, as a ValidationError). NULL: a string. */
    vial_value *(*to_value)(vial_arena *a, const char *text, size_t len, void *state);
    /* Appends value's URL form, already percent-encoded, to out; -1 with err filled fails the build. NULL: str(value) quoted. */
    int (*to_url)(vial_buf *out, const vial_value *value, void *state, char *err, size_t errlen);
    void *userdata;
} vial_converter;

/* How strictly a rule treats a trailing slash (Werkzeug's strict_slashes). */
enum { VIAL_SLASHES_DEFAULT = 0, VIAL_SLASHES_STRICT, VIAL_SLASHES_LOOSE };

/* One rule to add (Werkzeug's Rule(...) / Flask's add_url_rule). */
typedef struct vial_rule_spec {
    const char *rule;           /* "/goods/<float:cid>/<uuid:gid>" */
    const char *endpoint;       /* name for url building; several rules may share one */
    unsigned methods;           /* VIAL_GET | VIAL_POST; 0 = GET (Flask's default); VIAL_ANY_METHOD = all */
    void *handler;              /* the caller's pointer, handed back by matches; NULL: the endpoint's */
    const vial_value *defaults; /* object: values this rule supplies (copied), as Rule(defaults=...) */
    const char *redirect_to;    /* "/item/<id>": a match redirects there (308) */
    int strict_slashes;         /* VIAL_SLASHES_*: DEFAULT takes the router's setting (strict) */
    bool no_auto_options;       /* do not add OPTIONS (Flask's provide_automatic_options=False) */
} vial_rule_spec;

/* A registered rule, as `flask routes` lists it. Owned by the router. */
typedef struct vial_rule_info {
    const char *rule;          /* the text as registered */
    const char *endpoint;
    unsigned methods;          /* effective: HEAD with GET, automatic OPTIONS; or VIAL_ANY_METHOD */
    bool auto_options;         /* OPTIONS was added automatically: the app answers OPTIONS itself */
    bool strict_slashes;
    void *handler;
    const vial_value *defaults;    /* NULL when none */
    const char *redirect_to;       /* NULL when none */
    size_t argc;                   /* converters in the rule, in order */
    const char *const *argv;       /* their names */
    size_t index;                  /* registration order */
} vial_rule_info;

/* Why a rule or converter was refused. */
typedef struct vial_route_error {
    size_t position;     /* byte offset in the rule text where the problem is */
    char message[320];   /* "rule '/a/<int(min=x):n>' at offset 3: ..." */
} vial_route_error;

/* A new router with the built-in converters (string, int, float, path, uuid, any, re). */
vial_router *vial_router_new(void);
/* Releases the router, its rules and compiled tree. */
void vial_router_free(vial_router *r);
/* Werkzeug's Map options (defaults: all true); set them before adding rules. */
void vial_router_set_options(vial_router *r, bool strict_slashes, bool merge_slashes, bool redirect_defaults);
/* Registers (or replaces) a converter by name, for rules added after; -1 with err on a bad name or regex. */
int vial_router_converter(vial_router *r, const char *name, const vial_converter *conv, vial_route_error *err);
/* Adds a rule; -1 with err filled on a bad rule, converter, argument or regex, a
 * duplicate rule, or an endpoint already bound to another handler. */
int vial_router_add(vial_router *r, const vial_rule_spec *spec, vial_route_error *err);
/* Number of rules. */
size_t vial_router_count(const vial_router *r);
/* The i-th rule in registration order (NULL past the end). */
const vial_rule_info *vial_router_rule(const vial_router *r, size_t i);
/* The rules of an endpoint in build order (Werkzeug's); *count 0 and NULL when unknown. */
const vial_rule_info *const *vial_router_endpoint_rules(const vial_router *r, const char *endpoint, size_t *count);

typedef enum vial_route_status {
    VIAL_ROUTE_FOUND,
    VIAL_ROUTE_NOT_FOUND,          /* 404 */
    VIAL_ROUTE_METHOD_NOT_ALLOWED, /* 405 with Allow: allowed */
    VIAL_ROUTE_REDIRECT,           /* redirect_code (308) to location */
} vial_route_status;

/* A request as the router sees it (what Werkzeug's MapAdapter is bound to). */
typedef struct vial_route_request {
    unsigned method;       /* one VIAL_* bit; 0 for a method no rule can name (405/404) */
    vial_str path;         /* PATH_INFO as sent: percent-encoded, no query */
    bool path_decoded;     /* path is already percent-decoded UTF-8 */
    vial_str query;        /* raw query string without '?', kept on redirects */
    vial_str scheme;       /* for absolute redirect Locations: "http"/"https" (empty: "http") */
    vial_str host;         /* Host; empty: Locations are paths ("/foo/?x=1") */
    vial_str script_root;  /* SCRIPT_NAME / APPLICATION_ROOT ("" or "/app") */
} vial_route_request;

typedef struct vial_route_match {
    vial_route_status status;
    const vial_rule_info *rule; /* FOUND */
    const char *endpoint;       /* FOUND */
    void *handler;              /* FOUND */
    vial_value *args;           /* FOUND: converted values in rule order, then defaults; NULL when none */
    unsigned allowed;           /* METHOD_NOT_ALLOWED: the methods for Allow */
    const char *location;       /* REDIRECT: the Location header value (arena) */
    int redirect_code;          /* REDIRECT: 308 */
} vial_route_match;

/* Matches a request; results live in arena a. Returns 0, or -1 when the arena is out of memory. */
int vial_router_match(const vial_router *r, vial_arena *a, const vial_route_request *rq, vial_route_match *out);
/* Methods the rules matching path accept (automatic OPTIONS' Allow); 0 when none or a rule takes any method. */
unsigned vial_router_allowed_methods(const vial_router *r, vial_arena *a, vial_str path, bool path_decoded);

/* Flask's _external: AUTO = absolute only when a scheme is given. */
enum { VIAL_EXTERNAL_AUTO = 0, VIAL_EXTERNAL_YES, VIAL_EXTERNAL_NO };

/* Options of url_for beyond endpoint and values (Werkzeug's MapAdapter.build + Flask's url_for). */
typedef struct vial_url_opts {
    unsigned method;          /* _method: only rules accepting it; 0 = any, trying default_method first */
    unsigned default_method;  /* the current request's method (0 = GET) */
    const char *script_root;  /* "" or "/app": every path is built under it */
    int external;             /* VIAL_EXTERNAL_*: scheme://host + script_root + path */
    const char *scheme;       /* _scheme (https/wss give https, anything else http); NULL: url_scheme */
    const char *url_scheme;   /* the request's scheme; NULL: "http" */
    const char *host;         /* for external URLs ("localhost:5000") */
    const char *anchor;       /* _anchor: "#" + quoted anchor */
} vial_url_opts;

enum { VIAL_URL_OK = 0, VIAL_URL_BUILD_ERROR, VIAL_URL_VALUE_ERROR };

/* Why a URL could not be built. */
typedef struct vial_url_error {
    int kind;           /* VIAL_URL_BUILD_ERROR (Werkzeug's BuildError) or VIAL_URL_VALUE_ERROR */
    char message[512];  /* Werkzeug's message, e.g. "Could not build url for endpoint 'user'. Did you forget to specify values ['name']?" */
} vial_url_error;

/* Builds the URL of endpoint from values (an object; unused values become the
 * query string, nulls are dropped). NULL with err filled on failure. */
char *vial_router_build(const vial_router *r, vial_arena *a, const char *endpoint, const vial_value *values,
                        const vial_url_opts *opts, vial_url_error *err);

/* Appends s percent-encoded as Werkzeug's url_quote: A-Za-z0-9 -._~$!'()*+,; and the bytes of safe are kept. */
int vial_url_quote(vial_buf *out, const char *s, size_t n, const char *safe);
/* Appends an object as a query string like Werkzeug's url_encode (arrays repeat the key, nulls dropped). */
int vial_url_encode_query(vial_buf *out, const vial_value *values);
/* The bit of a method name, case-insensitive ("get" -> VIAL_GET); 0 when unknown. */
unsigned vial_method_from_name(const char *name, size_t len);
/* The name of one method bit ("GET"), or NULL. */
const char *vial_method_name(unsigned bit);
/* Writes the method names of bits sorted and joined by ", " ("GET, HEAD, OPTIONS"); returns the length. */
size_t vial_methods_format(char *out, size_t size, unsigned bits);

/* ==== end section: routing ==== */

/* ==== section: forms and cookies (src/app/forms) ==== */

/* ==== end section: forms and cookies ==== */

/* ==== section: session, signing and passwords (src/session) ==== */

/* ==== end section: session ==== */

/* ==== section: templates (src/template) ==== */

/* ==== end section: templates ==== */

/* ==== section: database (src/db) ==== */

/* ==== end section: database ==== */

#ifdef __cplusplus
}
#endif

#endif /* VIAL_H */
