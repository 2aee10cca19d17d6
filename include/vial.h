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

/* An array tagged like this is a Python tuple: prints as (1, 2). */
#define VIAL_TPL_TAG_TUPLE 0x7475

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

/* ==== end section: templates ==== */

/* ==== section: database (src/db) ==== */

/* ==== end section: database ==== */

#ifdef __cplusplus
}
#endif

#endif /* VIAL_H */
