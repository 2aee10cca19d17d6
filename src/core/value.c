/* value.c - vial_value, the one dynamic type.
 *
 * JSON bodies, template contexts, database rows, session data and config are
 * all trees of vial_value: null, bool, int64, double, string (with a "safe"
 * mark for HTML that must not be escaped again), array, and object with its
 * keys kept in insertion order. Values live in an arena and die with it.
 * Containers remember their arena so they can grow. Objects are a flat array
 * of members scanned linearly while small; past a few entries a hash index of
 * member positions is built so a 100,000-key JSON object cannot make lookups
 * (or duplicate checks while parsing) quadratic. */
#include "vial.h"

#include <string.h>

#define OBJECT_INDEX_MIN 12

static vial_value value_null = {.type = VIAL_NULL};
static vial_value value_true = {.type = VIAL_BOOL, .as.b = true};
static vial_value value_false = {.type = VIAL_BOOL, .as.b = false};

vial_value *vial_value_null(void) { return &value_null; }

vial_value *vial_new_bool(vial_arena *a, bool b) {
    (void)a;
    return b ? &value_true : &value_false;
}

static vial_value *value_new(vial_arena *a, vial_type t) {
    vial_value *v = vial_arena_alloc(a, sizeof *v);
    if (!v) return NULL;
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)t;
    return v;
}

vial_value *vial_new_null(vial_arena *a) {
    (void)a;
    return &value_null;
}

vial_value *vial_new_int(vial_arena *a, int64_t i) {
    vial_value *v = value_new(a, VIAL_INT);
    if (v) v->as.i = i;
    return v;
}

vial_value *vial_new_double(vial_arena *a, double d) {
    vial_value *v = value_new(a, VIAL_DOUBLE);
    if (v) v->as.d = d;
    return v;
}

vial_value *vial_new_strn(vial_arena *a, const char *s, size_t n) {
    vial_value *v = value_new(a, VIAL_STRING);
    if (!v) return NULL;
    char *copy = vial_arena_strndup(a, s ? s : "", s ? n : 0);
    if (!copy) return NULL;
    v->as.s.ptr = copy;
    v->as.s.len = s ? n : 0;
    return v;
}

vial_value *vial_new_str(vial_arena *a, const char *s) { return vial_new_strn(a, s, s ? strlen(s) : 0); }

vial_value *vial_new_str_ref(vial_arena *a, const char *s, size_t n) {
    vial_value *v = value_new(a, VIAL_STRING);
    if (!v) return NULL;
    v->as.s.ptr = s;
    v->as.s.len = n;
    return v;
}

vial_value *vial_new_safe(vial_arena *a, const char *s, size_t n) {
    vial_value *v = vial_new_strn(a, s, n);
    if (v) v->flags |= VIAL_FLAG_SAFE;
    return v;
}

vial_value *vial_new_array(vial_arena *a) {
    vial_value *v = value_new(a, VIAL_ARRAY);
    if (v) v->as.arr.arena = a;
    return v;
}

vial_value *vial_new_object(vial_arena *a) {
    vial_value *v = value_new(a, VIAL_OBJECT);
    if (v) v->as.obj.arena = a;
    return v;
}

int vial_array_push(vial_value *arr, vial_value *item) {
    if (!arr || arr->type != VIAL_ARRAY || !item) return -1;
    if (arr->as.arr.len == arr->as.arr.cap) {
        size_t cap = arr->as.arr.cap ? arr->as.arr.cap * 2 : 4;
        vial_value **items = vial_arena_grow(arr->as.arr.arena, arr->as.arr.items,
                                             arr->as.arr.cap * sizeof *items, cap * sizeof *items);
        if (!items) return -1;
        arr->as.arr.items = items;
        arr->as.arr.cap = cap;
    }
    arr->as.arr.items[arr->as.arr.len++] = item;
    return 0;
}

size_t vial_len(const vial_value *v) {
    if (!v) return 0;
    switch (v->type) {
    case VIAL_ARRAY: return v->as.arr.len;
    case VIAL_OBJECT: return v->as.obj.len;
    case VIAL_STRING: return v->as.s.len;
    default: return 0;
    }
}

vial_value *vial_array_get(const vial_value *arr, size_t i) {
    if (!arr || arr->type != VIAL_ARRAY || i >= arr->as.arr.len) return NULL;
    return arr->as.arr.items[i];
}

/* ---- objects ---- */

static uint32_t key_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* The index is an open-addressing table of (member position + 1), 0 = empty,
 * sized to a power of two at least twice the member count. */
static int index_rebuild(vial_value *obj, size_t slots) {
    uint32_t *index = vial_arena_calloc(obj->as.obj.arena, slots * sizeof *index);
    if (!index) return -1;
    for (size_t m = 0; m < obj->as.obj.len; m++) {
        vial_member *mem = &obj->as.obj.items[m];
        size_t slot = key_hash(mem->key, mem->key_len) & (slots - 1);
        while (index[slot]) slot = (slot + 1) & (slots - 1);
        index[slot] = (uint32_t)(m + 1);
    }
    obj->as.obj.index = index;
    obj->as.obj.index_slots = slots;
    return 0;
}

static long object_find(const vial_value *obj, const char *key, size_t n) {
    const vial_member *items = obj->as.obj.items;
    if (obj->as.obj.index) {
        size_t slots = obj->as.obj.index_slots;
        size_t slot = key_hash(key, n) & (slots - 1);
        uint32_t pos;
        while ((pos = obj->as.obj.index[slot]) != 0) {
            const vial_member *m = &items[pos - 1];
            if (m->key_len == n && memcmp(m->key, key, n) == 0) return (long)pos - 1;
            slot = (slot + 1) & (slots - 1);
        }
        return -1;
    }
    for (size_t i = 0; i < obj->as.obj.len; i++)
        if (items[i].key_len == n && memcmp(items[i].key, key, n) == 0) return (long)i;
    return -1;
}

vial_value *vial_object_getn(const vial_value *obj, const char *key, size_t n) {
    if (!obj || obj->type != VIAL_OBJECT || !key) return NULL;
    long i = object_find(obj, key, n);
    return i < 0 ? NULL : obj->as.obj.items[i].value;
}

vial_value *vial_object_get(const vial_value *obj, const char *key) {
    return key ? vial_object_getn(obj, key, strlen(key)) : NULL;
}

static int object_append(vial_value *obj, const char *key, size_t n, vial_value *v, bool copy_key) {
    vial_arena *a = obj->as.obj.arena;
    if (obj->as.obj.len == obj->as.obj.cap) {
        size_t cap = obj->as.obj.cap ? obj->as.obj.cap * 2 : 4;
        if (cap > UINT32_MAX - 1) return -1;
        vial_member *items = vial_arena_grow(a, obj->as.obj.items, obj->as.obj.cap * sizeof *items,
                                             cap * sizeof *items);
        if (!items) return -1;
        obj->as.obj.items = items;
        obj->as.obj.cap = cap;
    }
    const char *k = key;
    if (copy_key) {
        k = vial_arena_strndup(a, key, n);
        if (!k) return -1;
    }
    vial_member *m = &obj->as.obj.items[obj->as.obj.len++];
    m->key = k;
    m->key_len = n;
    m->value = v;
    size_t len = obj->as.obj.len;
    if (obj->as.obj.index) {
        size_t slots = obj->as.obj.index_slots;
        if (len * 2 > slots) return index_rebuild(obj, slots * 2);
        size_t slot = key_hash(k, n) & (slots - 1);
        while (obj->as.obj.index[slot]) slot = (slot + 1) & (slots - 1);
        obj->as.obj.index[slot] = (uint32_t)len;
    } else if (len >= OBJECT_INDEX_MIN) {
        return index_rebuild(obj, 64);
    }
    return 0;
}

static int object_setn(vial_value *obj, const char *key, size_t n, vial_value *v, bool copy_key) {
    if (!obj || obj->type != VIAL_OBJECT || !key || !v) return -1;
    long i = object_find(obj, key, n);
    if (i >= 0) {
        obj->as.obj.items[i].value = v;
        return 0;
    }
    return object_append(obj, key, n, v, copy_key);
}

int vial_object_setn(vial_value *obj, const char *key, size_t n, vial_value *v) {
    return object_setn(obj, key, n, v, true);
}

int vial_object_set(vial_value *obj, const char *key, vial_value *v) {
    return key ? object_setn(obj, key, strlen(key), v, true) : -1;
}

int vial_object_set_ref(vial_value *obj, const char *key, size_t n, vial_value *v) {
    return object_setn(obj, key, n, v, false);
}

int vial_object_del(vial_value *obj, const char *key) {
    if (!obj || obj->type != VIAL_OBJECT || !key) return -1;
    long i = object_find(obj, key, strlen(key));
    if (i < 0) return -1;
    memmove(&obj->as.obj.items[i], &obj->as.obj.items[i + 1],
            (obj->as.obj.len - (size_t)i - 1) * sizeof(vial_member));
    obj->as.obj.len--;
    if (obj->as.obj.index) return index_rebuild(obj, obj->as.obj.index_slots);
    return 0;
}

/* ---- reading ---- */

bool vial_truthy(const vial_value *v) {
    if (!v) return false;
    switch (v->type) {
    case VIAL_NULL: return false;
    case VIAL_BOOL: return v->as.b;
    case VIAL_INT: return v->as.i != 0;
    case VIAL_DOUBLE: return v->as.d != 0.0;
    case VIAL_STRING: return v->as.s.len != 0;
    case VIAL_ARRAY: return v->as.arr.len != 0;
    case VIAL_OBJECT: return v->as.obj.len != 0;
    }
    return false;
}

const char *vial_str_of(const vial_value *v) {
    return v && v->type == VIAL_STRING ? v->as.s.ptr : NULL;
}

const char *vial_get_str(const vial_value *obj, const char *key) {
    return vial_str_of(vial_object_get(obj, key));
}

int64_t vial_get_int(const vial_value *obj, const char *key, int64_t fallback) {
    const vial_value *v = vial_object_get(obj, key);
    if (!v) return fallback;
    if (v->type == VIAL_INT) return v->as.i;
    if (v->type == VIAL_BOOL) return v->as.b;
    if (v->type == VIAL_DOUBLE && v->as.d >= -9.2e18 && v->as.d <= 9.2e18) return (int64_t)v->as.d;
    return fallback;
}

double vial_get_double(const vial_value *obj, const char *key, double fallback) {
    const vial_value *v = vial_object_get(obj, key);
    if (!v) return fallback;
    if (v->type == VIAL_DOUBLE) return v->as.d;
    if (v->type == VIAL_INT) return (double)v->as.i;
    return fallback;
}

bool vial_get_bool(const vial_value *obj, const char *key, bool fallback) {
    const vial_value *v = vial_object_get(obj, key);
    return v ? vial_truthy(v) : fallback;
}

/* Deep copy into another arena: values handed from a request to something
 * longer-lived (app config, a cache) must not point into the request arena. */
vial_value *vial_value_copy(vial_arena *a, const vial_value *v) {
    if (!v) return NULL;
    switch (v->type) {
    case VIAL_NULL: return &value_null;
    case VIAL_BOOL: return v->as.b ? &value_true : &value_false;
    case VIAL_INT: return vial_new_int(a, v->as.i);
    case VIAL_DOUBLE: return vial_new_double(a, v->as.d);
    case VIAL_STRING: {
        vial_value *c = vial_new_strn(a, v->as.s.ptr, v->as.s.len);
        if (c) c->flags = v->flags;
        return c;
    }
    case VIAL_ARRAY: {
        vial_value *c = vial_new_array(a);
        if (!c) return NULL;
        for (size_t i = 0; i < v->as.arr.len; i++) {
            vial_value *item = vial_value_copy(a, v->as.arr.items[i]);
            if (!item || vial_array_push(c, item) != 0) return NULL;
        }
        c->flags = v->flags;
        return c;
    }
    case VIAL_OBJECT: {
        vial_value *c = vial_new_object(a);
        if (!c) return NULL;
        for (size_t i = 0; i < v->as.obj.len; i++) {
            const vial_member *m = &v->as.obj.items[i];
            vial_value *item = vial_value_copy(a, m->value);
            if (!item || object_append(c, m->key, m->key_len, item, true) != 0) return NULL;
        }
        c->flags = v->flags;
        return c;
    }
    }
    return NULL;
}

bool vial_value_equal(const vial_value *x, const vial_value *y) {
    if (x == y) return true;
    if (!x || !y) return false;
    if ((x->type == VIAL_INT || x->type == VIAL_DOUBLE || x->type == VIAL_BOOL) &&
        (y->type == VIAL_INT || y->type == VIAL_DOUBLE || y->type == VIAL_BOOL) && x->type != y->type) {
        double dx = x->type == VIAL_INT ? (double)x->as.i : x->type == VIAL_BOOL ? x->as.b : x->as.d;
        double dy = y->type == VIAL_INT ? (double)y->as.i : y->type == VIAL_BOOL ? y->as.b : y->as.d;
        return dx == dy;
    }
    if (x->type != y->type) return false;
    switch (x->type) {
    case VIAL_NULL: return true;
    case VIAL_BOOL: return x->as.b == y->as.b;
    case VIAL_INT: return x->as.i == y->as.i;
    case VIAL_DOUBLE: return x->as.d == y->as.d;
    case VIAL_STRING:
        return x->as.s.len == y->as.s.len && memcmp(x->as.s.ptr, y->as.s.ptr, x->as.s.len) == 0;
    case VIAL_ARRAY:
        if (x->as.arr.len != y->as.arr.len) return false;
        for (size_t i = 0; i < x->as.arr.len; i++)
            if (!vial_value_equal(x->as.arr.items[i], y->as.arr.items[i])) return false;
        return true;
    case VIAL_OBJECT:
        if (x->as.obj.len != y->as.obj.len) return false;
        for (size_t i = 0; i < x->as.obj.len; i++) {
            const vial_member *m = &x->as.obj.items[i];
            if (!vial_value_equal(m->value, vial_object_getn(y, m->key, m->key_len))) return false;
        }
        return true;
    }
    return false;
}
