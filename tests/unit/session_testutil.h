/* session_testutil.h - helpers for the session suites that run apps through the test client. */
#ifndef SESSION_TESTUTIL_H
#define SESSION_TESTUTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vial.h"

/* The Set-Cookie line of response r for cookie name, or NULL (several: the last). */
static inline const char *set_cookie_line(const vial_response *r, const char *name) {
    const char *found = NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(r->headers[i].name, "Set-Cookie") == 0 && strncmp(r->headers[i].value, name, n) == 0 &&
            r->headers[i].value[n] == '=')
            found = r->headers[i].value;
    return found;
}

/* How many Set-Cookie lines r has. */
static inline size_t set_cookie_count(const vial_response *r) {
    size_t count = 0;
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(r->headers[i].name, "Set-Cookie") == 0) count++;
    return count;
}

/* The value part of a Set-Cookie line ("name=value; ..."), in arena a. */
static inline char *cookie_value_of(vial_arena *a, const char *line) {
    const char *eq = strchr(line, '=');
    size_t n = strcspn(eq + 1, ";");
    return vial_arena_strndup(a, eq + 1, n);
}

/* Decodes a session cookie with one key, now, Flask's default lifetime. */
static inline vial_value *decode_with(vial_arena *a, const char *key, const char *cookie, vial_sign_status *why) {
    vial_str k = {key, strlen(key)};
    return vial_session_cookie_decode(a, &k, 1, cookie, strlen(cookie), (int64_t)time(NULL),
                                      VIAL_SESSION_LIFETIME_DEFAULT, why);
}

/* Encodes a session object as a cookie with one key at time t. */
static inline const char *encode_with(vial_arena *a, const char *key, const vial_value *session, int64_t t) {
    vial_str k = {key, strlen(key)};
    vial_str out;
    cr_assert_eq(vial_session_cookie_encode(a, &k, 1, session, t, &out), VIAL_SIGN_OK);
    return out.ptr;
}

/* Tagged JSON of a value (Flask's session serialization), for exact comparisons. */
static inline const char *tagged(vial_arena *a, const vial_value *v) {
    size_t len;
    vial_json_error err;
    char *s = vial_tagged_json_dumps(a, v, &len, &err);
    cr_assert_not_null(s, "%s", err.message);
    return s;
}

/* Reads a whole file into arena a (the log written during a test). */
static inline const char *slurp(vial_arena *a, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return "";
    vial_buf b;
    vial_buf_init(&b, a, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) vial_buf_append(&b, chunk, n);
    fclose(f);
    return vial_buf_cstr(&b);
}

#endif
