/* session_cookie.c - the value of Flask's "session" cookie.
 *
 * Flask's SecureCookieSessionInterface: URLSafeTimedSerializer with salt
 * "cookie-session", HMAC key derivation over SHA-1, and the tagged JSON of
 * tagged_json.c. With the same SECRET_KEY a vial app and a Flask app read each
 * other's sessions.
 *
 * Reading never fails loudly: a missing, tampered, truncated, wrongly signed
 * or expired cookie gives an empty session plus the reason, as in Flask. So
 * does a correctly signed cookie whose payload does not decode, or decodes to
 * something that is not a dict; Flask answers 500 there, and an empty
 * session is the better answer. Contents are never partially returned. */
#include "session/internal.h"

static vial_signer session_signer(const vial_str *keys, size_t nkeys) {
    return (vial_signer){.keys = keys,
                         .nkeys = nkeys,
                         .salt = VIAL_STR(VIAL_SESSION_SALT),
                         .key_derivation = VIAL_KEY_DERIVATION_HMAC,
                         .digest = "sha1"};
}

vial_sign_status vial_session_cookie_encode(vial_arena *a, const vial_str *keys, size_t nkeys,
                                            const vial_value *session, int64_t now, vial_str *cookie) {
    if (!keys || nkeys == 0 || keys[0].len == 0) return VIAL_SIGN_NO_KEY;
    if (!session || session->type != VIAL_OBJECT) return VIAL_SIGN_UNSERIALIZABLE;
    vial_signer s = session_signer(keys, nkeys);
    return vial_serializer_dumps_with(a, &s, session, now, SERIALIZER_TIMED | SERIALIZER_TAGGED, cookie);
}

/* dict(x) of a falsy value is {}: Flask builds the session with `data or ()`. */
static bool python_falsy(const vial_value *v) {
    if (v->tag == VIAL_TAG_DATETIME || v->tag == VIAL_TAG_UUID || v->tag == VIAL_TAG_BIGINT) return false;
    return !vial_truthy(v);
}

vial_value *vial_session_cookie_decode(vial_arena *a, const vial_str *keys, size_t nkeys, const char *cookie,
                                       size_t len, int64_t now, int64_t max_age, vial_sign_status *status) {
    vial_sign_status rc;
    vial_value *v = NULL;
    if (!keys || nkeys == 0 || keys[0].len == 0) {
        rc = VIAL_SIGN_NO_KEY;
    } else if (!cookie || len == 0) {
        rc = VIAL_SIGN_OK; /* no cookie: a new, empty session */
    } else {
        vial_signer s = session_signer(keys, nkeys);
        rc = vial_serializer_loads_with(a, &s, cookie, len, max_age, now, SERIALIZER_TIMED | SERIALIZER_TAGGED, &v,
                                        NULL);
        if (rc == VIAL_SIGN_OK && v->type != VIAL_OBJECT) {
            /* null, [] and the like are an empty session; [1, 2] would be a
             * TypeError (500) in Flask, and dict([("a", 1)]) a session we do
             * not rebuild: refused as a bad payload. */
            if (!python_falsy(v)) rc = VIAL_SIGN_BAD_PAYLOAD;
            v = NULL;
        }
    }
    if (status) *status = rc;
    if (rc != VIAL_SIGN_OK || !v) v = vial_new_object(a);
    return v;
}
