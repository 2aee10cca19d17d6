/* serializer.c - itsdangerous' URLSafeSerializer / URLSafeTimedSerializer.
 *
 * The payload of a token is a value as JSON, zlib-compressed when that saves
 * at least two bytes (marked by a leading '.'), in unpadded URL-safe base64;
 * the signer signs it. itsdangerous' own serializer writes compact JSON in
 * insertion order with UTF-8 left as is; Flask's session passes its tagged
 * JSON instead (sorted keys, ASCII only). zlib's default settings give the
 * same bytes as Python's zlib.compress, so our tokens are byte-identical to
 * Python's for the same time and key.
 *
 * Reading decodes the payload as leniently as Python does (it is covered by
 * the signature), refuses a decompressed payload over VIAL_SIGN_MAX_PAYLOAD,
 * and parses Python's JSON dialect. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "session/internal.h"

#define DEFAULT_SERIALIZER_SALT "itsdangerous"

/* zlib's deflate state is about 270 KB. Allocating it for every cookie costs
 * far more than the compression (the heap grows and is trimmed back on each
 * call: ~3 ms of system time per cookie measured on a VM), so each thread
 * keeps one deflate and one inflate stream and resets them between uses.
 * deflateReset gives the same output as a fresh deflateInit, so cookies stay
 * byte-identical to Python's zlib.compress. */
typedef struct {
    z_stream def, inf;
    bool def_ready, inf_ready;
} zstreams;

static pthread_key_t zstreams_key;
static pthread_once_t zstreams_once = PTHREAD_ONCE_INIT;

static void zstreams_free(void *p) {
    zstreams *z = p;
    if (z->def_ready) deflateEnd(&z->def);
    if (z->inf_ready) inflateEnd(&z->inf);
    free(z);
}

static void zstreams_key_init(void) {
    if (pthread_key_create(&zstreams_key, zstreams_free) != 0) abort();
}

static zstreams *thread_zstreams(void) {
    pthread_once(&zstreams_once, zstreams_key_init);
    zstreams *z = pthread_getspecific(zstreams_key);
    if (!z) {
        z = calloc(1, sizeof *z);
        if (!z || pthread_setspecific(zstreams_key, z) != 0) {
            free(z);
            return NULL;
        }
    }
    return z;
}

/* zlib.compress(data): level 6, window 15, memLevel 8, default strategy. */
static bool zlib_compress(const unsigned char *in, size_t n, unsigned char *out, size_t *out_len) {
    zstreams *z = thread_zstreams();
    if (!z || n > UINT32_MAX || *out_len > UINT32_MAX) return false;
    if (!z->def_ready) {
        if (deflateInit(&z->def, Z_DEFAULT_COMPRESSION) != Z_OK) return false;
        z->def_ready = true;
    } else if (deflateReset(&z->def) != Z_OK) {
        return false;
    }
    z->def.next_in = (Bytef *)in;
    z->def.avail_in = (uInt)n;
    z->def.next_out = out;
    z->def.avail_out = (uInt)*out_len;
    if (deflate(&z->def, Z_FINISH) != Z_STREAM_END) return false;
    *out_len = z->def.total_out;
    return true;
}

static vial_sign_status encode_payload(vial_arena *a, const vial_value *v, int mode, vial_buf *out) {
    vial_json_error err;
    vial_buf json;
    vial_buf_init(&json, a, 0);
    if (mode & SERIALIZER_TAGGED) {
        memset(&err, 0, sizeof err);
        vial_value *tagged = vial_flask_tag(a, v, &err);
        if (!tagged) return strcmp(err.message, "out of memory") == 0 ? VIAL_SIGN_NO_MEMORY : VIAL_SIGN_UNSERIALIZABLE;
        if (vial_pyjson_write(&json, tagged, PYJSON_SORT_KEYS | PYJSON_ASCII, &err) != 0)
            return VIAL_SIGN_UNSERIALIZABLE;
    } else if (vial_pyjson_write(&json, v, 0, &err) != 0) {
        return VIAL_SIGN_UNSERIALIZABLE;
    }
    const unsigned char *data = (const unsigned char *)json.data;
    size_t len = json.len;
    size_t zlen = compressBound((uLong)json.len);
    unsigned char *z = vial_arena_alloc(a, zlen);
    if (!z) return VIAL_SIGN_NO_MEMORY;
    bool compressed = false;
    if (zlib_compress(data, json.len, z, &zlen) && zlen + 1 < json.len) {
        data = z;
        len = zlen;
        compressed = true;
    }
    size_t b64 = vial_base64_encoded_len(len, VIAL_B64_NOPAD);
    if (vial_buf_reserve(out, b64 + 2) != 0) return VIAL_SIGN_NO_MEMORY;
    if (compressed) out->data[out->len++] = '.';
    out->len += vial_base64_encode(out->data + out->len, data, len, VIAL_B64_URL | VIAL_B64_NOPAD);
    return VIAL_SIGN_OK;
}

static vial_sign_status inflate_payload(vial_arena *a, const unsigned char *in, size_t n, unsigned char **out,
                                        size_t *out_len) {
    zstreams *zt = thread_zstreams();
    if (!zt || n > UINT32_MAX) return VIAL_SIGN_NO_MEMORY;
    z_stream *zs = &zt->inf;
    if (!zt->inf_ready) {
        if (inflateInit(zs) != Z_OK) return VIAL_SIGN_NO_MEMORY;
        zt->inf_ready = true;
    } else if (inflateReset(zs) != Z_OK) {
        return VIAL_SIGN_NO_MEMORY;
    }
    size_t cap = n * 4 + 64 < VIAL_SIGN_MAX_PAYLOAD ? n * 4 + 64 : VIAL_SIGN_MAX_PAYLOAD;
    unsigned char *buf = vial_arena_alloc(a, cap + 1);
    vial_sign_status rc = buf ? VIAL_SIGN_BAD_PAYLOAD : VIAL_SIGN_NO_MEMORY;
    zs->next_in = (Bytef *)in;
    zs->avail_in = (uInt)n;
    while (buf) {
        zs->next_out = buf + zs->total_out;
        zs->avail_out = (uInt)(cap - zs->total_out);
        int z = inflate(zs, Z_NO_FLUSH);
        if (z == Z_STREAM_END) { /* bytes after the stream are ignored, as zlib.decompress does */
            *out = buf;
            *out_len = zs->total_out;
            rc = VIAL_SIGN_OK;
            break;
        }
        if (z != Z_OK && z != Z_BUF_ERROR) break;
        if (zs->avail_out == 0) {
            if (cap >= VIAL_SIGN_MAX_PAYLOAD) {
                rc = VIAL_SIGN_TOO_LARGE;
                break;
            }
            size_t grown = cap * 2 < VIAL_SIGN_MAX_PAYLOAD ? cap * 2 : VIAL_SIGN_MAX_PAYLOAD;
            buf = vial_arena_grow(a, buf, cap + 1, grown + 1);
            cap = grown;
            if (!buf) rc = VIAL_SIGN_NO_MEMORY;
        } else if (zs->avail_in == 0) {
            break; /* truncated stream */
        }
    }
    return rc;
}

static vial_sign_status decode_payload(vial_arena *a, const char *payload, size_t n, int mode, vial_value **out) {
    bool compressed = n > 0 && payload[0] == '.';
    if (compressed) payload++, n--;
    unsigned char *raw = vial_arena_alloc(a, PYB64_DECODED_MAX(n) + 1);
    if (!raw) return VIAL_SIGN_NO_MEMORY;
    long raw_len = vial_pyb64_decode(raw, payload, n, PYB64_URLSAFE | PYB64_PAD);
    if (raw_len < 0) return VIAL_SIGN_BAD_PAYLOAD;
    const char *json = (const char *)raw;
    size_t json_len = (size_t)raw_len;
    if (compressed) {
        unsigned char *inflated;
        vial_sign_status rc = inflate_payload(a, raw, (size_t)raw_len, &inflated, &json_len);
        if (rc != VIAL_SIGN_OK) return rc;
        json = (const char *)inflated;
    } else if (json_len > VIAL_SIGN_MAX_PAYLOAD) {
        return VIAL_SIGN_TOO_LARGE;
    }
    vial_json_error err;
    vial_value *v = vial_pyjson_parse(a, json, json_len, &err);
    if (v && (mode & SERIALIZER_TAGGED)) v = vial_flask_untag(a, v, &err);
    if (!v) return strstr(err.message, "out of memory") ? VIAL_SIGN_NO_MEMORY : VIAL_SIGN_BAD_PAYLOAD;
    *out = v;
    return VIAL_SIGN_OK;
}

vial_sign_status vial_serializer_dumps_with(vial_arena *a, const vial_signer *s, const vial_value *v, int64_t now,
                                            int mode, vial_str *token) {
    if (s->nkeys == 0 || !s->keys || s->keys[0].len == 0) return VIAL_SIGN_NO_KEY;
    vial_buf payload;
    vial_buf_init(&payload, a, 0);
    vial_sign_status rc = encode_payload(a, v, mode, &payload);
    if (rc != VIAL_SIGN_OK) return rc;
    if (mode & SERIALIZER_TIMED) return vial_signer_sign_timed(a, s, payload.data, payload.len, now, token);
    return vial_signer_sign(a, s, payload.data, payload.len, token);
}

vial_sign_status vial_serializer_loads_with(vial_arena *a, const vial_signer *s, const char *token, size_t len,
                                            int64_t max_age, int64_t now, int mode, vial_value **out,
                                            int64_t *signed_at) {
    vial_str payload;
    vial_sign_status rc = (mode & SERIALIZER_TIMED)
                              ? vial_signer_unsign_timed(s, token, len, max_age, now, &payload, signed_at)
                              : vial_signer_unsign(s, token, len, &payload);
    if (rc != VIAL_SIGN_OK) return rc;
    return decode_payload(a, payload.ptr, payload.len, mode, out);
}

static vial_signer with_default_salt(const vial_signer *s) {
    vial_signer copy = *s;
    if (!copy.salt.ptr) copy.salt = VIAL_STR(DEFAULT_SERIALIZER_SALT);
    return copy;
}

vial_sign_status vial_serializer_dumps(vial_arena *a, const vial_signer *s, const vial_value *value, int64_t now,
                                       vial_str *token) {
    vial_signer full = with_default_salt(s);
    return vial_serializer_dumps_with(a, &full, value, now, SERIALIZER_TIMED, token);
}

vial_sign_status vial_serializer_loads(vial_arena *a, const vial_signer *s, const char *token, size_t len,
                                       int64_t max_age, int64_t now, vial_value **value, int64_t *signed_at) {
    vial_signer full = with_default_salt(s);
    return vial_serializer_loads_with(a, &full, token, len, max_age, now, SERIALIZER_TIMED, value, signed_at);
}

char *vial_sign(vial_arena *a, const char *secret, const char *salt, const vial_value *value) {
    vial_str key = {secret ? secret : "", secret ? strlen(secret) : 0};
    vial_signer s = {.keys = &key, .nkeys = 1};
    if (salt) s.salt = (vial_str){salt, strlen(salt)};
    vial_str token;
    vial_sign_status rc = vial_serializer_dumps(a, &s, value, (int64_t)time(NULL), &token);
    if (rc != VIAL_SIGN_OK) {
        vial_log(VIAL_LOG_WARNING, "vial_sign: %s", vial_sign_strerror(rc));
        return NULL;
    }
    return (char *)token.ptr;
}

vial_value *vial_unsign(vial_arena *a, const char *secret, const char *salt, const char *token, int64_t max_age,
                        vial_sign_status *status) {
    vial_str key = {secret ? secret : "", secret ? strlen(secret) : 0};
    vial_signer s = {.keys = &key, .nkeys = 1};
    if (salt) s.salt = (vial_str){salt, strlen(salt)};
    vial_value *v = NULL;
    vial_sign_status rc = vial_serializer_loads(a, &s, token ? token : "", token ? strlen(token) : 0, max_age,
                                                (int64_t)time(NULL), &v, NULL);
    if (status) *status = rc;
    return rc == VIAL_SIGN_OK ? v : NULL;
}
