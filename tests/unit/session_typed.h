/* session_typed.h - helpers of the session/signing/password suites.
 *
 * The vectors and the Python oracle (flask_oracle.py) write Python values as
 * JSON with one-key markers for non-JSON types ({"$tuple": [...]},
 * {"$bytes_hex": ...}, {"$datetime": ISO}, ...: tests/data/vectors/README.md).
 * typed_to_value turns that into the vial_value a C program holds for the
 * same Python value (the mapping documented in include/vial.h: tuple ->
 * VIAL_TAG_TUPLE array, datetime -> VIAL_TAG_DATETIME seconds, ...);
 * value_to_typed goes back. A Decimal has no vial type: a C program holds its
 * text, so {"$decimal": "19.990"} becomes the string "19.990". */
#ifndef VIAL_SESSION_TYPED_H
#define VIAL_SESSION_TYPED_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "vial.h"

static inline int typed_hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Hex text to bytes in the arena; *n set. */
static inline unsigned char *typed_unhex(vial_arena *a, const char *hex, size_t *n) {
    size_t len = strlen(hex) / 2;
    unsigned char *out = vial_arena_alloc(a, len + 1);
    for (size_t i = 0; i < len; i++) out[i] = (unsigned char)(typed_hexval(hex[2 * i]) << 4 | typed_hexval(hex[2 * i + 1]));
    *n = len;
    return out;
}

static inline int64_t typed_days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD[THH:MM:SS[.ffffff][+HH:MM]]" (naive = UTC) to epoch seconds. */
static inline int64_t typed_iso_seconds(const char *s) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    sscanf(s, "%d-%d-%d", &y, &mo, &d);
    const char *t = strchr(s, 'T');
    int64_t offset = 0;
    if (t) {
        sscanf(t + 1, "%d:%d:%d", &h, &mi, &sec);
        const char *z = t + 9;
        if (*z == '.') z += 7;
        if (*z == '+' || *z == '-') {
            int oh = 0, om = 0;
            sscanf(z + 1, "%d:%d", &oh, &om);
            offset = (*z == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        }
    }
    return typed_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
}

static inline vial_value *typed_to_value(vial_arena *a, const vial_value *t) {
    switch (t->type) {
    case VIAL_ARRAY: {
        vial_value *arr = vial_new_array(a);
        for (size_t i = 0; i < t->as.arr.len; i++) vial_array_push(arr, typed_to_value(a, t->as.arr.items[i]));
        return arr;
    }
    case VIAL_OBJECT: {
        if (t->as.obj.len == 1 && t->as.obj.items[0].key[0] == '$') {
            const char *k = t->as.obj.items[0].key;
            const vial_value *inner = t->as.obj.items[0].value;
            const char *s = vial_str_of(inner);
            if (strcmp(k, "$tuple") == 0) {
                vial_value *tu = typed_to_value(a, inner);
                tu->tag = VIAL_TAG_TUPLE;
                return tu;
            }
            if (strcmp(k, "$bytes_hex") == 0) {
                size_t n;
                unsigned char *b = typed_unhex(a, s, &n);
                return vial_new_bytes(a, b, n);
            }
            if (strcmp(k, "$datetime") == 0) return vial_new_datetime(a, typed_iso_seconds(s));
            if (strcmp(k, "$date") == 0) {
                vial_value *v = vial_new_int(a, typed_iso_seconds(s));
                v->tag = VIAL_TAG_DATE;
                return v;
            }
            if (strcmp(k, "$uuid") == 0) return vial_new_uuid(a, s);
            if (strcmp(k, "$markup") == 0) return vial_new_safe(a, s, inner->as.s.len);
            if (strcmp(k, "$decimal") == 0) return vial_new_strn(a, s, inner->as.s.len);
            if (strcmp(k, "$float") == 0) {
                if (strcmp(s, "nan") == 0) return vial_new_double(a, NAN);
                if (strcmp(s, "inf") == 0) return vial_new_double(a, INFINITY);
                if (strcmp(s, "-inf") == 0) return vial_new_double(a, -INFINITY);
                return vial_new_double(a, -0.0);
            }
            if (strcmp(k, "$bigint") == 0) {
                char *end;
                errno = 0;
                long long v = strtoll(s, &end, 10);
                if (errno == 0 && *end == '\0') return vial_new_int(a, v);
                vial_value *big = vial_new_strn(a, s, inner->as.s.len);
                big->tag = VIAL_TAG_BIGINT;
                return big;
            }
        }
        vial_value *o = vial_new_object(a);
        for (size_t i = 0; i < t->as.obj.len; i++)
            vial_object_setn(o, t->as.obj.items[i].key, t->as.obj.items[i].key_len,
                             typed_to_value(a, t->as.obj.items[i].value));
        return o;
    }
    case VIAL_STRING: return vial_new_strn(a, t->as.s.ptr, t->as.s.len);
    default: return (vial_value *)t;
    }
}

static inline vial_value *typed_marker(vial_arena *a, const char *k, vial_value *inner) {
    vial_value *o = vial_new_object(a);
    vial_object_set(o, k, inner);
    return o;
}

/* ISO-8601 text of epoch seconds, aware UTC ("+00:00"), as Python's isoformat. */
static inline vial_value *typed_iso_text(vial_arena *a, int64_t t, bool with_time) {
    int64_t days = t / 86400 - (t % 86400 < 0), secs = t - days * 86400;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (!with_time) return vial_new_str(a, vial_arena_sprintf(a, "%04lld-%02lld-%02lld", (long long)y, (long long)m, (long long)d));
    return vial_new_str(a, vial_arena_sprintf(a, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld+00:00", (long long)y,
                                              (long long)m, (long long)d, (long long)(secs / 3600),
                                              (long long)(secs / 60 % 60), (long long)(secs % 60)));
}

static inline vial_value *value_to_typed(vial_arena *a, const vial_value *v) {
    char hex[2 * 4096 + 1];
    switch (v->type) {
    case VIAL_DOUBLE:
        if (isnan(v->as.d)) return typed_marker(a, "$float", vial_new_str(a, "nan"));
        if (isinf(v->as.d)) return typed_marker(a, "$float", vial_new_str(a, v->as.d > 0 ? "inf" : "-inf"));
        if (v->as.d == 0 && signbit(v->as.d)) return typed_marker(a, "$float", vial_new_str(a, "-0.0"));
        return (vial_value *)v;
    case VIAL_INT:
        if (v->tag == VIAL_TAG_DATETIME) return typed_marker(a, "$datetime", typed_iso_text(a, v->as.i, true));
        if (v->as.i > (1LL << 53) || v->as.i < -(1LL << 53)) {
            char d[VIAL_INT_BUFSIZE];
            return typed_marker(a, "$bigint", vial_new_strn(a, d, vial_format_i64(d, v->as.i)));
        }
        return (vial_value *)v;
    case VIAL_STRING:
        if (v->tag == VIAL_TAG_BYTES) {
            size_t n = v->as.s.len < 4096 ? v->as.s.len : 4096;
            for (size_t i = 0; i < n; i++) sprintf(hex + 2 * i, "%02x", (unsigned char)v->as.s.ptr[i]);
            hex[2 * n] = '\0';
            return typed_marker(a, "$bytes_hex", vial_new_str(a, hex));
        }
        if (v->tag == VIAL_TAG_UUID) return typed_marker(a, "$uuid", vial_new_strn(a, v->as.s.ptr, v->as.s.len));
        if (v->tag == VIAL_TAG_BIGINT) return typed_marker(a, "$bigint", vial_new_strn(a, v->as.s.ptr, v->as.s.len));
        if (v->flags & VIAL_FLAG_SAFE) return typed_marker(a, "$markup", vial_new_strn(a, v->as.s.ptr, v->as.s.len));
        return (vial_value *)v;
    case VIAL_ARRAY: {
        vial_value *arr = vial_new_array(a);
        for (size_t i = 0; i < v->as.arr.len; i++) vial_array_push(arr, value_to_typed(a, v->as.arr.items[i]));
        return v->tag == VIAL_TAG_TUPLE ? typed_marker(a, "$tuple", arr) : arr;
    }
    case VIAL_OBJECT: {
        vial_value *o = vial_new_object(a);
        for (size_t i = 0; i < v->as.obj.len; i++)
            vial_object_setn(o, v->as.obj.items[i].key, v->as.obj.items[i].key_len,
                             value_to_typed(a, v->as.obj.items[i].value));
        return o;
    }
    default: return (vial_value *)v;
    }
}

/* Deep equality including the Python type: tags, Markup, int vs float, -0.0,
 * NaN equal to NaN; objects compared as dicts (order ignored). */
static inline bool typed_equal(const vial_value *x, const vial_value *y) {
    if (!x || !y) return x == y;
    if (x->type != y->type || x->tag != y->tag || (x->flags & VIAL_FLAG_SAFE) != (y->flags & VIAL_FLAG_SAFE))
        return false;
    switch (x->type) {
    case VIAL_NULL: return true;
    case VIAL_BOOL: return x->as.b == y->as.b;
    case VIAL_INT: return x->as.i == y->as.i;
    case VIAL_DOUBLE:
        if (isnan(x->as.d) || isnan(y->as.d)) return isnan(x->as.d) && isnan(y->as.d);
        return x->as.d == y->as.d && signbit(x->as.d) == signbit(y->as.d);
    case VIAL_STRING: return x->as.s.len == y->as.s.len && memcmp(x->as.s.ptr, y->as.s.ptr, x->as.s.len) == 0;
    case VIAL_ARRAY:
        if (x->as.arr.len != y->as.arr.len) return false;
        for (size_t i = 0; i < x->as.arr.len; i++)
            if (!typed_equal(x->as.arr.items[i], y->as.arr.items[i])) return false;
        return true;
    case VIAL_OBJECT:
        if (x->as.obj.len != y->as.obj.len) return false;
        for (size_t i = 0; i < x->as.obj.len; i++)
            if (!typed_equal(x->as.obj.items[i].value,
                             vial_object_getn(y, x->as.obj.items[i].key, x->as.obj.items[i].key_len)))
                return false;
        return true;
    }
    return false;
}

/* A value as typed JSON text, for failure messages. */
static inline const char *typed_show(vial_arena *a, const vial_value *v) {
    if (!v) return "(null pointer)";
    const char *s = vial_json_encode(a, value_to_typed(a, v), VIAL_JSON_SORT_KEYS, NULL);
    return s ? s : "(unprintable)";
}

/* The secret key of a vector case: secret_key (UTF-8) or secret_key_hex. */
static inline vial_str typed_case_key(vial_arena *a, const vial_value *c) {
    const char *hex = vial_get_str(c, "secret_key_hex");
    if (hex) {
        size_t n;
        unsigned char *b = typed_unhex(a, hex, &n);
        return (vial_str){(const char *)b, n};
    }
    const char *s = vial_get_str(c, "secret_key");
    return (vial_str){s, strlen(s)};
}

/* Loads tests/data/<rel> as JSON into the arena. */
static inline vial_value *typed_load_json(vial_arena *a, const char *rel) {
    size_t len;
    char *text = test_read_file(test_data_path(rel), &len);
    if (!text) return NULL;
    vial_json_error err;
    vial_value *v = vial_json_parse(a, text, len, 0, &err);
    free(text);
    return v;
}

/* Runs `/usr/bin/python3 tests/unit/flask_oracle.py <command>` with input on
 * stdin and returns its stdout parsed as JSON (NULL when it failed). */
static inline vial_value *run_oracle(vial_arena *a, const char *command, const char *input) {
    const char *src = getenv("VIAL_SOURCE_DIR");
    if (!src) src = ".";
    char in_path[] = "/tmp/vial_oracle_in_XXXXXX";
    int fd = mkstemp(in_path);
    if (fd < 0) return NULL;
    size_t left = strlen(input);
    const char *p = input;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w <= 0) break;
        p += w;
        left -= (size_t)w;
    }
    close(fd);
    char *cmd = vial_arena_sprintf(a, "/usr/bin/python3 '%s/tests/unit/flask_oracle.py' %s < '%s'", src, command,
                                   in_path);
    FILE *f = popen(cmd, "r");
    vial_buf out;
    vial_buf_init(&out, NULL, 0);
    if (f) {
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) vial_buf_append(&out, chunk, n);
        int status = pclose(f);
        if (status != 0) out.len = 0;
    }
    unlink(in_path);
    vial_value *v = NULL;
    if (out.len) {
        vial_json_error err;
        char *copy = vial_arena_strndup(a, out.data, out.len);
        v = vial_json_parse(a, copy, out.len, 0, &err);
    }
    vial_buf_free(&out);
    return v;
}

#endif
