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
