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

/* ==== end section: session ==== */

/* ==== section: templates (src/template) ==== */

/* ==== end section: templates ==== */

/* ==== section: database (src/db) ==== */

/* ==== end section: database ==== */

#ifdef __cplusplus
}
#endif

#endif /* VIAL_H */
