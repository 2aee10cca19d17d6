/* session/internal.h - pieces shared inside the session layer (not public).
 *
 * Flask, itsdangerous and Werkzeug are Python; being byte-compatible with them
 * means reproducing a few Python behaviours exactly: the json module's dialect
 * (NaN, integers of any size), binascii's lenient base64 decoder, the email
 * module's date parser, int() parsing, and hashlib's digest names. Each lives
 * in its own file here and is declared below. */
#ifndef VIAL_SESSION_INTERNAL_H
#define VIAL_SESSION_INTERNAL_H

#include <openssl/evp.h>

#include "vial.h"

/* Nesting limit for values written to or read from tokens and cookies. */
#define SESSION_MAX_DEPTH 512

/* ---- pybase64.c: Python's non-strict base64 decoder ---- */

#define PYB64_URLSAFE 0x01 /* urlsafe_b64decode: '-' '_' (and '+' '/') */
#define PYB64_PAD 0x02     /* itsdangerous: append '=' up to a multiple of 4 first */
/* Room the decoder needs for n input bytes. */
#define PYB64_DECODED_MAX(n) (((n) + 3) / 4 * 3 + 3)
/* Decodes like binascii.a2b_base64(strict_mode=False): bytes outside the
 * alphabet are skipped, decoding stops at the first complete padding, leftover
 * bits are ignored. Returns the byte count, or -1 where Python raises. */
long vial_pyb64_decode(unsigned char *out, const char *s, size_t n, int flags);

/* ---- pyjson.c: Python's json module dialect ---- */

#define PYJSON_SORT_KEYS 0x01 /* sort_keys=True (code point order) */
#define PYJSON_ASCII 0x02     /* ensure_ascii=True */
/* Parses text as Python's json.loads(str) does: NaN, Infinity, -Infinity,
 * integers of any size (beyond int64 they become VIAL_TAG_BIGINT strings,
 * over 4300 digits an error as in CPython). text must be valid UTF-8. */
vial_value *vial_pyjson_parse(vial_arena *a, const char *text, size_t len, vial_json_error *err);
/* Writes v as json.dumps(v, separators=(",", ":"), allow_nan=True) does.
 * Tuples become arrays and Markup plain strings; bytes, UUIDs and dates
 * cannot be written (plain json raises TypeError): -1 with err filled. */
int vial_pyjson_write(vial_buf *b, const vial_value *v, int flags, vial_json_error *err);

/* ---- pydate.c: dates as Werkzeug writes and parses them ---- */

/* Seconds since the epoch as "Www, DD Mon YYYY HH:MM:SS GMT"; false when the
 * year is outside Python's 1..9999. */
bool vial_pydate_format(char out[30], int64_t t);
/* Seconds since the epoch for a date at 00:00:00 UTC of t's day (Python date). */
int64_t vial_pydate_floor_day(int64_t t);
#define PYDATE_OK 0
#define PYDATE_NONE 1  /* werkzeug.http.parse_date returns None */
#define PYDATE_ERROR 2 /* Python raises an exception parse_date does not catch */
/* werkzeug.http.parse_date(s): email.utils.parsedate_to_datetime, naive = UTC. */
int vial_pydate_parse(const char *s, size_t n, int64_t *out);

/* ---- pyint.c ---- */

/* int(s) for base 10 as Python parses it (surrounding whitespace, a sign,
 * '_' between digits); false when Python raises or the value overflows int64
 * (*overflow set in that case). */
bool vial_pyint_parse(const char *s, size_t n, int64_t *out, bool *overflow);

/* ---- digest.c: hashlib names ---- */

/* The digest hashlib.new(name) / hmac.new(.., name) would use, NULL when
 * OpenSSL has none (or it is an XOF, whose hexdigest needs a length). Release
 * the result with vial_digest_release. */
const EVP_MD *vial_digest_get(const char *name, size_t n);
/* Releases a digest from vial_digest_get (no-op for built-in ones). */
void vial_digest_release(const EVP_MD *md);

/* ---- hmac.c ---- */

/* HMAC(md, key, data) into out (EVP_MAX_MD_SIZE bytes); keyed contexts are
 * cached per thread for the common digests. False on an OpenSSL failure. */
bool vial_hmac(const EVP_MD *md, const void *key, size_t key_len, const void *data, size_t len, unsigned char *out,
               unsigned *out_len);

/* ---- tagged_json.c ---- */

/* Flask's TaggedJSONSerializer.tag(): a tree of plain JSON values. */
vial_value *vial_flask_tag(vial_arena *a, const vial_value *v, vial_json_error *err);
/* Flask's untag object hook applied bottom-up over a parsed tree. */
vial_value *vial_flask_untag(vial_arena *a, vial_value *v, vial_json_error *err);

/* ---- serializer.c ---- */

#define SERIALIZER_TIMED 0x01  /* URLSafeTimedSerializer (else URLSafeSerializer) */
#define SERIALIZER_TAGGED 0x02 /* Flask's TaggedJSONSerializer (else compact json) */
/* URLSafe(Timed)Serializer.dumps with s's settings (salt must be set). */
vial_sign_status vial_serializer_dumps_with(vial_arena *a, const vial_signer *s, const vial_value *v, int64_t now,
                                            int mode, vial_str *token);
/* URLSafe(Timed)Serializer.loads; *out untouched unless VIAL_SIGN_OK. */
vial_sign_status vial_serializer_loads_with(vial_arena *a, const vial_signer *s, const char *token, size_t len,
                                            int64_t max_age, int64_t now, int mode, vial_value **out,
                                            int64_t *signed_at);

#endif
