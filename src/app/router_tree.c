/* router_tree.c - the compiled rules: a tree of states walked by segment.
 *
 * This is Werkzeug 2.2's StateMachineMatcher. A state's static children sit
 * in an open-addressing hash table keyed by the segment text, so finding the
 * next state costs one hash and one compare whatever the number of rules.
 * Its dynamic children are tried after, in weight order (stable, so equal
 * weights keep registration order), each matching one segment or, when
 * final, everything left. The search is depth first with backtracking and
 * stops at the first state holding a rule whose methods fit; on the way it
 * gathers the methods of rules that matched the path but not the method
 * (for 405), and it stops everything when a branch rule wants the trailing
 * slash (Werkzeug raises SlashRequired there). The recursion is bounded by
 * the depth of the tree, not by the request.
 *
 * The common converters (string, int, float, uuid, any, path alone in a
 * segment) are matched by hand with exactly their regex's meaning (Python's
 * \d is any Unicode decimal digit); anything else runs the segment's PCRE2
 * regex. */
#include <string.h>

#include "app/router.h"


/* ---- static children ---- */

static route_state *static_find_hashed(const route_state *st, const char *seg, size_t len, uint64_t h) {
    size_t mask = st->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const static_slot *s = &st->slots[i];
        if (!s->next) return NULL;
        if (s->hash == h && s->len == len && memcmp(s->key, seg, len) == 0) return s->next;
    }
}

static route_state *static_find(const route_state *st, const char *seg, size_t len) {
    if (!len) return st->slash;
    if (!st->nstatic) return NULL;
    return static_find_hashed(st, seg, len, router_hash(seg, len));
}

/* Adds key -> next to an open-addressing table, growing it at 3/4 full. */
static int table_insert(vial_arena *a, static_slot **slotsp, size_t *nslotsp, size_t *countp, const char *key,
                        size_t len, route_state *next) {
    if ((*countp + 1) * 4 > *nslotsp * 3) {
        size_t nslots = *nslotsp ? *nslotsp * 2 : 4;
        static_slot *slots = vial_arena_calloc(a, nslots * sizeof *slots);
        if (!slots) return -1;
        for (size_t i = 0; i < *nslotsp; i++) {
            static_slot *s = &(*slotsp)[i];
            if (!s->next) continue;
            size_t j = s->hash & (nslots - 1);
            while (slots[j].next) j = (j + 1) & (nslots - 1);
            slots[j] = *s;
        }
        *slotsp = slots;
        *nslotsp = nslots;
    }
    uint64_t h = router_hash(key, len);
    size_t j = h & (*nslotsp - 1);
    while ((*slotsp)[j].next) j = (j + 1) & (*nslotsp - 1);
    (*slotsp)[j] = (static_slot){key, len, h, next};
    (*countp)++;
    return 0;
}

static int static_insert(vial_arena *a, route_state *st, const char *key, size_t len, route_state *next) {
    return table_insert(a, &st->slots, &st->nslots, &st->nstatic, key, len, next);
}

const route_state *router_flat_find(const vial_router *r, const char *path, size_t len) {
    if (!(r->flat_lengths & (1ull << (len & 63)))) return NULL;
    uint64_t h = router_hash(path, len);
    size_t mask = r->flat_slots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const static_slot *s = &r->flat[i];
        if (!s->next) return NULL;
        if (s->hash == h && s->len == len && memcmp(s->key, path, len) == 0) return s->next;
    }
}

/* ---- weights and identity ---- */

static int cmp_int(int x, int y) { return x < y ? -1 : x > y; }

/* Python's comparison of two Weighting tuples. */
static int weight_cmp(const route_weight *x, const route_weight *y) {
    int c = cmp_int(x->nstatic, y->nstatic);
    if (c) return c;
    for (size_t i = 0; i < x->nstatics_len && i < y->nstatics_len; i++) {
        if ((c = cmp_int(x->statics[i][0], y->statics[i][0])) || (c = cmp_int(x->statics[i][1], y->statics[i][1])))
            return c;
    }
    if ((c = cmp_int(x->nstatics_len > y->nstatics_len, y->nstatics_len > x->nstatics_len))) return c;
    if ((c = cmp_int(x->nargs, y->nargs))) return c;
    for (size_t i = 0; i < x->nargs_len && i < y->nargs_len; i++)
        if ((c = cmp_int(x->args[i], y->args[i]))) return c;
    return cmp_int(x->nargs_len > y->nargs_len, y->nargs_len > x->nargs_len);
}

/* Werkzeug's RulePart equality: same content, flags and weight. */
static bool part_equal(const route_part *x, const route_part *y) {
    return x->is_static == y->is_static && x->final == y->final && x->content_len == y->content_len &&
           memcmp(x->content, y->content, x->content_len) == 0 && weight_cmp(&x->weight, &y->weight) == 0;
}

static void free_code(void *code) { pcre2_code_free(code); }

static route_state *new_state(vial_arena *a) { return vial_arena_calloc(a, sizeof(route_state)); }

int router_tree_insert(vial_router *r, route_rule *rule, route_part **parts, size_t nparts) {
    vial_arena *a = r->arena;
    route_state *st = r->root;
    /* the whole path of an all-static rule: its parts joined by '/' ("" "about" -> "/about") */
    vial_buf flat;
    vial_buf_init(&flat, a, 0);
    bool all_static = true;
    for (size_t i = 0; i < nparts && all_static; i++) {
        all_static = parts[i]->is_static;
        if (all_static && ((i && vial_buf_putc(&flat, '/') != 0) ||
                           vial_buf_append(&flat, parts[i]->content, parts[i]->content_len) != 0))
            return -1;
    }
    for (size_t i = 0; i < nparts; i++) {
        route_part *p = parts[i];
        route_state *next = NULL;
        if (p->is_static) {
            next = static_find(st, p->content, p->content_len);
            if (!next) {
                if (!(next = new_state(a))) return -1;
                if (p->content_len == 0)
                    st->slash = next;
                else if (static_insert(a, st, p->content, p->content_len, next) != 0)
                    return -1;
            }
        } else {
            for (size_t k = 0; k < st->ndyn && !next; k++)
                if (part_equal(st->dyn[k].part, p)) next = st->dyn[k].next;
            if (next) {
                /* shares an existing part: this copy's regex is not needed */
                if (p->re) pcre2_code_free(p->re);
                p->re = NULL;
            } else {
                if (!(next = new_state(a))) return -1;
                if (router_grow(a, (void **)&st->dyn, &st->capdyn, st->ndyn + 1, sizeof *st->dyn) != 0) return -1;
                if (p->re && vial_arena_defer(a, free_code, p->re) != 0) return -1;
                size_t at = st->ndyn;
                while (at > 0 && weight_cmp(&p->weight, &st->dyn[at - 1].part->weight) < 0) at--;
                memmove(st->dyn + at + 1, st->dyn + at, (st->ndyn - at) * sizeof *st->dyn);
                st->dyn[at] = (route_edge){p, next};
                st->ndyn++;
            }
        }
        parts[i] = NULL; /* consumed: its regex is owned by the tree or freed */
        st = next;
    }
    if (router_grow(a, (void **)&st->rules, &st->caprules, st->nrules + 1, sizeof *st->rules) != 0) return -1;
    st->rules[st->nrules++] = rule;
    if (all_static && st->nrules == 1 &&
        table_insert(a, &r->flat, &r->flat_slots, &r->nflat, flat.data ? flat.data : "", flat.len, st) != 0)
        return -1;
    if (all_static) r->flat_lengths |= 1ull << (flat.len & 63);
    return 0;
}

/* ---- segment scan ---- */

/* Finds the end of the segment at s (the next '/') and computes router_hash
 * of it in the same pass, eight bytes at a time. */
static size_t segment_scan(const char *s, size_t n, uint64_t *hash) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull, slashes = 0x2f2f2f2f2f2f2f2full;
    uint64_t h = 0x9e3779b97f4a7c15ull;
    size_t i = 0;
    for (;;) {
        size_t avail = n - i;
        uint64_t w = 0;
        if (avail >= 8)
            memcpy(&w, s + i, 8);
        else
            for (size_t k = 0; k < avail; k++) w |= (uint64_t)(unsigned char)s[i + k] << (8 * k);
        uint64_t x = w ^ slashes; /* a zero byte where w has '/'; padding bytes become 0x2f */
        uint64_t found = (x - ones) & ~x & highs;
        size_t take = avail < 8 ? avail : 8;
        if (found) {
            size_t k = (size_t)__builtin_ctzll(found) / 8;
            if (k < take) take = k, avail = k; /* the segment ends inside this word */
        }
        if (take) {
            if (take < 8) w &= (1ull << (8 * take)) - 1;
            h = (h ^ w) * 0xff51afd7ed558ccdull;
            h ^= h >> 32;
        }
        i += take;
        if (take < 8 || i == n) break;
    }
    h = (h ^ i) * 0xc4ceb9fe1a85ec53ull;
    *hash = h ^ (h >> 29);
    return i;
#else
    const char *slash = memchr(s, '/', n);
    size_t len = slash ? (size_t)(slash - s) : n;
    *hash = router_hash(s, len);
    return len;
#endif
}

/* ---- segment matchers ---- */

/* Reads Unicode decimal digits from s[*i..n); returns how many. */
static size_t digits(const char *s, size_t n, size_t *i) {
    size_t count = 0;
    while (*i < n) {
        unsigned char c = (unsigned char)s[*i];
        if (c < 0x80) {
            if (c < '0' || c > '9') break;
            (*i)++;
        } else {
            uint32_t cp;
            size_t k = vial_utf8_decode(s + *i, n - *i, &cp);
            if (!k || router_nd_value(cp) < 0) break;
            *i += k;
        }
        count++;
    }
    return count;
}

static bool hexdigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static bool match_uuid(const char *s, size_t n) {
    if (n != 36) return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !hexdigit(s[i])) return false;
    }
    return true;
}

static bool push_value(tree_search *s, const char *p, size_t n) {
    if (s->nvalues >= s->capvalues) return false; /* cannot happen: sized to the deepest rule */
    s->values[s->nvalues++] = (vial_str){p, n};
    return true;
}

/* Matches one part against target; pushes its groups on success. */
static bool match_part(tree_search *s, const route_part *p, const char *t, size_t n) {
    if (p->matcher != PM_REGEX && (p->prefix_len || p->suffix_len)) {
        size_t fixed = p->prefix_len + p->suffix_len;
        if (n < fixed || memcmp(t, p->prefix, p->prefix_len) != 0 ||
            memcmp(t + n - p->suffix_len, p->suffix, p->suffix_len) != 0)
            return false;
        t += p->prefix_len;
        n -= fixed;
    }
    switch (p->matcher) {
    case PM_STRING: {
        size_t cps = 0;
        for (size_t i = 0; i < n; i++) cps += ((unsigned char)t[i] & 0xC0) != 0x80;
        if (cps < (size_t)p->minlen || (p->maxlen >= 0 && cps > (size_t)p->maxlen)) return false;
        return push_value(s, t, n);
    }
    case PM_INT:
    case PM_FLOAT: {
        size_t i = 0;
        if (p->is_signed && i < n && t[i] == '-') i++;
        if (!digits(t, n, &i)) return false;
        if (p->matcher == PM_FLOAT) {
            if (i >= n || t[i] != '.') return false;
            i++;
            if (!digits(t, n, &i)) return false;
        }
        return i == n && push_value(s, t, n);
    }
    case PM_UUID: return match_uuid(t, n) && push_value(s, t, n);
    case PM_ANY:
        for (size_t k = 0; k < p->nitems; k++)
            if (strlen(p->items[k]) == n && memcmp(p->items[k], t, n) == 0) return push_value(s, t, n);
        return false;
    case PM_PATH: {
        /* [^/].*?\Z : one code point that is not '/', then no newline */
        if (n == 0 || t[0] == '/') return false;
        size_t first = 1;
        while (first < n && ((unsigned char)t[first] & 0xC0) == 0x80) first++;
        if (memchr(t + first, '\n', n - first)) return false;
        return push_value(s, t, n);
    }
    case PM_REGEX: {
        if (!s->md && router_regex_resources(s->router->max_ovector, &s->md, &s->mctx) != 0) {
            s->oom = true;
            return false;
        }
        /* the subject is valid UTF-8 (the path was decoded with replacement) */
        int rc = p->jit ? pcre2_jit_match(p->re, (PCRE2_SPTR)t, n, 0, 0, s->md, s->mctx)
                        : pcre2_match(p->re, (PCRE2_SPTR)t, n, 0, PCRE2_NO_UTF_CHECK, s->md, s->mctx);
        if (rc <= 0) {
            if (rc != PCRE2_ERROR_NOMATCH) s->oom = rc == PCRE2_ERROR_NOMEMORY || s->oom;
            return false;
        }
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        for (int g = 1; g <= p->ngroups; g++) {
            bool set = g < rc && ov[2 * g] != PCRE2_UNSET;
            if (!push_value(s, set ? t + ov[2 * g] : NULL, set ? ov[2 * g + 1] - ov[2 * g] : 0)) return false;
        }
        return true;
    }
    }
    return false;
}

/* ---- the search ---- */

static bool method_fits(const tree_search *s, const route_rule *rule) {
    return rule->any_method || (s->method & rule->match_methods);
}

/* pos <= len: the parts left are path[pos..len] split on '/'; pos == len + 1: none left. */
static tree_result walk(tree_search *s, const route_state *st, size_t pos) {
    if (pos > s->len) {
        for (size_t i = 0; i < st->nrules; i++) {
            route_rule *rule = st->rules[i];
            if (method_fits(s, rule)) {
                s->rule = rule;
                return TREE_FOUND;
            }
            s->allowed |= rule->match_methods;
        }
        /* a branch rule "/x/" exists for "/x": redirect (strict) or take it */
        const route_state *slash = st->slash;
        if (slash)
            for (size_t i = 0; i < slash->nrules; i++) {
                route_rule *rule = slash->rules[i];
                if (!method_fits(s, rule)) continue;
                if (rule->info.strict_slashes) return TREE_SLASH;
                s->rule = rule;
                return TREE_FOUND;
            }
        return TREE_NONE;
    }
    const char *seg = s->path + pos;
    uint64_t h;
    size_t seglen = segment_scan(seg, s->len - pos, &h);
    size_t next = pos + seglen < s->len ? pos + seglen + 1 : s->len + 1;

    const route_state *child = !seglen ? st->slash : st->nstatic ? static_find_hashed(st, seg, seglen, h) : NULL;
    if (child) {
        tree_result r = walk(s, child, next);
        if (r != TREE_NONE) return r;
    }
    for (size_t k = 0; k < st->ndyn; k++) {
        const route_edge *e = &st->dyn[k];
        size_t mark = s->nvalues;
        bool final = e->part->final;
        if (match_part(s, e->part, seg, final ? s->len - pos : seglen)) {
            tree_result r = walk(s, e->next, final ? s->len + 1 : next);
            if (r != TREE_NONE) return r;
        }
        s->nvalues = mark;
        if (s->oom) return TREE_NONE;
    }
    if (pos == s->len) {
        /* only a trailing slash is left: non-strict rules of this state take it */
        for (size_t i = 0; i < st->nrules; i++) {
            route_rule *rule = st->rules[i];
            if (rule->info.strict_slashes) continue;
            if (method_fits(s, rule)) {
                s->rule = rule;
                return TREE_FOUND;
            }
            s->allowed |= rule->match_methods;
        }
    }
    return TREE_NONE;
}

tree_result router_tree_search(tree_search *s) {
    s->rule = NULL;
    s->nvalues = 0;
    return walk(s, s->router->root, 0);
}
