/* tagged_json.c - Flask's TaggedJSONSerializer over vial_value.
 *
 * A Flask session holds Python values JSON has no type for: tuples (every
 * flashed message is one), bytes, Markup, UUIDs, datetimes. Flask writes each
 * as a one-key object whose key is a tag name starting with a space
 * ({" t": [...]}) and escapes a user dict that looks like a tag as
 * {" di": {key + "__": ...}}. Here the Python type lives in vial_value's tag
 * field (VIAL_TAG_TUPLE ...; Markup is a VIAL_FLAG_SAFE string), so a session
 * read from a Flask cookie is written back exactly as Flask would.
 *
 * Writing tags the tree first (Flask's tag(), same check order) and hands it
 * to the Python-dialect JSON writer with sorted keys and ASCII escapes, as
 * Flask's app JSON provider does. Reading applies Flask's object hook
 * bottom-up after parsing, which is the order json.loads calls it in. Where
 * Python's to_python would turn odd tag contents Flask never writes into
 * something (Markup of a list, a UUID spelled "+234..."), we refuse the
 * payload instead of guessing; see docs/sessions.md. */
#include <string.h>

#include "session/internal.h"

static const char *const tag_names[] = {" di", " t", " b", " m", " u", " d"};

static bool is_tag_name(const char *k, size_t n) {
    for (size_t i = 0; i < sizeof tag_names / sizeof tag_names[0]; i++)
        if (strlen(tag_names[i]) == n && memcmp(tag_names[i], k, n) == 0) return true;
    return false;
}

static void set_err(vial_json_error *err, const char *msg) {
    if (err && !err->message[0]) {
        size_t n = strlen(msg);
        if (n >= sizeof err->message) n = sizeof err->message - 1;
        memcpy(err->message, msg, n);
        err->message[n] = '\0';
    }
}

/* ---- values with a Python type ---- */

vial_value *vial_new_tuple(vial_arena *a) {
    vial_value *v = vial_new_array(a);
    if (v) v->tag = VIAL_TAG_TUPLE;
    return v;
}

vial_value *vial_new_bytes(vial_arena *a, const void *bytes, size_t n) {
    vial_value *v = vial_new_strn(a, bytes ? bytes : "", bytes ? n : 0);
    if (v) v->tag = VIAL_TAG_BYTES;
    return v;
}

vial_value *vial_new_datetime(vial_arena *a, int64_t t) {
    vial_value *v = vial_new_int(a, t);
    if (v) v->tag = VIAL_TAG_DATETIME;
    return v;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* 32 hex digits from "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" or the dashed form. */
static bool uuid_digits(const char *s, size_t n, char hex[32]) {
    size_t k = 0;
    if (n == 36) {
        if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
    } else if (n != 32) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (n == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) continue;
        int v = hexval(s[i]);
        if (v < 0) return false;
        hex[k++] = "0123456789abcdef"[v];
    }
    return k == 32;
}

static vial_value *uuid_value(vial_arena *a, const char hex[32]) {
    char text[36];
    size_t k = 0;
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20) text[k++] = '-';
        text[k++] = hex[i];
    }
    vial_value *v = vial_new_strn(a, text, 36);
    if (v) v->tag = VIAL_TAG_UUID;
    return v;
}

vial_value *vial_new_uuid(vial_arena *a, const char *text) {
    char hex[32];
    if (!text || !uuid_digits(text, strlen(text), hex)) return NULL;
    return uuid_value(a, hex);
}

/* Python's UUID(s): "urn:" and "uuid:" removed, braces stripped from both
 * ends, dashes removed, then 32 hex digits. (int(s, 16) would also take a
 * sign, "0x", '_' or spaces within those 32 characters; Flask never writes
 * them and we refuse them.) */
static vial_value *uuid_from_python_text(vial_arena *a, const char *s, size_t n) {
    char buf[64], hex[32];
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (n - i >= 4 && memcmp(s + i, "urn:", 4) == 0) {
            i += 4;
            continue;
        }
        if (n - i >= 5 && memcmp(s + i, "uuid:", 5) == 0) {
            i += 5;
            continue;
        }
        if (k >= sizeof buf) return NULL;
        buf[k++] = s[i++];
    }
    size_t lo = 0, hi = k;
    while (lo < hi && (buf[lo] == '{' || buf[lo] == '}')) lo++;
    while (hi > lo && (buf[hi - 1] == '{' || buf[hi - 1] == '}')) hi--;
    size_t m = 0;
    for (size_t i = lo; i < hi; i++) {
        if (buf[i] == '-') continue;
        if (m >= 32) return NULL;
        int v = hexval(buf[i]);
        if (v < 0) return NULL;
        hex[m++] = "0123456789abcdef"[v];
    }
    if (m != 32) return NULL;
    return uuid_value(a, hex);
}

/* ---- tag(): vial_value -> plain JSON tree ---- */

static vial_value *wrap(vial_arena *a, const char *tag, vial_value *inner) {
    vial_value *o = inner ? vial_new_object(a) : NULL;
    if (!o || vial_object_set_ref(o, tag, strlen(tag), inner) != 0) return NULL;
    return o;
}

static vial_value *tag_value(vial_arena *a, const vial_value *v, int depth, vial_json_error *err);

static vial_value *tag_items(vial_arena *a, const vial_value *v, int depth, vial_json_error *err) {
    vial_value *arr = vial_new_array(a);
    if (!arr) return NULL;
    for (size_t i = 0; i < v->as.arr.len; i++) {
        vial_value *item = tag_value(a, v->as.arr.items[i], depth + 1, err);
        if (!item || vial_array_push(arr, item) != 0) return NULL;
    }
    return arr;
}

static vial_value *tag_date_string(vial_arena *a, int64_t t, vial_json_error *err) {
    char date[30];
    if (!vial_pydate_format(date, t)) {
        set_err(err, "a datetime outside the years 1..9999 cannot be written");
        return NULL;
    }
    return vial_new_strn(a, date, 29);
}

static vial_value *tag_value(vial_arena *a, const vial_value *v, int depth, vial_json_error *err) {
    if (depth > SESSION_MAX_DEPTH) {
        set_err(err, "value nested too deeply");
        return NULL;
    }
    if (!v) return vial_value_null();
    switch (v->type) {
    case VIAL_OBJECT: {
        if (v->as.obj.len == 1 && is_tag_name(v->as.obj.items[0].key, v->as.obj.items[0].key_len)) {
            /* A user dict that looks like a tag: {" di": {key + "__": value}}. */
            const vial_member *m = &v->as.obj.items[0];
            char *key = vial_arena_alloc(a, m->key_len + 3);
            vial_value *inner = vial_new_object(a);
            vial_value *tagged = tag_value(a, m->value, depth + 1, err);
            if (!key || !inner || !tagged) return NULL;
            memcpy(key, m->key, m->key_len);
            memcpy(key + m->key_len, "__", 3);
            if (vial_object_set_ref(inner, key, m->key_len + 2, tagged) != 0) return NULL;
            return wrap(a, " di", inner);
        }
        vial_value *o = vial_new_object(a);
        if (!o) return NULL;
        for (size_t i = 0; i < v->as.obj.len; i++) {
            const vial_member *m = &v->as.obj.items[i];
            vial_value *tagged = tag_value(a, m->value, depth + 1, err);
            if (!tagged || vial_object_set_ref(o, m->key, m->key_len, tagged) != 0) return NULL;
        }
        return o;
    }
    case VIAL_ARRAY: {
        vial_value *arr = tag_items(a, v, depth, err);
        if (arr && v->tag == VIAL_TAG_TUPLE) return wrap(a, " t", arr);
        return arr;
    }
    case VIAL_STRING:
        if (v->tag == VIAL_TAG_BYTES) {
            size_t n = vial_base64_encoded_len(v->as.s.len, 0);
            char *b64 = vial_arena_alloc(a, n + 1);
            if (!b64) return NULL;
            vial_base64_encode(b64, v->as.s.ptr, v->as.s.len, 0);
            return wrap(a, " b", vial_new_str_ref(a, b64, n));
        }
        if (v->tag == VIAL_TAG_UUID) {
            char hex[32];
            if (!uuid_digits(v->as.s.ptr, v->as.s.len, hex)) {
                set_err(err, "a UUID value does not hold a UUID");
                return NULL;
            }
            return wrap(a, " u", vial_new_strn(a, hex, 32));
        }
        if (v->tag == VIAL_TAG_BIGINT) return (vial_value *)v;
        if (v->flags & VIAL_FLAG_SAFE) return wrap(a, " m", vial_new_str_ref(a, v->as.s.ptr, v->as.s.len));
        return (vial_value *)v;
    case VIAL_INT:
    case VIAL_DOUBLE:
        if (v->tag == VIAL_TAG_DATETIME || v->tag == VIAL_TAG_DATE) {
            /* Python drops the microseconds: the second the instant falls in. */
            int64_t t;
            if (v->type == VIAL_INT) {
                t = v->as.i;
            } else {
                double d = v->as.d;
                if (!(d >= -9.2e18 && d <= 9.2e18)) {
                    set_err(err, "a datetime is not a finite number of seconds");
                    return NULL;
                }
                t = (int64_t)d;
                if ((double)t > d) t--;
            }
            if (v->tag == VIAL_TAG_DATE) return tag_date_string(a, vial_pydate_floor_day(t), err);
            vial_value *s = tag_date_string(a, t, err);
            return s ? wrap(a, " d", s) : NULL;
        }
        return (vial_value *)v;
    default: return (vial_value *)v;
    }
}

vial_value *vial_flask_tag(vial_arena *a, const vial_value *v, vial_json_error *err) {
    vial_value *out = tag_value(a, v, 0, err);
    if (!out) set_err(err, "out of memory");
    return out;
}

/* ---- untag: Flask's object hook ---- */

/* Python truthiness, where a datetime or UUID is always true. */
static bool py_truthy(const vial_value *v) {
    if (v->tag == VIAL_TAG_DATETIME || v->tag == VIAL_TAG_UUID) return true;
    return vial_truthy(v);
}

/* str(x) for the Markup tag's scalar cases. */
static vial_value *markup_of(vial_arena *a, const vial_value *v) {
    char tmp[VIAL_DOUBLE_BUFSIZE > VIAL_INT_BUFSIZE ? VIAL_DOUBLE_BUFSIZE : VIAL_INT_BUFSIZE];
    switch (v->type) {
    case VIAL_NULL: return vial_new_safe(a, "None", 4);
    case VIAL_BOOL: return v->as.b ? vial_new_safe(a, "True", 4) : vial_new_safe(a, "False", 5);
    case VIAL_INT:
        if (v->tag) return NULL;
        return vial_new_safe(a, tmp, vial_format_i64(tmp, v->as.i));
    case VIAL_DOUBLE:
        if (v->tag) return NULL;
        if (v->as.d != v->as.d) return vial_new_safe(a, "nan", 3);
        if (v->as.d > 1.7976931348623157e308) return vial_new_safe(a, "inf", 3);
        if (v->as.d < -1.7976931348623157e308) return vial_new_safe(a, "-inf", 4);
        return vial_new_safe(a, tmp, vial_format_double(tmp, v->as.d));
    case VIAL_STRING:
        if (v->tag == VIAL_TAG_BYTES) return NULL; /* str(b"..") is a repr: not supported */
        /* str, Markup, UUID (its dashed form), int digits: the text itself. */
        return vial_new_safe(a, v->as.s.ptr, v->as.s.len);
    default: return NULL; /* str() of a container is a Python repr: not supported */
    }
}

/* tuple(x) for what Python can iterate. */
static vial_value *tuple_of(vial_arena *a, const vial_value *v) {
    vial_value *t = vial_new_tuple(a);
    if (!t) return NULL;
    if (v->type == VIAL_ARRAY) {
        for (size_t i = 0; i < v->as.arr.len; i++)
            if (vial_array_push(t, v->as.arr.items[i]) != 0) return NULL;
        return t;
    }
    if (v->type == VIAL_OBJECT) { /* iterating a dict gives its keys */
        for (size_t i = 0; i < v->as.obj.len; i++)
            if (vial_array_push(t, vial_new_str_ref(a, v->as.obj.items[i].key, v->as.obj.items[i].key_len)) != 0)
                return NULL;
        return t;
    }
    if (v->type == VIAL_STRING && v->tag == VIAL_TAG_BYTES) { /* bytes: ints */
        for (size_t i = 0; i < v->as.s.len; i++)
            if (vial_array_push(t, vial_new_int(a, (unsigned char)v->as.s.ptr[i])) != 0) return NULL;
        return t;
    }
    if (v->type == VIAL_STRING && !v->tag) { /* str: one-character strings */
        for (size_t i = 0; i < v->as.s.len;) {
            uint32_t cp;
            size_t len = vial_utf8_decode(v->as.s.ptr + i, v->as.s.len - i, &cp);
            if (!len) len = 1;
            if (vial_array_push(t, vial_new_strn(a, v->as.s.ptr + i, len)) != 0) return NULL;
            i += len;
        }
        return t;
    }
    return NULL;
}

/* b64decode(x): str must be ASCII; bytes are decoded as they are. */
static vial_value *bytes_of(vial_arena *a, const vial_value *v) {
    if (v->type != VIAL_STRING || (v->tag && v->tag != VIAL_TAG_BYTES)) return NULL;
    if (!v->tag)
        for (size_t i = 0; i < v->as.s.len; i++)
            if ((unsigned char)v->as.s.ptr[i] >= 0x80) return NULL;
    unsigned char *out = vial_arena_alloc(a, PYB64_DECODED_MAX(v->as.s.len) + 1);
    if (!out) return NULL;
    long n = vial_pyb64_decode(out, v->as.s.ptr, v->as.s.len, 0);
    if (n < 0) return NULL;
    vial_value *b = vial_new_str_ref(a, (const char *)out, (size_t)n);
    if (!b) return NULL;
    out[n] = '\0';
    b->tag = VIAL_TAG_BYTES;
    return b;
}

/* Converts one parsed object if it is a tag; NULL (err set) where Python raises. */
static vial_value *untag_object(vial_arena *a, vial_value *o, vial_json_error *err) {
    if (o->as.obj.len != 1) return o;
    const vial_member *m = &o->as.obj.items[0];
    if (!is_tag_name(m->key, m->key_len)) return o;
    const vial_value *inner = m->value;
    const char *k = m->key;
    vial_value *out = NULL;
    const char *why = NULL;
    if (strcmp(k, " di") == 0) {
        if (inner->type != VIAL_OBJECT || inner->as.obj.len == 0) {
            why = "a \" di\" tag does not hold a dict";
        } else {
            /* key[:-2], in code points */
            const vial_member *first = &inner->as.obj.items[0];
            size_t cut = first->key_len;
            for (int drop = 0; drop < 2 && cut > 0; drop++) {
                cut--;
                while (cut > 0 && ((unsigned char)first->key[cut] & 0xC0) == 0x80) cut--;
            }
            out = vial_new_object(a);
            if (out && vial_object_setn(out, first->key, cut, first->value) != 0) out = NULL;
        }
    } else if (strcmp(k, " t") == 0) {
        if (!(out = tuple_of(a, inner))) why = "a \" t\" tag does not hold a sequence";
    } else if (strcmp(k, " b") == 0) {
        if (!(out = bytes_of(a, inner))) why = "a \" b\" tag does not hold base64";
    } else if (strcmp(k, " m") == 0) {
        if (!(out = markup_of(a, inner))) why = "a \" m\" tag does not hold text";
    } else if (strcmp(k, " u") == 0) {
        if (inner->type == VIAL_STRING && !inner->tag)
            out = uuid_from_python_text(a, inner->as.s.ptr, inner->as.s.len);
        if (!out) why = "a \" u\" tag does not hold a UUID";
    } else { /* " d" */
        if (inner->type == VIAL_STRING && !inner->tag) {
            int64_t t;
            int rc = vial_pydate_parse(inner->as.s.ptr, inner->as.s.len, &t);
            if (rc == PYDATE_OK) out = vial_new_datetime(a, t);
            else if (rc == PYDATE_NONE) out = vial_value_null();
            else why = "a \" d\" tag holds a date Python cannot represent";
        } else if (!py_truthy(inner) || (inner->type == VIAL_STRING && inner->tag == VIAL_TAG_BYTES)) {
            out = vial_value_null(); /* parse_date swallows the TypeError: None */
        } else {
            why = "a \" d\" tag does not hold a date string";
        }
    }
    if (!out) set_err(err, why ? why : "out of memory");
    return out;
}

static vial_value *untag(vial_arena *a, vial_value *v, int depth, vial_json_error *err) {
    if (depth > SESSION_MAX_DEPTH) {
        set_err(err, "value nested too deeply");
        return NULL;
    }
    if (v->type == VIAL_ARRAY) {
        for (size_t i = 0; i < v->as.arr.len; i++) {
            vial_value *item = untag(a, v->as.arr.items[i], depth + 1, err);
            if (!item) return NULL;
            v->as.arr.items[i] = item;
        }
        return v;
    }
    if (v->type != VIAL_OBJECT) return v;
    for (size_t i = 0; i < v->as.obj.len; i++) {
        vial_value *item = untag(a, v->as.obj.items[i].value, depth + 1, err);
        if (!item) return NULL;
        v->as.obj.items[i].value = item;
    }
    return untag_object(a, v, err);
}

vial_value *vial_flask_untag(vial_arena *a, vial_value *v, vial_json_error *err) { return untag(a, v, 0, err); }

/* ---- public ---- */

char *vial_tagged_json_dumps(vial_arena *a, const vial_value *v, size_t *len, vial_json_error *err) {
    if (err) memset(err, 0, sizeof *err);
    vial_value *tagged = vial_flask_tag(a, v, err);
    if (!tagged) return NULL;
    vial_buf b;
    vial_buf_init(&b, a, 0);
    if (vial_pyjson_write(&b, tagged, PYJSON_SORT_KEYS | PYJSON_ASCII, err) != 0) return NULL;
    if (len) *len = b.len;
    return (char *)vial_buf_cstr(&b);
}

vial_value *vial_tagged_json_loads(vial_arena *a, const char *text, size_t len, vial_json_error *err) {
    vial_value *v = vial_pyjson_parse(a, text, len, err);
    if (!v) return NULL;
    return vial_flask_untag(a, v, err);
}
