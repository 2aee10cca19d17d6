/* multidict.c - Werkzeug's MultiDict for C: ordered key/value pairs where a
 * key may repeat (?tag=a&tag=b, repeated form fields, duplicate cookies,
 * header lines).
 *
 * The pairs sit in one array in wire order, which is also the iteration
 * order; .get() is the first pair with the key, .getlist() all of them.
 * Small dictionaries (the usual query string) are searched linearly; once a
 * dictionary reaches INDEX_MIN pairs a hash index is built (per key: first
 * and last pair, and per pair: the next one with the same key), so a form
 * with thousands of fields still answers get/getlist without rescanning.
 * All memory comes from the arena given at init. */
#include <string.h>

#include "app/forms.h"

#define INDEX_MIN 16

static unsigned char lower_ascii(unsigned char c) { return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c; }

static uint32_t key_hash(const vial_multidict *md, const char *k, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (md->nocase) c = lower_ascii(c);
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static bool key_eq(const vial_multidict *md, const vial_str *a, const char *k, size_t n) {
    if (a->len != n) return false;
    if (!md->nocase) return memcmp(a->ptr, k, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (lower_ascii((unsigned char)a->ptr[i]) != lower_ascii((unsigned char)k[i])) return false;
    return true;
}

void vial_multidict_init(vial_multidict *md, vial_arena *a, bool nocase) {
    memset(md, 0, sizeof *md);
    md->arena = a;
    md->nocase = nocase;
}

/* The slot of key k: where it is, or the empty slot where it would go. */
static size_t slot_of(const vial_multidict *md, const char *k, size_t n) {
    size_t mask = md->slot_count - 1;
    size_t s = key_hash(md, k, n) & mask;
    while (md->slots[s] && !key_eq(md, &md->items[md->slots[s] - 1].key, k, n)) s = (s + 1) & mask;
    return s;
}

static void index_pair(vial_multidict *md, size_t i) {
    vial_pair *p = &md->items[i];
    size_t s = slot_of(md, p->key.ptr, p->key.len);
    md->next[i] = 0;
    if (!md->slots[s]) {
        md->slots[s] = (uint32_t)(i + 1);
    } else {
        md->next[md->last[s] - 1] = (uint32_t)(i + 1);
    }
    md->last[s] = (uint32_t)(i + 1);
}

/* (Re)builds the index with room for at least twice len keys. */
static int rebuild_index(vial_multidict *md) {
    size_t want = 64;
    while (want < md->len * 4) want *= 2;
    uint32_t *slots = vial_arena_calloc(md->arena, want * sizeof *slots);
    uint32_t *last = vial_arena_calloc(md->arena, want * sizeof *last);
    if (!slots || !last) return -1;
    md->slots = slots;
    md->last = last;
    md->slot_count = want;
    for (size_t i = 0; i < md->len; i++) index_pair(md, i);
    return 0;
}

static int grow(vial_multidict *md) {
    size_t ncap = md->cap ? md->cap * 2 : 8;
    if (ncap > UINT32_MAX - 1) return -1;
    vial_pair *items = vial_arena_alloc(md->arena, ncap * sizeof *items);
    uint32_t *next = vial_arena_alloc(md->arena, ncap * sizeof *next);
    if (!items || !next) return -1;
    if (md->len) {
        memcpy(items, md->items, md->len * sizeof *items);
        memcpy(next, md->next, md->len * sizeof *next);
    }
    md->items = items;
    md->next = next;
    md->cap = ncap;
    return 0;
}

int vial_multidict_add_ref(vial_multidict *md, const char *key, size_t key_len, const char *value, size_t value_len) {
    if (md->len == md->cap && grow(md) != 0) return -1;
    size_t i = md->len++;
    md->items[i] = (vial_pair){{key, key_len}, {value, value_len}};
    md->next[i] = 0;
    bool need_rebuild = md->slot_count ? md->len * 2 > md->slot_count : md->len >= INDEX_MIN;
    if (!need_rebuild) {
        if (md->slot_count) index_pair(md, i);
        return 0;
    }
    if (rebuild_index(md) != 0) {
        md->len--; /* the old index (if any) still describes the other pairs */
        return -1;
    }
    return 0;
}

int vial_multidict_add(vial_multidict *md, const char *key, size_t key_len, const char *value, size_t value_len) {
    char *k = vial_arena_strndup(md->arena, key, key_len);
    char *v = vial_arena_strndup(md->arena, value, value_len);
    if (!k || !v) return -1;
    return vial_multidict_add_ref(md, k, key_len, v, value_len);
}

/* Index + 1 of the first pair with the key, 0 when none. */
static size_t first_index(const vial_multidict *md, const char *key, size_t n) {
    if (md->slot_count) return md->slots[slot_of(md, key, n)];
    for (size_t i = 0; i < md->len; i++)
        if (key_eq(md, &md->items[i].key, key, n)) return i + 1;
    return 0;
}

/* Index + 1 of the next pair after i (0-based) with the same key, 0 when none. */
static size_t next_index(const vial_multidict *md, size_t i) {
    if (md->slot_count) return md->next[i];
    const vial_str *k = &md->items[i].key;
    for (size_t j = i + 1; j < md->len; j++)
        if (key_eq(md, &md->items[j].key, k->ptr, k->len)) return j + 1;
    return 0;
}

const vial_pair *vial_multidict_find(const vial_multidict *md, const char *key, size_t key_len) {
    size_t i = first_index(md, key, key_len);
    return i ? &md->items[i - 1] : NULL;
}

const char *vial_multidict_get(const vial_multidict *md, const char *key) {
    const vial_pair *p = vial_multidict_find(md, key, strlen(key));
    return p ? p->value.ptr : NULL;
}

size_t vial_multidict_count(const vial_multidict *md, const char *key) {
    size_t count = 0;
    for (size_t i = first_index(md, key, strlen(key)); i; i = next_index(md, i - 1)) count++;
    return count;
}

vial_strs vial_multidict_getlistn(const vial_multidict *md, const char *key, size_t key_len) {
    vial_strs out = {NULL, 0};
    size_t count = 0;
    for (size_t i = first_index(md, key, key_len); i; i = next_index(md, i - 1)) count++;
    if (!count) return out;
    const char **items = vial_arena_alloc(md->arena, count * sizeof *items);
    if (!items) return out;
    for (size_t i = first_index(md, key, key_len); i; i = next_index(md, i - 1))
        items[out.len++] = md->items[i - 1].value.ptr;
    out.items = items;
    return out;
}

vial_strs vial_multidict_getlist(const vial_multidict *md, const char *key) {
    return vial_multidict_getlistn(md, key, strlen(key));
}

static bool is_first_of_key(const vial_multidict *md, size_t i) {
    const vial_str *k = &md->items[i].key;
    return first_index(md, k->ptr, k->len) == i + 1;
}

vial_strs vial_multidict_keys(const vial_multidict *md) {
    vial_strs out = {NULL, 0};
    if (!md->len) return out;
    const char **items = vial_arena_alloc(md->arena, md->len * sizeof *items);
    if (!items) return out;
    for (size_t i = 0; i < md->len; i++)
        if (is_first_of_key(md, i)) items[out.len++] = md->items[i].key.ptr;
    out.items = items;
    return out;
}

const vial_pair *vial_multidict_items_multi(const vial_multidict *md) {
    vial_pair *out = vial_arena_alloc(md->arena, (md->len ? md->len : 1) * sizeof *out);
    if (!out) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < md->len; i++) {
        if (!is_first_of_key(md, i)) continue;
        for (size_t j = i + 1; j; j = next_index(md, j - 1)) out[n++] = md->items[j - 1];
    }
    return out;
}

/* Drops pairs [where keep is false], keeping the order; reindexes. */
static size_t compact_without(vial_multidict *md, const char *key, size_t n, size_t keep_index) {
    size_t w = 0, removed = 0;
    for (size_t r = 0; r < md->len; r++) {
        if (r != keep_index && key_eq(md, &md->items[r].key, key, n)) {
            removed++;
            continue;
        }
        md->items[w++] = md->items[r];
    }
    md->len = w;
    if (removed && md->slot_count) {
        /* Rebuilding cannot fail for lack of room: reuse the existing slots. */
        memset(md->slots, 0, md->slot_count * sizeof *md->slots);
        memset(md->last, 0, md->slot_count * sizeof *md->last);
        for (size_t i = 0; i < md->len; i++) index_pair(md, i);
    }
    return removed;
}

void vial_multidict_truncate(vial_multidict *md, size_t len) {
    if (len >= md->len) return;
    md->len = len;
    if (md->slot_count) {
        memset(md->slots, 0, md->slot_count * sizeof *md->slots);
        memset(md->last, 0, md->slot_count * sizeof *md->last);
        for (size_t i = 0; i < md->len; i++) index_pair(md, i);
    }
}

size_t vial_multidict_remove(vial_multidict *md, const char *key) {
    return compact_without(md, key, strlen(key), SIZE_MAX);
}

int vial_multidict_set(vial_multidict *md, const char *key, const char *value) {
    size_t n = strlen(key), vn = strlen(value);
    size_t first = first_index(md, key, n);
    if (!first) return vial_multidict_add(md, key, n, value, vn);
    char *v = vial_arena_strndup(md->arena, value, vn);
    if (!v) return -1;
    md->items[first - 1].value = (vial_str){v, vn};
    compact_without(md, key, n, first - 1);
    return 0;
}
