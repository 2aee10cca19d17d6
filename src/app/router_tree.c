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

static route_state *static_find(const route_state *st, const char *seg, size_t len) {
    if (!st->nstatic) return NULL;
    uint64_t h = router_hash(seg, len);
    size_t mask = st->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const static_slot *s = &st->slots[i];
        if (!s->next) return NULL;
        if (s->hash == h && s->len == len && memcmp(s->key, seg, len) == 0) return s->next;
    }
}

static int static_insert(vial_arena *a, route_state *st, const char *key, size_t len, route_state *next) {
    if ((st->nstatic + 1) * 4 > st->nslots * 3) {
        size_t nslots = st->nslots ? st->nslots * 2 : 4;
        static_slot *slots = vial_arena_calloc(a, nslots * sizeof *slots);
        if (!slots) return -1;
        for (size_t i = 0; i < st->nslots; i++) {
            static_slot *s = &st->slots[i];
            if (!s->next) continue;
            size_t j = s->hash & (nslots - 1);
            while (slots[j].next) j = (j + 1) & (nslots - 1);
            slots[j] = *s;
        }
        st->slots = slots;
        st->nslots = nslots;
    }
    uint64_t h = router_hash(key, len);
    size_t j = h & (st->nslots - 1);
    while (st->slots[j].next) j = (j + 1) & (st->nslots - 1);
    st->slots[j] = (static_slot){key, len, h, next};
    st->nstatic++;
    return 0;
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
    for (size_t i = 0; i < nparts; i++) {
        route_part *p = parts[i];
        route_state *next = NULL;
        if (p->is_static) {
            next = static_find(st, p->content, p->content_len);
            if (!next) {
                if (!(next = new_state(a)) || static_insert(a, st, p->content, p->content_len, next) != 0) return -1;
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
    return 0;
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
        int rc = pcre2_match(p->re, (PCRE2_SPTR)t, n, 0, PCRE2_NO_UTF_CHECK, s->md, s->mctx);
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
        const route_state *slash = static_find(st, "", 0);
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
    const char *slash_at = memchr(seg, '/', s->len - pos);
    size_t seglen = slash_at ? (size_t)(slash_at - seg) : s->len - pos;
    size_t next = slash_at ? pos + seglen + 1 : s->len + 1;

    const route_state *child = static_find(st, seg, seglen);
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
