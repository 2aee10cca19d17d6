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

/* Fills out with n bytes from the kernel's CSPRNG; -1 on failure. */
int vial_random_bytes(void *out, size_t n);

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
/* Parks the request's coroutine until another request calls vial_unpark(slot)
 * or timeout_ms passes (<0: no timeout); *slot holds a handle meanwhile (NULL
 * otherwise). 1 woken, 0 timed out, -1 outside a coroutine (nothing to park). */
int vial_park(void **slot, int timeout_ms);
/* Wakes the request parked on slot; it resumes after the current turn's events. No-op when none is. */
void vial_unpark(void **slot);

/* ==== end section: server ==== */

/* ==== section: app (src/app) ==== */

typedef struct vial_app vial_app;   /* Flask's app object */
typedef struct vial_req vial_req;   /* flask.request, for one request */
typedef struct vial_res vial_res;   /* the response being built */
typedef struct vial_bp vial_bp;     /* a blueprint */
typedef struct vial_cmd vial_cmd;   /* a CLI command being run */

/* A view: reads the request, writes the response. */
typedef void (*vial_handler)(vial_req *rq, vial_res *rs);
/* before_request: return true when it answered (the view is skipped). */
typedef bool (*vial_before_hook)(vial_req *rq, vial_res *rs);
/* after_request: may change the response. */
typedef void (*vial_after_hook)(vial_req *rq, vial_res *rs);
/* teardown_request: always runs; status is the response's (500 after a failure). */
typedef void (*vial_teardown_hook)(vial_req *rq, int status);
/* Error handler for a status code; the response's status is preset to code. */
typedef void (*vial_error_handler)(vial_req *rq, vial_res *rs, int code);
/* A CLI command; returns the process exit status. */
typedef int (*vial_command_fn)(vial_app *app, vial_cmd *cmd);

/* Flask's MethodView: one handler per HTTP method (NULL: not allowed). */
typedef struct vial_method_table {
    vial_handler get, post, put, patch, delete_, head, options;
} vial_method_table;

/* A route declared beside its view with VIAL_ROUTE (registered by vial_app_new). */
typedef struct vial_route_decl {
    const char *endpoint;
    const char *rule;
    unsigned methods;
    vial_handler fn;
} vial_route_decl;

/* Creates an app; routes declared with VIAL_ROUTE anywhere in the program are registered. */
vial_app *vial_app_create(const char *name, const vial_route_decl *const *decls_start,
                          const vial_route_decl *const *decls_end);
#if defined(__GNUC__) && !defined(__cplusplus)
extern const vial_route_decl *const __start_vial_routes[] __attribute__((weak, visibility("hidden")));
extern const vial_route_decl *const __stop_vial_routes[] __attribute__((weak, visibility("hidden")));
#define vial_app_new(name) vial_app_create((name), __start_vial_routes, __stop_vial_routes)
#else
#define vial_app_new(name) vial_app_create((name), NULL, NULL)
#endif

/* Defines a view and registers it like @app.route: VIAL_ROUTE(home, "/", VIAL_GET) { ... } */
#define VIAL_ROUTE(name, rule, methods)                                                              \
    static void name(vial_req *rq, vial_res *rs);                                                    \
    static const vial_route_decl vial__decl_##name = {#name, (rule), (methods), name};               \
    static const vial_route_decl *const vial__declp_##name                                          \
        __attribute__((used, section("vial_routes"))) = &vial__decl_##name;                         \
    static void name(vial_req *rq __attribute__((unused)), vial_res *rs __attribute__((unused)))

/* Releases the app (at exit; workers never need to). */
void vial_app_free(vial_app *app);
/* The app's name. */
const char *vial_app_name(const vial_app *app);
/* The app's long-lived arena (config, compiled templates, caches). */
vial_arena *vial_app_arena(vial_app *app);
/* The folder holding templates/, static/ and instance/ (default: the working directory). */
int vial_app_set_root(vial_app *app, const char *path);
/* The app's root folder. */
const char *vial_app_root(const vial_app *app);
/* Static files: folder (relative to root; NULL disables) and URL path, as Flask(static_folder=, static_url_path=). */
int vial_app_static(vial_app *app, const char *folder, const char *url_path);
/* The last registration error (duplicate endpoint, bad rule...), or NULL. */
const char *vial_app_error(const vial_app *app);

/* Registers a view for a rule; the endpoint is the function's name: vial_route(app, "/", VIAL_GET, home). */
#define vial_route(app, rule, methods, fn) vial_add_url_rule((app), (rule), #fn, (methods), (fn))
/* app.add_url_rule(rule, endpoint, view, methods=...); returns -1 (and logs why) on a bad rule or duplicate. */
int vial_add_url_rule(vial_app *app, const char *rule, const char *endpoint, unsigned methods, vial_handler fn);
/* A REST resource: one handler per method (Flask's MethodView.as_view(endpoint)). */
int vial_method_view(vial_app *app, const char *rule, const char *endpoint, const vial_method_table *methods);
/* Methods from names, case-insensitive: vial_methods("get, post") == VIAL_GET | VIAL_POST; 0 if unknown. */
unsigned vial_methods(const char *names);
struct vial_converter; /* routing section below */
/* Registers a URL converter for the app's rules (app.url_map.converters["re"] = RegexConverter). */
int vial_add_converter(vial_app *app, const char *name, const struct vial_converter *conv);
struct vial_router; /* routing section below */
/* app.url_map: the app's rules (list them with vial_router_count / vial_router_rule). */
const struct vial_router *vial_app_url_map(vial_app *app);
/* url_for(endpoint, key=value, ...): pairs of C strings ending with NULL; "_external", "_scheme",
 * "_anchor", "_method" as in Flask; unused keys become the query string. Aborts 500 when it cannot build. */
char *vial_url_for(vial_req *rq, const char *endpoint, ...);
/* url_for with the values as an object (ints, floats, lists for repeated query keys). */
char *vial_url_for_value(vial_req *rq, const char *endpoint, const vial_value *values);

/* Registers a before_request hook (run in registration order). */
void vial_before_request(vial_app *app, vial_before_hook fn);
/* Registers an after_request hook (run in reverse registration order, as Flask). */
void vial_after_request(vial_app *app, vial_after_hook fn);
/* Registers a teardown_request hook (always runs, reverse order). */
void vial_teardown_request(vial_app *app, vial_teardown_hook fn);
/* Registers an error handler for a status code (404, 500, ...). */
void vial_errorhandler(vial_app *app, int code, vial_error_handler fn);

/* Creates a blueprint with a URL prefix and registers it on the app. */
vial_bp *vial_blueprint(vial_app *app, const char *name, const char *url_prefix);
/* Registers a view on a blueprint; endpoint "bpname.fn". */
#define vial_bp_route(bp, rule, methods, fn) vial_bp_add_url_rule((bp), (rule), #fn, (methods), (fn))
/* bp.add_url_rule: endpoint is prefixed with the blueprint's name. */
int vial_bp_add_url_rule(vial_bp *bp, const char *rule, const char *endpoint, unsigned methods, vial_handler fn);
/* A method view on a blueprint. */
int vial_bp_method_view(vial_bp *bp, const char *rule, const char *endpoint, const vial_method_table *methods);
/* before_request for the blueprint's routes only. */
void vial_bp_before_request(vial_bp *bp, vial_before_hook fn);
/* after_request for the blueprint's routes only. */
void vial_bp_after_request(vial_bp *bp, vial_after_hook fn);
/* teardown_request for the blueprint's routes only. */
void vial_bp_teardown_request(vial_bp *bp, vial_teardown_hook fn);
/* Error handler for errors raised in the blueprint's views. */
void vial_bp_errorhandler(vial_bp *bp, int code, vial_error_handler fn);
/* The blueprint's static folder (relative to the app root) and URL path. */
int vial_bp_static(vial_bp *bp, const char *folder, const char *url_path);
/* The blueprint's template folder (relative to the app root). */
int vial_bp_templates(vial_bp *bp, const char *folder);

/* ---- config (app.config) ---- */

/* Sets a config key from text; well-known keys are converted to their type (DEBUG → bool...). */
int vial_config_set(vial_app *app, const char *key, const char *value);
/* Sets a config key to a value (copied into the app). */
int vial_config_set_value(vial_app *app, const char *key, const vial_value *value);
/* Sets an integer config key. */
int vial_config_set_int(vial_app *app, const char *key, int64_t value);
/* Sets a boolean config key. */
int vial_config_set_bool(vial_app *app, const char *key, bool value);
/* Updates config from an object (app.config.update / from_mapping). */
int vial_config_update(vial_app *app, const vial_value *mapping);
/* Loads a JSON file of keys (app.config.from_file(path, json.load)); -1 with a logged reason. */
int vial_config_from_json(vial_app *app, const char *path);
/* Loads VIAL_* style environment variables (from_prefixed_env): values parsed as JSON when they are, nested keys with "__". */
int vial_config_from_env(vial_app *app, const char *prefix);
/* A config value, or NULL. */
const vial_value *vial_config_get(const vial_app *app, const char *key);
/* A config value as a string (NULL when absent or not a string). */
const char *vial_config_str(const vial_app *app, const char *key);
/* A config value as an integer, or fallback. */
int64_t vial_config_int(const vial_app *app, const char *key, int64_t fallback);
/* A config value as a truth value, or fallback. */
bool vial_config_bool(const vial_app *app, const char *key, bool fallback);
/* The whole config object (read-only). */
const vial_value *vial_config(const vial_app *app);

/* ---- the request (flask.request) ---- */

/* The request's arena: memory freed when the response is sent. */
vial_arena *vial_req_arena(vial_req *rq);
/* The app serving the request. */
vial_app *vial_req_app(vial_req *rq);
/* The response object of this request. */
vial_res *vial_req_res(vial_req *rq);
/* request.method ("GET"). */
const char *vial_method(vial_req *rq);
/* True for GET (and HEAD). */
bool vial_is_get(vial_req *rq);
/* True for POST. */
bool vial_is_post(vial_req *rq);
/* request.path: decoded path ("/a b"). */
const char *vial_path(vial_req *rq);
/* request.full_path: path + "?" + query string. */
const char *vial_full_path(vial_req *rq);
/* request.url: scheme://host/path?query. */
const char *vial_url(vial_req *rq);
/* request.base_url: url without the query string. */
const char *vial_base_url(vial_req *rq);
/* request.root_url: scheme://host/ (plus script root). */
const char *vial_root_url(vial_req *rq);
/* request.host: the Host header ("127.0.0.1:5000"). */
const char *vial_host(vial_req *rq);
/* request.scheme: "http" or "https". */
const char *vial_scheme(vial_req *rq);
/* request.query_string: the raw bytes after '?'. */
vial_str vial_query_string(vial_req *rq);
/* request.remote_addr. */
const char *vial_remote_addr(vial_req *rq);
/* The address the request arrived on ("127.0.0.1:5000"), as request.environ SERVER_NAME/PORT. */
const char *vial_server_addr(vial_req *rq);
/* request.user_agent string ("" when absent). */
const char *vial_user_agent(vial_req *rq);
/* A request header, case-insensitive; NULL when absent (several: joined with ", "). */
const char *vial_header(vial_req *rq, const char *name);
/* All request headers as an object name → value (names as sent). */
vial_value *vial_headers(vial_req *rq);
/* request.content_type (the whole header) or NULL. */
const char *vial_content_type(vial_req *rq);
/* request.mimetype: the content type without parameters, lowercased ("" when none). */
const char *vial_mimetype(vial_req *rq);
/* request.content_length, or -1. */
int64_t vial_content_length(vial_req *rq);
/* request.is_json: application/json or application/...+json. */
bool vial_is_json(vial_req *rq);
/* request.get_data(): the whole body (NULL data + 0 on error, after which the request was aborted). */
vial_str vial_data(vial_req *rq);
/* request.json: the body parsed; aborts 415 when not JSON, 400 (with the offset) when malformed. */
vial_value *vial_get_json(vial_req *rq);
/* Like vial_get_json but returns NULL instead of aborting (request.get_json(silent=True)). */
vial_value *vial_get_json_silent(vial_req *rq);
/* A URL parameter converted by the rule (<int:id> ...), as a value. */
vial_value *vial_param_value(vial_req *rq, const char *name);
/* A URL parameter as text ("" when absent). */
const char *vial_param(vial_req *rq, const char *name);
/* A URL parameter as an integer (0 when absent). */
int64_t vial_param_int(vial_req *rq, const char *name);
/* A URL parameter as a double (0 when absent). */
double vial_param_double(vial_req *rq, const char *name);
/* All URL parameters (request.view_args). */
vial_value *vial_view_args(vial_req *rq);
/* request.endpoint ("auth.login"), NULL before routing or on 404. */
const char *vial_endpoint(vial_req *rq);
/* request.blueprint name, or NULL. */
const char *vial_blueprint_name(vial_req *rq);

/* Stores a value in flask.g for this request. */
int vial_g_set(vial_req *rq, const char *key, vial_value *value);
/* A value from flask.g, or NULL. */
vial_value *vial_g_get(vial_req *rq, const char *key);
/* Stores a C pointer in g (e.g. the logged-in user's struct). */
int vial_g_set_ptr(vial_req *rq, const char *key, void *ptr);
/* A C pointer from g, or NULL. */
void *vial_g_get_ptr(vial_req *rq, const char *key);

/* Builds a value in the request's arena: vial_pack(rq, "{s:s, s:i}", "name", "x", "age", 16). */
#define vial_pack(rq, ...) vial_pack_in(vial_req_arena(rq), __VA_ARGS__)
/* Request-scoped value constructors. */
#define vial_int(rq, i) vial_new_int(vial_req_arena(rq), (i))
#define vial_double(rq, d) vial_new_double(vial_req_arena(rq), (d))
#define vial_string(rq, s) vial_new_str(vial_req_arena(rq), (s))
#define vial_bool(rq, b) vial_new_bool(vial_req_arena(rq), (b))
#define vial_array(rq) vial_new_array(vial_req_arena(rq))
#define vial_object(rq) vial_new_object(vial_req_arena(rq))
/* printf into a request-scoped string. */
#define vial_sprintf(rq, ...) vial_arena_sprintf(vial_req_arena(rq), __VA_ARGS__)

/* Ends the request with an HTTP error (Flask's abort(404)); the error handler answers. Does not return. */
VIAL_NORETURN void vial_abort(vial_req *rq, int code);
#define vial_abort(rq, code) vial_abort_at((rq), (code), __FILE__, __LINE__, __func__, NULL)
/* abort with a description shown on the error page (abort(400, description=...)). */
VIAL_NORETURN void vial_abort_msg(vial_req *rq, int code, const char *fmt, ...) VIAL_PRINTF(3, 4);
#define vial_abort_msg(rq, code, ...) vial_abort_at((rq), (code), __FILE__, __LINE__, __func__, __VA_ARGS__)
/* What vial_abort / vial_abort_msg expand to: records where the abort came from (the debug page shows it). */
VIAL_NORETURN void vial_abort_at(vial_req *rq, int code, const char *file, int line, const char *func, const char *fmt, ...)
    VIAL_PRINTF(6, 7);
/* The description given to vial_abort_msg (for error handlers), or the default one. */
const char *vial_error_description(vial_req *rq);

/* ---- the response ---- */

/* Sets the status code (reason phrase: the standard one). */
void vial_status(vial_res *rs, int code);
/* Sets the status code with a custom reason phrase ("666 Devil"). */
void vial_status_reason(vial_res *rs, int code, const char *reason);
/* The status code so far. */
int vial_res_status(const vial_res *rs);
/* Sets a header, replacing any of that name; -1 if the name or value has CR, LF or NUL. */
int vial_set_header(vial_res *rs, const char *name, const char *value);
/* Adds a header line (keeps existing ones of that name). */
int vial_add_header(vial_res *rs, const char *name, const char *value);
/* A response header set so far, or NULL. */
const char *vial_get_header(const vial_res *rs, const char *name);
/* Removes a header; returns how many lines were removed. */
int vial_remove_header(vial_res *rs, const char *name);
/* Sets the Content-Type. */
int vial_content_type_set(vial_res *rs, const char *mimetype);
/* Replaces the body with text/plain text. */
void vial_text(vial_res *rs, const char *text);
/* Replaces the body with text/html. */
void vial_html(vial_res *rs, const char *html);
/* Appends printf output to the body (text/html unless a type was set, as a returned str in Flask). */
void vial_printf(vial_res *rs, const char *fmt, ...) VIAL_PRINTF(2, 3);
/* Appends bytes to the body. */
void vial_write(vial_res *rs, const void *data, size_t n);
/* Replaces the body with bytes of a MIME type (the tutorial's /img). */
void vial_body(vial_res *rs, const void *data, size_t n, const char *mimetype);
/* The body so far. */
vial_str vial_res_body(const vial_res *rs);
/* Answers with JSON (jsonify): application/json, keys sorted and ASCII as Flask unless configured. */
void vial_jsonify(vial_res *rs, const vial_value *value);
/* Redirects (301, 302, 303, 307, 308) to an absolute URL, a path or a vial_url_for result. */
void vial_redirect(vial_res *rs, const char *location, int code);
/* Streams a body of unknown length: next() returns 1 with a chunk, 0 at the end, -1 to abort. */
void vial_stream(vial_res *rs, int (*next)(void *ctx, vial_str *chunk), void *ctx, const char *mimetype);
/* Asks to close the connection after this response. */
void vial_res_close(vial_res *rs);

/* Options of send_file / send_from_directory (designated initializers). */
typedef struct vial_file_opts {
    const char *mimetype;      /* default: from the file name */
    bool as_attachment;        /* Content-Disposition: attachment */
    const char *download_name; /* default: the file's name */
    long max_age;              /* seconds; 0: SEND_FILE_MAX_AGE_DEFAULT; VIAL_NO_CACHE: no-cache */
    bool no_conditional;       /* ignore If-None-Match / If-Modified-Since / Range */
    bool no_etag;
} vial_file_opts;
#define VIAL_NO_CACHE (-1)

/* send_file: a file (relative to the app root) with its MIME type, ETag, 304s and ranges. */
int vial_send_file_with(vial_res *rs, const char *path, const vial_file_opts *opts);
#define vial_send_file(rs, path, ...) vial_send_file_with((rs), (path), &(vial_file_opts){__VA_ARGS__})
/* send_from_directory: a request-named file inside a folder; anything outside it is 404. */
int vial_send_from_directory_with(vial_res *rs, const char *directory, const char *name, const vial_file_opts *opts);
#define vial_send_from_directory(rs, dir, name, ...) \
    vial_send_from_directory_with((rs), (dir), (name), &(vial_file_opts){__VA_ARGS__})
/* Werkzeug's safe_join, plus symlinks resolved: the path of name inside directory, or NULL. */
const char *vial_safe_join(vial_arena *a, const char *directory, const char *name);
/* Appends an ASCII rendering of UTF-8 text: accents removed (NFKD), other non-ASCII dropped. */
int vial_ascii_fold(vial_buf *out, const char *text);

/* ---- running: the app's own CLI (flask run / flask routes) ---- */

/* The app binary as its own `flask` command: run, routes, config, db, app commands; returns the exit status. */
int vial_main(vial_app *app, int argc, char **argv);
/* Serves the app (what `run` does). */
int vial_run(vial_app *app, const char *host, int port, int workers, bool debug);
/* Registers a CLI command (Flask's @app.cli.command). */
vial_cmd *vial_command(vial_app *app, const char *name, const char *help, vial_command_fn fn);
/* Declares an option of a command: long name ("count"), short letter (0: none), help, default (flags: NULL). */
int vial_command_option(vial_cmd *cmd, const char *long_name, char short_name, const char *help,
                        const char *default_value, bool is_flag);
/* An option's value as given (or its default); NULL when unset. */
const char *vial_cmd_opt(const vial_cmd *cmd, const char *long_name);
/* True when a flag option was given. */
bool vial_cmd_flag(const vial_cmd *cmd, const char *long_name);
/* Number of positional arguments. */
int vial_cmd_argc(const vial_cmd *cmd);
/* The i-th positional argument, or NULL. */
const char *vial_cmd_arg(const vial_cmd *cmd, int i);

/* ---- the test client (app.test_client()) ---- */

typedef struct vial_client vial_client;

/* A file for a multipart upload through the test client. */
typedef struct vial_client_file {
    const char *field, *filename, *content_type;
    const void *data;
    size_t len;
} vial_client_file;

/* Options of a test request (designated initializers): .query, .form, .json, .data... */
typedef struct vial_client_opts {
    const char *query;        /* "a=1&b=2" */
    const char *form;         /* urlencoded body "a=1&b=2" (multipart when files are given) */
    const vial_client_file *files; /* ends with {0} */
    const char *json;         /* JSON text body */
    const void *data;         /* raw body */
    size_t data_len;
    const char *content_type; /* overrides the body's type */
    const char *headers;      /* "Name: value\nName2: value2" */
    bool follow_redirects;
    const char *remote_addr;  /* default 127.0.0.1 */
} vial_client_opts;

/* A response seen by the test client. */
typedef struct vial_response {
    int status;
    const char *reason;
    struct vial_response_header { const char *name, *value; } *headers;
    size_t header_count;
    const char *body; /* NUL-terminated; body_len bytes */
    size_t body_len;
    const char *request_path; /* after redirects */
} vial_response;

/* A client that runs requests through the app in-process, keeping cookies. */
vial_client *vial_test_client(vial_app *app);
/* Releases the client and every response it returned. */
void vial_client_free(vial_client *c);
/* Performs a request: method, path (may hold ?query), options. */
vial_response *vial_client_open(vial_client *c, const char *method, const char *path, const vial_client_opts *opts);
#define vial_client_get(c, path, ...) vial_client_open((c), "GET", (path), &(vial_client_opts){__VA_ARGS__})
#define vial_client_post(c, path, ...) vial_client_open((c), "POST", (path), &(vial_client_opts){__VA_ARGS__})
#define vial_client_put(c, path, ...) vial_client_open((c), "PUT", (path), &(vial_client_opts){__VA_ARGS__})
#define vial_client_delete(c, path, ...) vial_client_open((c), "DELETE", (path), &(vial_client_opts){__VA_ARGS__})
#define vial_client_head(c, path, ...) vial_client_open((c), "HEAD", (path), &(vial_client_opts){__VA_ARGS__})
/* A response header (case-insensitive), or NULL. */
const char *vial_response_header(const vial_response *r, const char *name);
/* The response body parsed as JSON, or NULL. */
vial_value *vial_response_json(vial_client *c, const vial_response *r);
/* A cookie the client holds, or NULL. */
const char *vial_client_cookie(vial_client *c, const char *name);
/* Sets a cookie in the client's jar. */
void vial_client_set_cookie(vial_client *c, const char *name, const char *value);


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

/* What a converter's setup sees for one placeholder, <name(args):var>. */
typedef struct vial_converter_setup {
    const vial_value *args;   /* positional arguments of <name(...):var>, an array (maybe empty) */
    const vial_value *kwargs; /* keyword arguments, an object (maybe empty) */
    vial_arena *arena;        /* lives as long as the router: allocate state here */
    const char *regex;        /* in: the converter's regex; out: this placeholder's regex */
    void *state;              /* in: the converter's userdata; out: handed to to_value/to_url */
    char error[160];          /* out: why setup failed */
} vial_converter_setup;

/* A user converter (Flask's app.url_map.converters["name"] = Class). Every
 * field may be left 0/NULL; the router keeps a copy. */
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
    char message[512];   /* "rule '/a/<int(min=x):n>' at offset 3: ..." */
} vial_route_error;

/* A new router with the built-in converters (string, int, float, path, uuid, any, re). */
vial_router *vial_router_new(void);
/* Releases the router, its rules and compiled tree. */
void vial_router_free(vial_router *r);
/* Werkzeug's Map options (defaults: all true); set them before adding rules (strict and merged slashes apply to rules added after). */
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
    vial_str path;         /* PATH_INFO as sent (after script_root): percent-encoded, no query */
    bool path_decoded;     /* path is already percent-decoded UTF-8 */
    vial_str query;        /* raw query string without '?', kept on redirects */
    vial_str scheme;       /* for absolute redirect Locations: "http"/"https" (empty: "http") */
    vial_str host;         /* Host; empty: Locations are paths ("/foo/?x=1") */
    vial_str script_root;  /* SCRIPT_NAME ("" or "/app"): put in front of redirect Locations */
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
/* Writes the method names of bits sorted and joined by ", " ("GET, HEAD, OPTIONS"); returns the length needed, as snprintf. */
size_t vial_methods_format(char *out, size_t size, unsigned bits);

/* ==== end section: routing ==== */

/* ==== section: forms and cookies (src/app/forms) ==== */

/* Parsers and formatters that match Werkzeug 2.2 byte for byte: query
 * strings, urlencoded and multipart bodies, Cookie headers, Set-Cookie lines,
 * Content-Type parameters and secure_filename. They need no request: the
 * request layer calls them with its arena and body reader. */

#ifndef VIAL_HAVE_STRS
#define VIAL_HAVE_STRS
/* A list of C strings (e.g. request.args.getlist); memory is the arena's. */
typedef struct vial_strs {
    const char **items;
    size_t len;
} vial_strs;
#endif

/* One key/value pair of a vial_multidict; both are NUL-terminated at len. */
typedef struct vial_pair {
    vial_str key;
    vial_str value;
} vial_pair;

/* Werkzeug's MultiDict: ordered pairs, several values per key. Iterate
 * items[0..len) for wire order. Everything lives in the arena it was
 * initialized with; the fields after len are private. */
typedef struct vial_multidict {
    vial_pair *items;
    size_t len;
    size_t cap;
    vial_arena *arena;
    bool nocase;        /* keys compared ASCII case-insensitively (headers) */
    uint32_t *next;     /* per pair: index + 1 of the next pair with the same key */
    uint32_t *slots;    /* hash index, per key: index + 1 of its first pair */
    uint32_t *last;     /* per slot: index + 1 of that key's last pair */
    size_t slot_count;  /* 0 until the dictionary is large enough to index */
} vial_multidict;

/* Starts an empty dictionary in arena a; nocase for header-style keys. */
void vial_multidict_init(vial_multidict *md, vial_arena *a, bool nocase);
/* Appends a pair, copying key and value into the arena; -1 when out of memory. */
int vial_multidict_add(vial_multidict *md, const char *key, size_t key_len, const char *value, size_t value_len);
/* Appends a pair without copying (both must be NUL-terminated at len and outlive md). */
int vial_multidict_add_ref(vial_multidict *md, const char *key, size_t key_len, const char *value, size_t value_len);
/* The first pair whose key is key[0..key_len), or NULL. */
const vial_pair *vial_multidict_find(const vial_multidict *md, const char *key, size_t key_len);
/* The first value for key (MultiDict.get), or NULL when absent. */
const char *vial_multidict_get(const vial_multidict *md, const char *key);
/* Every value for key in order (MultiDict.getlist); len 0 when absent. */
vial_strs vial_multidict_getlist(const vial_multidict *md, const char *key);
/* Like vial_multidict_getlist for a key of key_len bytes (which may hold NULs). */
vial_strs vial_multidict_getlistn(const vial_multidict *md, const char *key, size_t key_len);
/* How many values key has. */
size_t vial_multidict_count(const vial_multidict *md, const char *key);
/* Distinct keys in first-seen order (MultiDict.keys()). */
vial_strs vial_multidict_keys(const vial_multidict *md);
/* All pairs grouped by key, keys in first-seen order (items(multi=True)); len is md->len. */
const vial_pair *vial_multidict_items_multi(const vial_multidict *md);
/* Replaces every value of key by one (MultiDict[key] = value), keeping the key's place. */
int vial_multidict_set(vial_multidict *md, const char *key, const char *value);
/* Removes every pair with key; returns how many were removed. */
size_t vial_multidict_remove(vial_multidict *md, const char *key);

/* Why a parser or formatter failed: the status the app should answer
 * (400 malformed, 413 over a limit, 500 server-side trouble) and a message
 * naming the problem. */
typedef struct vial_form_error {
    int status;
    char message[320];
} vial_form_error;

/* Bounds for form parsing. A zero field takes the default shown. */
typedef struct vial_form_limits {
    size_t max_fields;       /* urlencoded pairs / multipart parts: 1000 (Werkzeug's max_form_parts) -> 413 */
    size_t max_bytes;        /* urlencoded body bytes: 500000 (Flask 3.1's MAX_FORM_MEMORY_SIZE) -> 413 */
    size_t max_field_bytes;  /* one multipart non-file field: 500000 -> 413 */
    size_t max_memory;       /* multipart headers, fields and in-memory files together: 16 MiB -> 413
                                (files go to disk rather than pass it) */
    size_t max_header_bytes; /* one multipart part's header block: 16384 -> 413 */
    size_t file_threshold;   /* file parts larger than this go to a temp file: 512000 (Werkzeug's 500 KiB) */
    const char *tmp_dir;     /* directory for those temp files: NULL = $TMPDIR, else /tmp */
} vial_form_limits;

/* Pulls body bytes: up to n into dst; returns the count, 0 at the end, -1 on error. */
typedef ssize_t (*vial_read_fn)(void *ctx, char *dst, size_t n);

/* Parses a query string as request.args does (separator '&', '+', %XX, UTF-8
 * errors='replace'); appends to out (initialize it first). -1 when out of memory. */
int vial_parse_query(vial_arena *a, const char *qs, size_t n, vial_multidict *out);
/* Parses an application/x-www-form-urlencoded body like request.form; lim may be NULL. */
int vial_parse_urlencoded(vial_arena *a, const char *body, size_t n, const vial_form_limits *lim, vial_multidict *out,
                          vial_form_error *err);
/* Same, pulling the body from read(ctx) (at most lim->max_bytes are read). */
int vial_parse_urlencoded_stream(vial_arena *a, vial_read_fn read, void *ctx, const vial_form_limits *lim,
                                 vial_multidict *out, vial_form_error *err);
/* Percent-decodes s (invalid escapes kept, '+' as space when plus) to raw bytes, NUL-terminated. */
char *vial_url_unquote(vial_arena *a, const char *s, size_t n, bool plus, size_t *len_out);
/* Werkzeug's iri_to_uri: IDNA host, UTF-8 percent-encoded path/query/fragment.
 * safe_conversion returns ASCII input without whitespace unchanged. NULL + err on failure. */
char *vial_iri_to_uri(vial_arena *a, const char *iri, size_t n, bool safe_conversion, vial_form_error *err);

/* One parameter of a Content-Type-like header. */
typedef struct vial_header_param {
    const char *name;  /* lowercased (ASCII) */
    const char *value; /* unquoted, RFC 2231 decoded, UTF-8; NULL for a bare name without '=' */
} vial_header_param;

/* Werkzeug's parse_options_header result: "text/html; charset=utf-8". */
typedef struct vial_options_header {
    const char *value;         /* "text/html" as written; "" when the header is empty or unparsable */
    vial_header_param *params; /* in first-seen order; a repeated name keeps its place, the later value wins */
    size_t param_count;
} vial_options_header;

#define VIAL_OPTIONS_LATIN1 0x01 /* the header bytes are latin-1 (a WSGI request header), not UTF-8 */
/* Parses a Content-Type / Content-Disposition value; -1 with err when an RFC 2231 value cannot be decoded. */
int vial_parse_options_header(vial_arena *a, const char *s, size_t n, int flags, vial_options_header *out,
                              vial_form_error *err);
/* The value of parameter name (lowercase), or NULL when absent or bare. */
const char *vial_options_get(const vial_options_header *h, const char *name);

/* An uploaded file (Werkzeug's FileStorage). Small files are in memory,
 * larger ones in a temp file (closed once written, so a form with many
 * files holds no descriptors) that is removed when the arena is reset or
 * freed. */
typedef struct vial_file {
    const char *field;        /* the form field name */
    const char *filename;     /* as sent, not sanitized ("" for an empty file input) */
    const char *content_type; /* the part's Content-Type header, NULL when absent */
    const char *mimetype;     /* content_type's media type, lowercased; "" when absent */
    vial_multidict headers;   /* the part's headers (case-insensitive) */
    size_t size;              /* bytes */
    const char *data;         /* in memory: the bytes (NUL-terminated); NULL when on disk */
    const char *path;         /* on disk: the temp file (mode 0600); NULL when in memory */
} vial_file;

/* The files of a request (request.files): every part with a filename, in order. */
typedef struct vial_files {
    vial_file **items;
    size_t len;
} vial_files;

/* The first file of field (request.files.get), or NULL. */
vial_file *vial_files_get(const vial_files *files, const char *field);
/* Every file of field, in order, allocated in arena a. */
vial_files vial_files_getlist(const vial_files *files, const char *field, vial_arena *a);
/* Writes the file's bytes to path (FileStorage.save): created or truncated, mode 0666 & ~umask. */
int vial_file_save(const vial_file *file, const char *path);
/* The file's bytes in memory (read from disk into arena a when needed); NULL on error. */
const char *vial_file_bytes(const vial_file *file, vial_arena *a);

/* Parses a multipart/form-data body pulled from read(ctx) with the given
 * boundary: fields appended to form (initialized), file parts to files
 * (zeroed or from an earlier call). The body is read to its end. A broken
 * body returns -1 with err (400; 413 over a limit; 500 when no temp file
 * can be written), may leave the rest of the body unread, and leaves form
 * and files EMPTY as Werkzeug does (it answers with an empty form where we
 * report the error). */
int vial_parse_multipart(vial_arena *a, const char *boundary, size_t boundary_len, vial_read_fn read, void *ctx,
                         const vial_form_limits *lim, vial_multidict *form, vial_files *files, vial_form_error *err);
/* Werkzeug's form parser: picks urlencoded or multipart from the Content-Type
 * header's raw bytes (NULL/empty allowed; the media type compared without
 * case). Returns 1 without reading when the body is not a form, 0 when
 * parsed, -1 with err (form and files left empty). */
int vial_parse_form(vial_arena *a, const char *content_type, size_t ct_len, vial_read_fn read, void *ctx,
                    const vial_form_limits *lim, vial_multidict *form, vial_files *files, vial_form_error *err);

/* Parses a Cookie header as Werkzeug does (';' only, quoted values, octal
 * escapes, UTF-8 errors='replace', duplicates kept); appends to out. */
int vial_parse_cookie(vial_arena *a, const char *header, size_t n, vial_multidict *out);

/* Options for vial_dump_cookie; zero means Werkzeug's default for each. */
typedef struct vial_cookie_opts {
    int64_t max_age;          /* seconds, when has_max_age (Max-Age, and Expires = now + max_age) */
    bool has_max_age;
    int64_t expires;          /* Unix time, when has_expires */
    bool has_expires;
    const char *expires_str;  /* an Expires value used verbatim (wins over expires) */
    const char *path;         /* NULL: "/" */
    bool no_path;             /* no Path attribute at all (Werkzeug's path=None) */
    const char *domain;       /* NULL: none; port stripped, IDNA-encoded, needs a dot */
    bool secure;
    bool httponly;
    bool partitioned;         /* appends "; Partitioned" and implies Secure (Werkzeug 3.1) */
    const char *samesite;     /* NULL: none; "Strict", "Lax" or "None", any case */
    int64_t now;              /* the clock for max_age (0: the current time); for tests */
    size_t max_size;          /* warn (log) above this many bytes: 0 = 4093, SIZE_MAX = never */
} vial_cookie_opts;

#define VIAL_COOKIE_MAX_AGE(seconds) .max_age = (seconds), .has_max_age = true
#define VIAL_COOKIE_EXPIRES(unix_time) .expires = (unix_time), .has_expires = true

/* The Set-Cookie value Werkzeug's dump_cookie / Response.set_cookie makes,
 * or NULL with err (bad domain or samesite, CR/LF in the key, expiry out of range). */
char *vial_dump_cookie(vial_arena *a, const char *key, const char *value, size_t value_len,
                       const vial_cookie_opts *opts, size_t *len_out, vial_form_error *err);
/* The Set-Cookie value of Response.delete_cookie (expired, Max-Age=0). */
char *vial_dump_delete_cookie(vial_arena *a, const char *key, const vial_cookie_opts *opts, size_t *len_out,
                              vial_form_error *err);

#define VIAL_SECURE_FILENAME_WINDOWS 0x01 /* also as on Windows: '\\' separates, CON/NUL/... get a '_' */
/* Werkzeug's secure_filename: NFKD to ASCII, spaces to '_', only [A-Za-z0-9_.-], no leading/trailing '.' or '_'. */
char *vial_secure_filename_in(vial_arena *a, const char *filename, size_t n, int flags);

/* Python's bytes.decode(charset, "replace") for utf-8, ascii, latin-1 and
 * cp1252 (and their aliases); appends UTF-8 to out. -1 for another charset. */
int vial_decode_charset(vial_buf *out, const char *charset, const char *s, size_t n);

/* ---- the request's forms and cookies (request.args, form, files, cookies) ---- */

/* request.args: the query string, parsed once. */
const vial_multidict *vial_args(vial_req *rq);
/* request.args.get(key): the first value, or NULL. */
const char *vial_arg(vial_req *rq, const char *key);
/* request.args.getlist(key). */
vial_strs vial_arg_list(vial_req *rq, const char *key);
/* request.form: urlencoded or multipart fields (413 over the limits, 400 for a broken body). */
const vial_multidict *vial_form_all(vial_req *rq);
/* request.form.get(key), or NULL. */
const char *vial_form(vial_req *rq, const char *key);
/* request.form.getlist(key). */
vial_strs vial_form_list(vial_req *rq, const char *key);
/* request.files: every uploaded file. */
const vial_files *vial_files_all(vial_req *rq);
/* request.files.get(field), or NULL. */
vial_file *vial_file_get(vial_req *rq, const char *field);
/* request.files.getlist(field). */
vial_files vial_file_list(vial_req *rq, const char *field);
/* werkzeug.utils.secure_filename, in the request's arena ("" when nothing is left). */
const char *vial_secure_filename(vial_req *rq, const char *filename);
/* request.cookies. */
const vial_multidict *vial_cookies(vial_req *rq);
/* request.cookies.get(name), or NULL. */
const char *vial_cookie(vial_req *rq, const char *name);

#define VIAL_UNSET_TIME INT64_MIN
#if defined(__GNUC__)
#define VIAL__OVERRIDES_BEGIN                                                                                  \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wpragmas\"")                          \
        _Pragma("GCC diagnostic ignored \"-Woverride-init\"")                                                \
            _Pragma("GCC diagnostic ignored \"-Winitializer-overrides\"")
#define VIAL__OVERRIDES_END _Pragma("GCC diagnostic pop")
#else
#define VIAL__OVERRIDES_BEGIN
#define VIAL__OVERRIDES_END
#endif
/* response.set_cookie(name, value, max_age=..., httponly=...): options as designated initializers,
 * e.g. vial_set_cookie(rs, "username", "xiaoming", .max_age = 3600, .httponly = true). */
#define vial_set_cookie(rs, name, value, ...)                                                                    \
    (__extension__({                                                                                           \
        VIAL__OVERRIDES_BEGIN int vial__rc = vial_set_cookie_with(                                             \
            (rs), (name), (value),                                                                             \
            &(vial_cookie_opts){.max_age = VIAL_UNSET_TIME, .expires = VIAL_UNSET_TIME, __VA_ARGS__});         \
        VIAL__OVERRIDES_END vial__rc;                                                                          \
    }))
/* response.delete_cookie(name, path=..., domain=...). */
#define vial_delete_cookie(rs, name, ...)                                                                        \
    (__extension__({                                                                                           \
        VIAL__OVERRIDES_BEGIN int vial__rc = vial_delete_cookie_with(                                          \
            (rs), (name), &(vial_cookie_opts){.max_age = VIAL_UNSET_TIME, .expires = VIAL_UNSET_TIME, __VA_ARGS__}); \
        VIAL__OVERRIDES_END vial__rc;                                                                          \
    }))
/* set_cookie with an options struct (max_age/expires VIAL_UNSET_TIME, or has_max_age/has_expires). */
int vial_set_cookie_with(vial_res *rs, const char *name, const char *value, const vial_cookie_opts *opts);
/* delete_cookie with an options struct. */
int vial_delete_cookie_with(vial_res *rs, const char *name, const vial_cookie_opts *opts);

/* ==== end section: forms and cookies ==== */

/* ==== section: session, signing and passwords (src/session) ==== */

/* Constant-time comparison (hmac.compare_digest): true when both hold the
 * same bytes; the time taken depends only on the lengths. */
bool vial_compare_digest(const void *a, size_t a_len, const void *b, size_t b_len);

/* ---- Signing, as itsdangerous does it ----
 *
 * Tokens for password-reset links and the like:
 *
 *   char *t = vial_sign(a, secret, "reset", vial_pack_in(a, "{s:i}", "uid", 42));
 *   vial_value *v = vial_unsign(a, secret, "reset", t, 3600, &status);   // NULL when bad or older than 1 h
 *
 * vial_sign is URLSafeTimedSerializer(secret, salt).dumps(value): a Python app
 * with the same secret and salt reads our tokens and we read its. */

/* Why a token or cookie was not accepted (itsdangerous' exceptions). */
typedef enum vial_sign_status {
    VIAL_SIGN_OK = 0,
    VIAL_SIGN_NO_KEY,         /* no secret key (sessions: Flask's "no secret key was set") */
    VIAL_SIGN_BAD_SIGNATURE,  /* no signature, or not made by any of the keys (BadSignature) */
    VIAL_SIGN_BAD_TIMESTAMP,  /* signed, but the timestamp is missing or malformed (BadTimeSignature) */
    VIAL_SIGN_EXPIRED,        /* signed, but older than max_age or from the future (SignatureExpired) */
    VIAL_SIGN_BAD_PAYLOAD,    /* signed, but the payload does not decode (BadPayload) */
    VIAL_SIGN_TOO_LARGE,      /* the decoded payload is over VIAL_SIGN_MAX_PAYLOAD */
    VIAL_SIGN_UNSERIALIZABLE, /* encoding: a value the format cannot carry (TypeError in Python) */
    VIAL_SIGN_BAD_CONFIG,     /* unknown digest or key derivation, separator in the base64 alphabet */
    VIAL_SIGN_NO_MEMORY,
} vial_sign_status;

/* A decompressed payload larger than this is refused (zlib bombs). */
#define VIAL_SIGN_MAX_PAYLOAD (1024 * 1024)

/* A one-line English description of a status ("signature does not match"). */
const char *vial_sign_strerror(vial_sign_status status);

/* How the signing key is derived from a secret key and the salt. */
enum {
    VIAL_KEY_DERIVATION_DJANGO_CONCAT = 0, /* digest(salt + "signer" + secret): itsdangerous' default */
    VIAL_KEY_DERIVATION_CONCAT,            /* digest(salt + secret) */
    VIAL_KEY_DERIVATION_HMAC,              /* HMAC(secret, salt): what Flask's session uses */
    VIAL_KEY_DERIVATION_NONE,              /* the secret itself */
};

/* Settings of an itsdangerous Signer / Serializer; zero means the default. */
typedef struct vial_signer {
    const vial_str *keys;  /* keys[0] signs; every key verifies (SECRET_KEY, then SECRET_KEY_FALLBACKS).
                              Note: itsdangerous lists keys oldest first; this is newest first. */
    size_t nkeys;
    vial_str salt;         /* .ptr NULL: "itsdangerous" for serializers, "itsdangerous.Signer" for signers */
    char sep;              /* 0: '.'; never a base64 character */
    int key_derivation;    /* VIAL_KEY_DERIVATION_*; default django-concat */
    const char *digest;    /* hashlib name; NULL: "sha1" */
} vial_signer;

/* Signer.sign: value + sep + signature, in *token (arena memory). */
vial_sign_status vial_signer_sign(vial_arena *a, const vial_signer *s, const void *value, size_t len, vial_str *token);
/* TimestampSigner.sign at time now (seconds since the epoch). */
vial_sign_status vial_signer_sign_timed(vial_arena *a, const vial_signer *s, const void *value, size_t len,
                                        int64_t now, vial_str *token);
/* Signer.unsign: on success *value points at the signed bytes inside token. */
vial_sign_status vial_signer_unsign(const vial_signer *s, const char *token, size_t len, vial_str *value);
/* TimestampSigner.unsign(max_age) at time now (max_age < 0: no limit); *signed_at may be NULL. */
vial_sign_status vial_signer_unsign_timed(const vial_signer *s, const char *token, size_t len, int64_t max_age,
                                          int64_t now, vial_str *value, int64_t *signed_at);

/* URLSafeTimedSerializer.dumps: value as compact JSON (insertion order, UTF-8
 * as is), zlib-compressed when shorter, signed with a timestamp. Tuples are
 * written as arrays; bytes, UUIDs and datetimes are VIAL_SIGN_UNSERIALIZABLE. */
vial_sign_status vial_serializer_dumps(vial_arena *a, const vial_signer *s, const vial_value *value, int64_t now,
                                       vial_str *token);
/* URLSafeTimedSerializer.loads(token, max_age) at time now; *signed_at may be NULL. */
vial_sign_status vial_serializer_loads(vial_arena *a, const vial_signer *s, const char *token, size_t len,
                                       int64_t max_age, int64_t now, vial_value **value, int64_t *signed_at);
/* URLSafeTimedSerializer(secret, salt).dumps(value) now; NULL when secret is empty or value unserializable. */
char *vial_sign(vial_arena *a, const char *secret, const char *salt, const vial_value *value);
/* URLSafeTimedSerializer(secret, salt).loads(token, max_age) now; NULL with *status (may be NULL) on failure. */
vial_value *vial_unsign(vial_arena *a, const char *secret, const char *salt, const char *token, int64_t max_age,
                        vial_sign_status *status);

/* ---- Flask's tagged JSON: Python types inside vial_value ----
 *
 * Session values may hold what Flask's TaggedJSONSerializer carries: a value's
 * tag field says which Python type it stands for, so a cookie written by Flask
 * reads back and is written again unchanged. Markup is a string with
 * VIAL_FLAG_SAFE. */
#define VIAL_TAG_TUPLE 0x0501    /* array: Python tuple, written {" t": [...]} */
#define VIAL_TAG_BYTES 0x0502    /* string of raw bytes: Python bytes, {" b": base64} */
#define VIAL_TAG_UUID 0x0503     /* string "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx": uuid.UUID, {" u": hex} */
#define VIAL_TAG_DATETIME 0x0504 /* int, seconds since the epoch (UTC): datetime, {" d": HTTP date} */
#define VIAL_TAG_DATE 0x0505     /* int, seconds since the epoch: datetime.date, written as an untagged
                                    HTTP date string at midnight (Flask reads it back as a string) */
#define VIAL_TAG_BIGINT 0x0506   /* string of decimal digits: a Python int beyond int64 */

/* An empty tuple. */
vial_value *vial_new_tuple(vial_arena *a);
/* A bytes value (n raw bytes, copied). */
vial_value *vial_new_bytes(vial_arena *a, const void *bytes, size_t n);
/* A UUID from its 32-hex or dashed text (any case); NULL when text is not one. */
vial_value *vial_new_uuid(vial_arena *a, const char *text);
/* A datetime at t seconds since the epoch (UTC). */
vial_value *vial_new_datetime(vial_arena *a, int64_t t);
/* TaggedJSONSerializer.dumps: compact, keys sorted, ASCII only; NULL with err on a value it cannot carry. */
char *vial_tagged_json_dumps(vial_arena *a, const vial_value *v, size_t *len, vial_json_error *err);
/* TaggedJSONSerializer.loads: Python's json dialect, tags turned back into tagged values. */
vial_value *vial_tagged_json_loads(vial_arena *a, const char *text, size_t len, vial_json_error *err);

/* ---- Flask session cookies ----
 *
 * The value of Flask's "session" cookie: URLSafeTimedSerializer with salt
 * "cookie-session", HMAC-SHA1 key derivation and tagged JSON. keys[0] is
 * SECRET_KEY (signs), the rest SECRET_KEY_FALLBACKS (still read). */
#define VIAL_SESSION_SALT "cookie-session"
#define VIAL_SESSION_LIFETIME_DEFAULT 2678400 /* PERMANENT_SESSION_LIFETIME: 31 days */
#define VIAL_SESSION_NO_SECRET_KEY_MESSAGE                                                                      \
    "The session is unavailable because no secret key was set. Set the secret_key on the application to "      \
    "something unique and secret."
/* The cookie value for session (an object) signed with keys[0] at time now. */
vial_sign_status vial_session_cookie_encode(vial_arena *a, const vial_str *keys, size_t nkeys,
                                            const vial_value *session, int64_t now, vial_str *cookie);
/* The session object a cookie holds, read at time now with max_age (Flask passes
 * PERMANENT_SESSION_LIFETIME). Always an object: empty unless *status (may be
 * NULL) is VIAL_SIGN_OK, never partial. NULL only when out of memory. */
vial_value *vial_session_cookie_decode(vial_arena *a, const vial_str *keys, size_t nkeys, const char *cookie,
                                       size_t len, int64_t now, int64_t max_age, vial_sign_status *status);

/* ---- Passwords, as Werkzeug stores them ----
 *
 * "method$salt$hash": scrypt:N:r:p (Werkzeug >= 3.0), pbkdf2:<digest>:<iterations>
 * (all versions), and on reading also Werkzeug 2.2's legacy forms (plain,
 * salted HMAC, unsalted digest). */
#define VIAL_PASSWORD_DEFAULT_METHOD "scrypt:32768:8:1" /* current Werkzeug's default */
#define VIAL_PASSWORD_SALT_LENGTH 16
#define VIAL_PBKDF2_DEFAULT_ITERATIONS 1000000  /* generating "pbkdf2:<digest>" (Werkzeug 3.1) */
#define VIAL_PBKDF2_LEGACY_ITERATIONS 260000    /* checking "pbkdf2:<digest>$..." without a count (Werkzeug 2.2) */
#define VIAL_PBKDF2_MAX_ITERATIONS 100000000    /* more is refused rather than run for minutes */
#define VIAL_SCRYPT_MAX_MEMORY (256u << 20)     /* scrypt parameters needing more memory are refused */

/* What went wrong, for functions that can fail. */
typedef struct vial_password_error {
    char message[160];
} vial_password_error;

/* Options of vial_generate_password_hash_ex; zero means the default. */
typedef struct vial_password_options {
    const char *method;         /* NULL: VIAL_PASSWORD_DEFAULT_METHOD */
    int salt_length;            /* 0: VIAL_PASSWORD_SALT_LENGTH */
    const char *salt;           /* NULL: random from the OS (tests pass a fixed one) */
    unsigned pbkdf2_iterations; /* count for a method "pbkdf2:<digest>"; 0: VIAL_PBKDF2_DEFAULT_ITERATIONS */
} vial_password_options;

/* generate_password_hash(password, method) (method NULL: the default); NULL on a bad method (logged). */
char *vial_generate_password_hash(vial_arena *a, const char *password, const char *method);
/* generate_password_hash with every option; NULL with err filled on failure. */
char *vial_generate_password_hash_ex(vial_arena *a, const char *password, size_t password_len,
                                     const vial_password_options *opts, vial_password_error *err);
/* check_password_hash(pwhash, password): false on mismatch or a malformed hash (logged). */
bool vial_check_password_hash(const char *pwhash, const char *password);
/* check_password_hash: 1 match, 0 mismatch, -1 where Werkzeug raises (err filled). */
int vial_check_password_hash_ex(const char *pwhash, size_t pwhash_len, const char *password, size_t password_len,
                                vial_password_error *err);

/* ---- The session of a request (flask.session) ----
 *
 *   vial_session_set(rq, "user_id", vial_int(rq, 31));        session["user_id"] = 31
 *   vial_value *v = vial_session_get(rq, "user_id");           session.get("user_id")  (NULL: absent)
 *   vial_session_pop(rq, "user_id");                           session.pop("user_id", None)
 *   vial_session_clear(rq);                                    session.clear()
 *   vial_session_permanent(rq, true);                          session.permanent = True
 *
 * The session is opened on first use (a request that never touches it parses
 * no cookie) and saved when the response is finished, as Flask's
 * SecureCookieSessionInterface: the cookie is written only when the session
 * was modified, or on every request for a permanent session while
 * SESSION_REFRESH_EACH_REQUEST is true; an emptied session deletes the
 * cookie; "Vary: Cookie" is added when the session was accessed. Settings:
 * SECRET_KEY, SECRET_KEY_FALLBACKS, SESSION_COOKIE_NAME/_DOMAIN/_PATH/
 * _HTTPONLY/_SECURE/_SAMESITE/_PARTITIONED, PERMANENT_SESSION_LIFETIME,
 * SESSION_REFRESH_EACH_REQUEST. SESSION_TYPE "redis" keeps the data in Redis
 * (SESSION_REDIS_URL, SESSION_KEY_PREFIX, SESSION_REDIS_TIMEOUT, SESSION_PERMANENT)
 * with only a signed id in the cookie; Redis down → 503. With no SECRET_KEY the
 * session reads as empty and writing it is a 500 with Flask's message. Values
 * are stored by reference: a value changed in place after vial_session_set
 * needs vial_session_modified (Flask's session.modified = True). */

/* session.get(key): the value, or NULL when absent. */
vial_value *vial_session_get(vial_req *rq, const char *key);
/* session.get(key) as a C string, or NULL when absent or not a string. */
const char *vial_session_get_str(vial_req *rq, const char *key);
/* session.get(key) as an integer, or fallback. */
int64_t vial_session_get_int(vial_req *rq, const char *key, int64_t fallback);
/* key in session. */
bool vial_session_contains(vial_req *rq, const char *key);
/* session[key] = value (NULL stores None). */
void vial_session_set(vial_req *rq, const char *key, vial_value *value);
/* session[key] = "text". */
void vial_session_set_str(vial_req *rq, const char *key, const char *text);
/* session[key] = integer. */
void vial_session_set_int(vial_req *rq, const char *key, int64_t value);
/* session.pop(key, None): the removed value, or NULL. */
vial_value *vial_session_pop(vial_req *rq, const char *key);
/* session.clear(). */
void vial_session_clear(vial_req *rq);
/* The whole session dict (read it; change it through the functions above). */
const vial_value *vial_session(vial_req *rq);
/* session.permanent = permanent (stored as "_permanent", as Flask). */
void vial_session_permanent(vial_req *rq, bool permanent);
/* session.permanent. */
bool vial_session_is_permanent(vial_req *rq);
/* session.modified = True: save it even though only a nested value changed. */
void vial_session_modified(vial_req *rq);

/* ---- Flash messages (flask.flash / get_flashed_messages) ----
 *
 * Stored in the session under "_flashes" as Flask does (a list of
 * (category, message) tuples), so a Flask app sharing the cookie shows them. */

/* flash(message, category): category NULL means "message". */
void vial_flash(vial_req *rq, const char *message, const char *category);

/* Options of get_flashed_messages (designated initializers). */
typedef struct vial_flash_opts {
    bool with_categories;             /* items are (category, message) tuples instead of messages */
    const char *const *category_filter; /* NULL-terminated list; NULL: every category */
} vial_flash_opts;
/* get_flashed_messages(...): an array (strings, or tuples with with_categories); the first call of a
 * request removes them from the session, later calls in the same request see the same list. */
vial_value *vial_get_flashed_messages_with(vial_req *rq, const vial_flash_opts *opts);
#define vial_get_flashed_messages(rq, ...) vial_get_flashed_messages_with((rq), &(vial_flash_opts){__VA_ARGS__})

/* ---- CSRF protection (Flask-WTF's CSRFProtect) ----
 *
 * vial_csrf_protect(app) checks every POST, PUT, PATCH and DELETE
 * (WTF_CSRF_METHODS) before the view: the token comes from the form field
 * "csrf_token" (WTF_CSRF_FIELD_NAME, also "<prefix>-csrf_token") or the
 * X-CSRFToken / X-CSRF-Token header (WTF_CSRF_HEADERS). A bad or missing
 * token answers 400 with Flask-WTF's reason ("The CSRF token is missing.").
 * Tokens are Flask-WTF's: URLSafeTimedSerializer(WTF_CSRF_SECRET_KEY or
 * SECRET_KEY, salt "wtf-csrf-token") over a random value kept in the session
 * as "csrf_token", valid WTF_CSRF_TIME_LIMIT seconds. WTF_CSRF_ENABLED false
 * turns the check off; WTF_CSRF_CHECK_DEFAULT false leaves it to views
 * (vial_csrf_check); over https WTF_CSRF_SSL_STRICT also checks the Referer. */

/* CSRFProtect(app). */
int vial_csrf_protect(vial_app *app);
/* @csrf.exempt for a view: its endpoint ("login", "api.upload"). */
int vial_csrf_exempt(vial_app *app, const char *endpoint);
/* csrf.exempt(blueprint). */
int vial_csrf_exempt_blueprint(vial_bp *bp);
/* generate_csrf(): the token for forms and headers (the same one for the whole request). */
const char *vial_csrf_token(vial_req *rq);
/* validate_csrf(token): NULL when valid, else Flask-WTF's reason. */
const char *vial_csrf_validate(vial_req *rq, const char *token);
/* csrf.protect(): checks this request now (400 with the reason on failure). */
void vial_csrf_check(vial_req *rq);

/* ---- Login (Flask-Login's core) ----
 *
 *   static vial_value *load_user(vial_req *rq, const char *user_id) { ...row or NULL... }
 *   vial_login_manager(app, .user_loader = load_user, .login_view = "login");
 *   vial_login_user(rq, "42", .remember = true);    login_user(user, remember=True)
 *   vial_current_user(rq)                           current_user (NULL: anonymous)
 *   vial_login_required_view(app, "profile");       @login_required
 *
 * The session keys are Flask-Login's ("_user_id", "_fresh", "_id", "_remember"),
 * the remember-me cookie is Flask-Login's ("<id>|<hmac-sha512 hex>", signed with
 * SECRET_KEY; REMEMBER_COOKIE_NAME/_DURATION/_DOMAIN/_PATH/_SECURE/_HTTPONLY/
 * _SAMESITE/_REFRESH_EACH_REQUEST), so a Flask app sharing the secret key
 * sees the same user logged in. */

/* Loads a user from its id: a value (a database row...) or NULL when there is no such user. */
typedef vial_value *(*vial_user_loader)(vial_req *rq, const char *user_id);
/* Loads a user held in a C struct, or NULL. */
typedef void *(*vial_user_loader_ptr)(vial_req *rq, const char *user_id);

/* LoginManager settings; zero means Flask-Login's default. */
typedef struct vial_login_options {
    vial_user_loader user_loader;         /* @login_manager.user_loader (values) */
    vial_user_loader_ptr user_loader_ptr; /* or for C structs */
    const char *login_view;               /* endpoint ("auth.login") or URL; NULL: unauthorized is 401 */
    const char *login_message;            /* NULL: "Please log in to access this page."; "": none */
    const char *login_message_category;   /* NULL: "message" */
    const char *session_protection;       /* NULL: "basic"; "strong"; "none" */
} vial_login_options;

/* LoginManager(app) with options. */
int vial_login_manager_with(vial_app *app, const vial_login_options *opts);
#define vial_login_manager(app, ...) vial_login_manager_with((app), &(vial_login_options){__VA_ARGS__})
/* login_manager.blueprint_login_views[bp] = endpoint. */
int vial_login_view_for_blueprint(vial_bp *bp, const char *login_view);

/* Options of login_user. */
typedef struct vial_login_user_opts {
    bool remember;            /* set the remember-me cookie */
    int64_t duration;         /* remember cookie lifetime in seconds; 0: REMEMBER_COOKIE_DURATION */
    bool not_fresh;           /* fresh=False */
    bool force;               /* log in even a user whose "is_active" is false */
    vial_value *user;         /* the user, when already loaded (else the loader runs when needed) */
    void *user_ptr;
} vial_login_user_opts;
/* login_user(user): user_id is the user's get_id(); false when the user is inactive or unknown. */
bool vial_login_user_with(vial_req *rq, const char *user_id, const vial_login_user_opts *opts);
#define vial_login_user(rq, user_id, ...) vial_login_user_with((rq), (user_id), &(vial_login_user_opts){__VA_ARGS__})
/* logout_user(). */
void vial_logout_user(vial_req *rq);
/* current_user: the loaded user value, NULL when anonymous. */
vial_value *vial_current_user(vial_req *rq);
/* current_user for C-struct users (vial_user_loader_ptr), NULL when anonymous. */
void *vial_current_user_ptr(vial_req *rq);
/* current_user.get_id(), NULL when anonymous. */
const char *vial_current_user_id(vial_req *rq);
/* current_user.is_authenticated. */
bool vial_is_authenticated(vial_req *rq);
/* login_fresh(): logged in by the form in this session, not from the remember cookie. */
bool vial_login_fresh(vial_req *rq);
/* @login_required as a guard: a before_request hook (vial_bp_before_request(bp, vial_login_required)),
 * or first line of a view (if (vial_login_required(rq, rs)) return;). True when it answered:
 * a redirect to the login view with ?next=, or 401 without one. */
bool vial_login_required(vial_req *rq, vial_res *rs);
/* Marks endpoints login-required: "profile", "admin.users", or "admin.*" for a whole blueprint. */
int vial_login_required_view(vial_app *app, const char *endpoint);
/* The ?next= target when it stays on this site (a path, or an http(s) URL to this host), else NULL.
 * Refuses other hosts, scheme-relative "//evil", "/\\evil", other schemes and control characters. */
const char *vial_safe_next(vial_req *rq);
/* vial_safe_next for any URL text. */
bool vial_is_safe_redirect(vial_req *rq, const char *target);

/* ---- Passwords in a request ---- */

/* generate_password_hash(password) in the request's arena (VIAL_PASSWORD_DEFAULT_METHOD). */
char *vial_generate_password(vial_req *rq, const char *password);
/* check_password_hash(hash, password). */
bool vial_check_password(const char *pwhash, const char *password);

/* ==== end section: session ==== */

/* ==== section: templates (src/template) ==== */

/* Jinja2's language, compiled once per environment and rendered into a
 * vial_buf from the caller's arena. An environment is not thread-safe: use one
 * per worker (the server's workers are processes, each with its own copy). */
typedef struct vial_tpl_env vial_tpl_env;

enum {
    VIAL_TPL_AUTOESCAPE_OFF,    /* never escape (Jinja2's default) */
    VIAL_TPL_AUTOESCAPE_ON,     /* always escape */
    VIAL_TPL_AUTOESCAPE_BY_NAME /* Flask: on for .html .htm .xml .xhtml names and for strings */
};

/* Environment options; zero-filled means Jinja2's defaults (autoescape off). */
typedef struct vial_tpl_options {
    int autoescape;             /* VIAL_TPL_AUTOESCAPE_* */
    bool trim_blocks;           /* drop the first newline after a block tag */
    bool lstrip_blocks;         /* strip spaces/tabs before a block tag at line start */
    bool keep_trailing_newline; /* keep the template's final newline */
    bool strict_undefined;      /* undefined values raise on any use but `is defined`/default */
    bool auto_reload;           /* re-stat template files and recompile changed ones (debug) */
    size_t max_output;          /* cap on one render's output; 0 = 64 MiB (a smaller vial_buf max wins) */
    int max_depth;              /* nested macro calls, includes, recursive loops; 0 = 200 */
    uint64_t max_steps;         /* loop iterations + calls per render; 0 = unlimited */
} vial_tpl_options;

#define VIAL_TPL_ERR_SYNTAX 1    /* the template text is invalid */
#define VIAL_TPL_ERR_RUNTIME 2   /* rendering failed (undefined, type error, ...) */
#define VIAL_TPL_ERR_NOT_FOUND 3 /* a template could not be found */
#define VIAL_TPL_ERR_LIMIT 4     /* output, depth or step limit reached */
#define VIAL_TPL_ERR_MEMORY 5    /* the arena ran out */

/* Where and why compiling or rendering failed. */
typedef struct vial_tpl_error {
    int kind;          /* VIAL_TPL_ERR_* */
    char name[256];    /* template name ("<string>" for strings) */
    char file[1024];   /* file path when loaded from disk, else the name */
    int line, column;  /* 1-based; 0 when unknown */
    char message[512]; /* Jinja2's wording where it has one */
} vial_tpl_error;

/* One call of a C filter, test or function from a template. */
typedef struct vial_tpl_call {
    vial_arena *arena;        /* the render's arena: allocate the result here */
    void *user;               /* the render's user pointer (e.g. the request) */
    void *data;               /* the pointer given at registration */
    vial_value *const *args;  /* positional arguments; filters and tests get the value first */
    size_t nargs;
    const vial_value *kwargs; /* keyword arguments as an object, or NULL */
    bool autoescape;          /* whether the calling template escapes output */
    char error[256];          /* set through vial_tpl_fail */
} vial_tpl_call;

/* A C filter/test/function: returns a value (tests: its truthiness counts), or NULL after vial_tpl_fail. */
typedef vial_value *(*vial_tpl_fn)(vial_tpl_call *call);

/* Per-render inputs besides the context, none of them copied. */
typedef struct vial_tpl_render_args {
    const vial_value *globals; /* object of extra globals for this render (request, session, g...) */
    void *user;                /* handed to C callables as call->user */
    /* Globals computed only when a template names them (Flask's context processors:
     * request, session, g); asked after the context and globals above, before the
     * environment's. Returns NULL when it has no such name. */
    vial_value *(*resolve)(void *user, vial_arena *arena, const char *name, size_t len);
} vial_tpl_render_args;

/* A new environment (opt NULL = defaults). */
vial_tpl_env *vial_tpl_env_new(const vial_tpl_options *opt);
/* Frees the environment and every compiled template. */
void vial_tpl_env_free(vial_tpl_env *env);
/* The environment's options (changing lexer options after templates were compiled needs vial_tpl_clear_cache). */
vial_tpl_options *vial_tpl_env_options(vial_tpl_env *env);
/* Appends a folder to the template search path (searched in order). */
int vial_tpl_add_path(vial_tpl_env *env, const char *dir);
/* Registers an in-memory template (looked up before the search path). */
int vial_tpl_add_source(vial_tpl_env *env, const char *name, const char *source, size_t len);
/* Registers a filter: {{ x|name(a, b=c) }} calls fn with args [x, a] and kwargs {b: c}. */
int vial_tpl_add_filter(vial_tpl_env *env, const char *name, vial_tpl_fn fn, void *data);
/* Registers a test: {% if x is name(a) %} calls fn with args [x, a]. */
int vial_tpl_add_test(vial_tpl_env *env, const char *name, vial_tpl_fn fn, void *data);
/* Registers a global function: {{ name(a, k=v) }}. */
int vial_tpl_add_function(vial_tpl_env *env, const char *name, vial_tpl_fn fn, void *data);
/* Registers a global value (deep-copied into the environment). */
int vial_tpl_add_global(vial_tpl_env *env, const char *name, const vial_value *value);
/* Forgets compiled templates (they are recompiled on next use). */
void vial_tpl_clear_cache(vial_tpl_env *env);
/* Compiles a template by name now (warms the cache; reports syntax errors early). */
int vial_tpl_load(vial_tpl_env *env, const char *name, vial_tpl_error *err);
/* Renders template `name` with context ctx (object or NULL), appending to out; memory from arena. */
int vial_tpl_render(vial_tpl_env *env, const char *name, const vial_value *ctx, const vial_tpl_render_args *extra,
                    vial_arena *arena, vial_buf *out, vial_tpl_error *err);
/* Compiles and renders a template given as text (autoescape follows the environment's rule for strings). */
int vial_tpl_render_string(vial_tpl_env *env, const char *source, size_t len, const vial_value *ctx,
                           const vial_tpl_render_args *extra, vial_arena *arena, vial_buf *out,
                           vial_tpl_error *err);
/* A C callable's argument: positional i, else keyword kw (NULL), else NULL. */
vial_value *vial_tpl_arg(const vial_tpl_call *call, size_t i, const char *kw);
/* Fails the call with a message (shown with the template location); returns NULL. */
vial_value *vial_tpl_fail(vial_tpl_call *call, const char *fmt, ...) VIAL_PRINTF(2, 3);
/* True when v is a template's undefined value (core code sees it as null). */
bool vial_tpl_is_undefined(const vial_value *v);
/* Formats an error as "file:line:column: message". */
int vial_tpl_error_format(const vial_tpl_error *err, vial_buf *out);
/* Appends numbered source lines around line (context lines each side) with a caret under column. */
int vial_tpl_excerpt(const char *source, size_t len, int line, int column, int context, vial_buf *out);
/* vial_tpl_excerpt for the template an error names (from the cache or the search path). */
int vial_tpl_error_excerpt(vial_tpl_env *env, const vial_tpl_error *err, int context, vial_buf *out);

/* ---- templates in the app (render_template) ---- */

/* render_template into the response (text/html): templates/ of the app, then of blueprints.
 * A template error is a 500 naming file, line and column (with an excerpt in debug mode). */
int vial_render(vial_res *rs, const char *name, const vial_value *ctx);
/* render_template_string into the response. */
int vial_render_string(vial_res *rs, const char *source, const vial_value *ctx);
/* render_template's string, in the request's arena (for mails, fragments, JSON fields). */
char *vial_render_template(vial_req *rq, const char *name, const vial_value *ctx);
/* The app's template environment (created on first use). */
vial_tpl_env *vial_template_env(vial_app *app);
/* @app.template_filter: {{ x|name }} calls fn. */
int vial_template_filter(vial_app *app, const char *name, vial_tpl_fn fn, void *data);
/* @app.template_test: {% if x is name %}. */
int vial_template_test(vial_app *app, const char *name, vial_tpl_fn fn, void *data);
/* @app.template_global for a function: {{ name(...) }}; call->user is the vial_req. */
int vial_template_function(vial_app *app, const char *name, vial_tpl_fn fn, void *data);
/* A global value every template sees (copied). */
int vial_template_global(vial_app *app, const char *name, const vial_value *value);

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
    int shared_pipeline;    /* PostgreSQL: requests holding no connection share one pipelined
                             * connection per worker for reads, UPDATE and DELETE; on (-1: off) */
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
typedef struct vial_db_args {
    const vial_value *items;
    size_t len;
} vial_db_args;

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

/* VIAL_ARGS(a, b, ...): up to 32 C values bound by type (VIAL_BIND), as a vial_db_args.
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
#define VIAL_ARGS_MAKE_0() ((vial_db_args){NULL, 0})
#define VIAL_ARGS_MAKE_1(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_1(__VA_ARGS__)}, 1})
#define VIAL_ARGS_MAKE_2(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_2(__VA_ARGS__)}, 2})
#define VIAL_ARGS_MAKE_3(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_3(__VA_ARGS__)}, 3})
#define VIAL_ARGS_MAKE_4(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_4(__VA_ARGS__)}, 4})
#define VIAL_ARGS_MAKE_5(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_5(__VA_ARGS__)}, 5})
#define VIAL_ARGS_MAKE_6(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_6(__VA_ARGS__)}, 6})
#define VIAL_ARGS_MAKE_7(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_7(__VA_ARGS__)}, 7})
#define VIAL_ARGS_MAKE_8(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_8(__VA_ARGS__)}, 8})
#define VIAL_ARGS_MAKE_9(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_9(__VA_ARGS__)}, 9})
#define VIAL_ARGS_MAKE_10(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_10(__VA_ARGS__)}, 10})
#define VIAL_ARGS_MAKE_11(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_11(__VA_ARGS__)}, 11})
#define VIAL_ARGS_MAKE_12(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_12(__VA_ARGS__)}, 12})
#define VIAL_ARGS_MAKE_13(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_13(__VA_ARGS__)}, 13})
#define VIAL_ARGS_MAKE_14(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_14(__VA_ARGS__)}, 14})
#define VIAL_ARGS_MAKE_15(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_15(__VA_ARGS__)}, 15})
#define VIAL_ARGS_MAKE_16(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_16(__VA_ARGS__)}, 16})
#define VIAL_ARGS_MAKE_17(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_17(__VA_ARGS__)}, 17})
#define VIAL_ARGS_MAKE_18(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_18(__VA_ARGS__)}, 18})
#define VIAL_ARGS_MAKE_19(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_19(__VA_ARGS__)}, 19})
#define VIAL_ARGS_MAKE_20(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_20(__VA_ARGS__)}, 20})
#define VIAL_ARGS_MAKE_21(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_21(__VA_ARGS__)}, 21})
#define VIAL_ARGS_MAKE_22(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_22(__VA_ARGS__)}, 22})
#define VIAL_ARGS_MAKE_23(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_23(__VA_ARGS__)}, 23})
#define VIAL_ARGS_MAKE_24(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_24(__VA_ARGS__)}, 24})
#define VIAL_ARGS_MAKE_25(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_25(__VA_ARGS__)}, 25})
#define VIAL_ARGS_MAKE_26(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_26(__VA_ARGS__)}, 26})
#define VIAL_ARGS_MAKE_27(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_27(__VA_ARGS__)}, 27})
#define VIAL_ARGS_MAKE_28(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_28(__VA_ARGS__)}, 28})
#define VIAL_ARGS_MAKE_29(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_29(__VA_ARGS__)}, 29})
#define VIAL_ARGS_MAKE_30(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_30(__VA_ARGS__)}, 30})
#define VIAL_ARGS_MAKE_31(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_31(__VA_ARGS__)}, 31})
#define VIAL_ARGS_MAKE_32(...) ((vial_db_args){(const vial_value[]){VIAL_ARGS_MAP_32(__VA_ARGS__)}, 32})
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
vial_value *vial_db_query_args(vial_db_conn *c, vial_arena *a, const char *sql, vial_db_args args);
/* The first row, or NULL: VIAL_DB_NOT_FOUND when there is none, an error code otherwise. */
vial_value *vial_db_one_args(vial_db_conn *c, vial_arena *a, const char *sql, vial_db_args args);
/* The first column of the first row (null for SQL NULL), or NULL as vial_db_one_args. */
vial_value *vial_db_scalar_args(vial_db_conn *c, vial_arena *a, const char *sql, vial_db_args args);
/* Runs a statement; the number of rows it changed, or -1. */
int64_t vial_db_exec_args(vial_db_conn *c, const char *sql, vial_db_args args);
/* Runs sql once for each of n sets of values (cursor.executemany for reads); PostgreSQL pipelines
 * them (one round trip); a batch of reads runs as one transaction (one snapshot). An array of n
 * arrays of rows, or NULL on the first failure. */
vial_value *vial_db_query_many(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n);
/* As vial_db_query_many, but every run is its own statement (its own transaction outside
 * vial_db_begin), exactly as n calls would be; still pipelined on PostgreSQL. */
vial_value *vial_db_query_each(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n);
/* cursor.executemany(sql, sets): n runs (pipelined on PostgreSQL); the rows changed in all, or -1. */
int64_t vial_db_exec_many(vial_db_conn *c, const char *sql, const vial_db_args *sets, size_t n);
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
    vial_db_args args;              /* values for where's placeholders: VIAL_ARGS(uid) */
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

/* ---- the app's database, inside requests (Flask-SQLAlchemy's db.session) ----
 *
 *   vial_value *posts = vial_query(rq, "SELECT * FROM post WHERE author_id = ?", uid);
 *   vial_value *post  = vial_get_or_404(rq, &Post, id);
 *   int64_t id        = vial_insert(rq, &Post, vial_pack(rq, "{s:s, s:s}", "title", t, "body", b));
 *
 * The app's database is DATABASE_URL (default sqlite:///instance/app.db; a
 * relative SQLite path is relative to the app root, its folder created on first
 * use), one pool per worker process (DATABASE_POOL_SIZE, default 10;
 * DATABASE_POOL_TIMEOUT seconds, default 30). A request takes a connection on
 * its first database call and gives it back at teardown. Each statement
 * commits on its own unless the view opened a transaction with vial_begin;
 * whatever the request leaves open is rolled back at teardown (commit with
 * vial_commit). Failures end the request as Flask-SQLAlchemy's exceptions do:
 * database unavailable, pool exhausted, busy or timed out → 503; any other
 * error (constraint violations included) → 500; both logged with the reason.
 * vial_db_catch(rq, code) turns that code into a return value for the next
 * call (Python's try/except IntegrityError): -1 or NULL, with vial_db_error(rq). */

/* Registers the app's models (for `./app db migrate`) and wires `./app db ...`; models ends with NULL. */
int vial_db_models(vial_app *app, const vial_model *const *models);
/* This process's database from DATABASE_URL, opened on first use; NULL (reason logged) on a bad URL. */
vial_db *vial_app_db(vial_app *app);
/* The request's connection (checked out on first use, returned at teardown); 503 when none can be had. */
vial_db_conn *vial_req_db(vial_req *rq);
/* Makes the next database call of this request return code (a VIAL_DB_* error) instead of aborting; 0 clears. */
void vial_db_catch(vial_req *rq, int code);
/* The code of this request's last database call: VIAL_DB_OK, VIAL_DB_NOT_FOUND or a caught error. */
int vial_db_error(vial_req *rq);
/* The message of this request's last database error ("" when none). */
const char *vial_db_error_msg(vial_req *rq);

/* All rows of a statement (an empty array for statements without rows). */
vial_value *vial_query_args(vial_req *rq, const char *sql, vial_db_args args);
/* The first row, or NULL when there is none. */
vial_value *vial_query_one_args(vial_req *rq, const char *sql, vial_db_args args);
/* The first row, or 404 when there is none. */
vial_value *vial_query_one_or_404_args(vial_req *rq, const char *sql, vial_db_args args);
/* The first column of the first row (null for SQL NULL), or NULL when there is no row. */
vial_value *vial_query_scalar_args(vial_req *rq, const char *sql, vial_db_args args);
/* Runs a statement; the rows it changed. */
int64_t vial_exec_args(vial_req *rq, const char *sql, vial_db_args args);
/* sql run once per set of values (pipelined on PostgreSQL, reads in one snapshot): an array of n arrays of rows. */
vial_value *vial_query_many(vial_req *rq, const char *sql, const vial_db_args *sets, size_t n);
/* As vial_query_many, every run its own statement/transaction (pipelined on PostgreSQL). */
vial_value *vial_query_each(vial_req *rq, const char *sql, const vial_db_args *sets, size_t n);
/* executemany: n runs of sql (pipelined on PostgreSQL); the rows changed in all. */
int64_t vial_exec_many(vial_req *rq, const char *sql, const vial_db_args *sets, size_t n);
/* Id of the row the request's last INSERT created. */
int64_t vial_last_insert_id(vial_req *rq);

#define vial_query(rq, sql, ...) vial_query_args((rq), (sql), VIAL_ARGS(__VA_ARGS__))
#define vial_query_one(rq, sql, ...) vial_query_one_args((rq), (sql), VIAL_ARGS(__VA_ARGS__))
#define vial_query_one_or_404(rq, sql, ...) vial_query_one_or_404_args((rq), (sql), VIAL_ARGS(__VA_ARGS__))
#define vial_query_scalar(rq, sql, ...) vial_query_scalar_args((rq), (sql), VIAL_ARGS(__VA_ARGS__))
#define vial_exec(rq, sql, ...) vial_exec_args((rq), (sql), VIAL_ARGS(__VA_ARGS__))

/* Starts a transaction (a savepoint when one is open): db.session.begin() / begin_nested(). */
int vial_begin(vial_req *rq);
/* Commits the innermost level. */
int vial_commit(vial_req *rq);
/* Rolls back the innermost level. */
int vial_rollback(vial_req *rq);

/* db.session.get(Model, id): the row, or NULL. */
vial_value *vial_get_v(vial_req *rq, const vial_model *m, vial_value key);
/* db.get_or_404(Model, id). */
vial_value *vial_get_or_404_v(vial_req *rq, const vial_model *m, vial_value key);
/* Inserts a row (checked against the model); the new id. */
int64_t vial_insert(vial_req *rq, const vial_model *m, const vial_value *row);
/* Updates the row with primary key key; rows changed (0: no such row). */
int64_t vial_update_v(vial_req *rq, const vial_model *m, vial_value key, const vial_value *changes);
/* Deletes the row with primary key key; rows deleted (0: no such row). */
int64_t vial_delete_v(vial_req *rq, const vial_model *m, vial_value key);
/* Matching rows as an array (see vial_query for the options). */
vial_value *vial_select_q(vial_req *rq, const vial_model *m, const vial_query *q);
/* The first matching row, or NULL. */
vial_value *vial_first_q(vial_req *rq, const vial_model *m, const vial_query *q);
/* The first matching row, or 404. */
vial_value *vial_first_or_404_q(vial_req *rq, const vial_model *m, const vial_query *q);
/* Number of matching rows. */
int64_t vial_count_q(vial_req *rq, const vial_model *m, const vial_query *q);
/* A page (as vial_db_paginate; page/per_page 0 read ?page= and ?per_page=), or NULL when out of range. */
vial_value *vial_paginate_q(vial_req *rq, const vial_model *m, const vial_query *q);
/* Flask-SQLAlchemy's paginate(): 404 for a page out of range or a bad ?page= / ?per_page=. */
vial_value *vial_paginate_or_404_q(vial_req *rq, const vial_model *m, const vial_query *q);
/* Updates every matching row; rows changed. */
int64_t vial_update_where_q(vial_req *rq, const vial_model *m, const vial_value *changes, const vial_query *q);
/* Deletes every matching row; rows deleted. */
int64_t vial_delete_where_q(vial_req *rq, const vial_model *m, const vial_query *q);
/* Loads relations ("posts, author") into a row or each row of an array (a second query). */
int vial_load(vial_req *rq, const vial_model *m, vial_value *rows, const char *relations);

#define vial_get(rq, m, key) vial_get_v((rq), (m), VIAL_BIND(key))
#define vial_get_or_404(rq, m, key) vial_get_or_404_v((rq), (m), VIAL_BIND(key))
#define vial_update(rq, m, key, changes) vial_update_v((rq), (m), VIAL_BIND(key), (changes))
#define vial_delete(rq, m, key) vial_delete_v((rq), (m), VIAL_BIND(key))
#define vial_select(rq, m, ...) vial_select_q((rq), (m), &(const vial_query){__VA_ARGS__})
#define vial_first(rq, m, ...) vial_first_q((rq), (m), &(const vial_query){__VA_ARGS__})
#define vial_first_or_404(rq, m, ...) vial_first_or_404_q((rq), (m), &(const vial_query){__VA_ARGS__})
#define vial_count(rq, m, ...) vial_count_q((rq), (m), &(const vial_query){__VA_ARGS__})
#define vial_paginate(rq, m, ...) vial_paginate_q((rq), (m), &(const vial_query){__VA_ARGS__})
#define vial_paginate_or_404(rq, m, ...) vial_paginate_or_404_q((rq), (m), &(const vial_query){__VA_ARGS__})
#define vial_update_where(rq, m, changes, ...) vial_update_where_q((rq), (m), (changes), &(const vial_query){__VA_ARGS__})
#define vial_delete_where(rq, m, ...) vial_delete_where_q((rq), (m), &(const vial_query){__VA_ARGS__})

/* ==== end section: database ==== */

#ifdef __cplusplus
}
#endif

#endif /* VIAL_H */
