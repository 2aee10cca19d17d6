/* libFuzzer target: the session cookie reader. The first byte picks what the
 * rest is: 0 a cookie as received (signature checks, splitting, timestamps);
 * 1 a JSON payload we sign, so the fuzzer reaches base64, JSON and tags past
 * the signature; 2 the same compressed; 3 a payload segment signed as is
 * (Python's lenient base64, zlib). A cookie that reads must give an object,
 * write back, and read back to the same session; one that does not must
 * give an empty session. */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "../unit/session_typed.h"

#define NOW 1700000000

static bool has_early_datetime(const vial_value *v) {
    if (v->tag == VIAL_TAG_DATETIME) return v->as.i < -59011459200LL;
    if (v->type == VIAL_ARRAY)
        for (size_t i = 0; i < v->as.arr.len; i++)
            if (has_early_datetime(v->as.arr.items[i])) return true;
    if (v->type == VIAL_OBJECT)
        for (size_t i = 0; i < v->as.obj.len; i++)
            if (has_early_datetime(v->as.obj.items[i].value)) return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > 1 << 16) return 0;
    vial_arena *a = vial_arena_new(1 << 14);
    vial_str keys[] = {VIAL_STR("dev"), VIAL_STR("old-key")};
    vial_signer signer = {.keys = keys, .nkeys = 1, .salt = VIAL_STR(VIAL_SESSION_SALT),
                          .key_derivation = VIAL_KEY_DERIVATION_HMAC};
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    vial_str cookie = {rest, n};
    int mode = data[0] % 4;
    if (mode == 1 || mode == 2) {
        const unsigned char *payload = (const unsigned char *)rest;
        size_t payload_len = n;
        if (mode == 2) {
            uLongf zlen = compressBound((uLong)n);
            unsigned char *z = vial_arena_alloc(a, zlen);
            if (!z || compress2(z, &zlen, payload, (uLong)n, Z_DEFAULT_COMPRESSION) != Z_OK) __builtin_trap();
            payload = z;
            payload_len = zlen;
        }
        char *b64 = vial_arena_alloc(a, vial_base64_encoded_len(payload_len, VIAL_B64_NOPAD) + 2);
        size_t off = mode == 2;
        b64[0] = '.';
        size_t b64_len = off + vial_base64_encode(b64 + off, payload, payload_len, VIAL_B64_URL | VIAL_B64_NOPAD);
        if (vial_signer_sign_timed(a, &signer, b64, b64_len, NOW, &cookie) != VIAL_SIGN_OK) __builtin_trap();
    } else if (mode == 3) {
        if (vial_signer_sign_timed(a, &signer, rest, n, NOW, &cookie) != VIAL_SIGN_OK) __builtin_trap();
    }
    vial_sign_status rc;
    vial_value *s = vial_session_cookie_decode(a, keys, 2, cookie.ptr, cookie.len, NOW, 2678400, &rc);
    if (!s || s->type != VIAL_OBJECT) __builtin_trap();
    if (rc != VIAL_SIGN_OK) {
        if (vial_len(s) != 0) __builtin_trap(); /* never partial contents */
    } else {
        vial_str again;
        vial_sign_status wrc = vial_session_cookie_encode(a, keys, 2, s, NOW, &again);
        if (wrc == VIAL_SIGN_OK) {
            vial_value *back = vial_session_cookie_decode(a, keys, 1, again.ptr, again.len, NOW, 0, &rc);
            if (rc != VIAL_SIGN_OK) __builtin_trap();
            if (!has_early_datetime(s) && !typed_equal(s, back)) __builtin_trap();
        } else if (wrc != VIAL_SIGN_UNSERIALIZABLE) {
            __builtin_trap();
        }
    }
    vial_arena_free(a);
    return 0;
}
