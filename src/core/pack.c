/* pack.c - building values from a format string, jansson style.
 *
 *   vial_pack(a, "{s:s, s:i, s:[i,i], s:o}", "name", "xiaoming", "age", 16, "xs", 1, 2, "extra", v)
 *
 * Format characters: s (const char *, NULL packs null), s# (const char *,
 * int length), i (int), I (int64_t), f (double), b (int as bool), n (null),
 * o (vial_value *, NULL packs null), [ ] arrays, { } objects whose keys are s.
 * Commas, colons and spaces are optional separators. A malformed format
 * returns NULL (and logs why): it is a programming error, not bad input. */
#include <stdarg.h>
#include <string.h>

#include "vial.h"

typedef struct {
    const char *fmt;
    vial_arena *arena;
    va_list *ap;
    const char *error;
} packer;

static void skip_separators(packer *pk) {
    while (*pk->fmt == ' ' || *pk->fmt == ',' || *pk->fmt == ':' || *pk->fmt == '\t' || *pk->fmt == '\n') pk->fmt++;
}

static vial_value *pack_one(packer *pk, int depth) {
    skip_separators(pk);
    if (depth > 64) {
        pk->error = "format nested too deeply";
        return NULL;
    }
    char c = *pk->fmt++;
    switch (c) {
    case 's': {
        const char *s = va_arg(*pk->ap, const char *);
        if (*pk->fmt == '#') {
            pk->fmt++;
            int n = va_arg(*pk->ap, int);
            return s ? vial_new_strn(pk->arena, s, n < 0 ? 0 : (size_t)n) : vial_value_null();
        }
        return s ? vial_new_str(pk->arena, s) : vial_value_null();
    }
    case 'i': return vial_new_int(pk->arena, va_arg(*pk->ap, int));
    case 'I': return vial_new_int(pk->arena, va_arg(*pk->ap, int64_t));
    case 'f': return vial_new_double(pk->arena, va_arg(*pk->ap, double));
    case 'b': return vial_new_bool(pk->arena, va_arg(*pk->ap, int) != 0);
    case 'n': return vial_value_null();
    case 'o': {
        vial_value *v = va_arg(*pk->ap, vial_value *);
        return v ? v : vial_value_null();
    }
    case '[': {
        vial_value *arr = vial_new_array(pk->arena);
        if (!arr) return NULL;
        for (;;) {
            skip_separators(pk);
            if (*pk->fmt == ']') {
                pk->fmt++;
                return arr;
            }
            if (!*pk->fmt) {
                pk->error = "unterminated '['";
                return NULL;
            }
            vial_value *item = pack_one(pk, depth + 1);
            if (!item || vial_array_push(arr, item) != 0) return NULL;
        }
    }
    case '{': {
        vial_value *obj = vial_new_object(pk->arena);
        if (!obj) return NULL;
        for (;;) {
            skip_separators(pk);
            if (*pk->fmt == '}') {
                pk->fmt++;
                return obj;
            }
            if (*pk->fmt != 's') {
                pk->error = *pk->fmt ? "object key must be 's'" : "unterminated '{'";
                return NULL;
            }
            pk->fmt++;
            const char *key = va_arg(*pk->ap, const char *);
            if (!key) {
                pk->error = "NULL object key";
                return NULL;
            }
            vial_value *v = pack_one(pk, depth + 1);
            if (!v || vial_object_set(obj, key, v) != 0) return NULL;
        }
    }
    default: pk->error = "unknown format character"; return NULL;
    }
}

vial_value *vial_vpack_in(vial_arena *a, const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    packer pk = {.fmt = fmt, .arena = a, .ap = &copy};
    vial_value *v = pack_one(&pk, 0);
    if (v) {
        skip_separators(&pk);
        if (*pk.fmt) {
            pk.error = "extra characters after the value";
            v = NULL;
        }
    }
    va_end(copy);
    if (!v && pk.error) vial_log(VIAL_LOG_ERROR, "vial_pack(\"%s\"): %s", fmt, pk.error);
    return v;
}

vial_value *vial_pack_in(vial_arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vial_value *v = vial_vpack_in(a, fmt, ap);
    va_end(ap);
    return v;
}
