/* router.c - the URL map: converters by name, rules, endpoints.
 *
 * Adding a rule (Werkzeug's Map.add, Flask's add_url_rule) parses it,
 * checks it against what is registered, then inserts it into the tree and
 * into its endpoint's list in build order. Everything that can refuse a rule
 * runs before anything is inserted, so a refused rule leaves no trace. Two
 * refusals go beyond Werkzeug, as the issue asks: a rule text registered
 * twice for a common method (the second could never match), and Flask's
 * "View function mapping is overwriting an existing endpoint function". All
 * memory comes from the router's arena and is released with the router. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/router.h"

#define KNOWN_METHODS                                                                                                  \
    (VIAL_GET | VIAL_HEAD | VIAL_POST | VIAL_PUT | VIAL_DELETE | VIAL_PATCH | VIAL_OPTIONS | VIAL_TRACE | VIAL_CONNECT)

int router_grow(vial_arena *a, void **items, size_t *cap, size_t need, size_t item_size) {
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    while (ncap < need) ncap *= 2;
    void *p = vial_arena_grow(a, *items, *cap * item_size, ncap * item_size);
    if (!p) return -1;
    *items = p;
    *cap = ncap;
    return 0;
}

/* The multiply-xorshift mix of one 8-byte chunk; router_tree.c's segment scan
 * computes the same hash while it looks for the next '/'. */
uint64_t router_hash(const char *s, size_t n) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, s + i, n - i);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    h = (h ^ n) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

static void set_error(vial_route_error *err, size_t pos, const char *fmt, ...) VIAL_PRINTF(3, 4);

static void set_error(vial_route_error *err, size_t pos, const char *fmt, ...) {
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->position = pos;
}

/* Registers a converter by name. A user converter is copied (with its regex)
 * into the router, and a replacement gets a fresh copy: rules added before
 * keep the converter they were compiled with, as Werkzeug's rules keep
 * their converter objects. */
static int add_converter(vial_router *r, const char *name, conv_kind kind, const vial_converter *user) {
    vial_converter *copy = NULL;
    if (user) {
        copy = vial_arena_alloc(r->arena, sizeof *copy);
        if (!copy) return -1;
        *copy = *user;
        if (user->regex && !(copy->regex = vial_arena_strdup(r->arena, user->regex))) return -1;
    }
    for (size_t i = 0; i < r->nconvs; i++)
        if (strcmp(r->convs[i].name, name) == 0) {
            r->convs[i].kind = kind;
            r->convs[i].user = copy;
            return 0;
        }
    if (router_grow(r->arena, (void **)&r->convs, &r->capconvs, r->nconvs + 1, sizeof *r->convs) != 0) return -1;
    conv_entry *e = &r->convs[r->nconvs];
    memset(e, 0, sizeof *e);
    e->name = vial_arena_strdup(r->arena, name);
    if (!e->name) return -1;
    e->kind = kind;
    e->user = copy;
    r->nconvs++;
    return 0;
}

vial_router *vial_router_new(void) {
    vial_router *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->arena = vial_arena_new(64 * 1024);
    if (!r->arena) goto fail;
    r->strict_slashes = r->merge_slashes = r->redirect_defaults = true;
    r->root = vial_arena_calloc(r->arena, sizeof *r->root);
    if (!r->root) goto fail;
    r->ep_slots = 64;
    r->ep_table = vial_arena_calloc(r->arena, r->ep_slots * sizeof *r->ep_table);
    if (!r->ep_table) goto fail;
    if (add_converter(r, "default", CONV_STRING, NULL) || add_converter(r, "string", CONV_STRING, NULL) ||
        add_converter(r, "any", CONV_ANY, NULL) || add_converter(r, "path", CONV_PATH, NULL) ||
        add_converter(r, "int", CONV_INT, NULL) || add_converter(r, "float", CONV_FLOAT, NULL) ||
        add_converter(r, "uuid", CONV_UUID, NULL) || add_converter(r, "re", CONV_USER, &router_re_converter))
        goto fail;
    return r;
fail:
    vial_router_free(r);
    return NULL;
}

void vial_router_free(vial_router *r) {
    if (!r) return;
    if (r->arena) vial_arena_free(r->arena);
    free(r);
}

void vial_router_set_options(vial_router *r, bool strict_slashes, bool merge_slashes, bool redirect_defaults) {
    r->strict_slashes = strict_slashes;
    r->merge_slashes = merge_slashes;
    r->redirect_defaults = redirect_defaults;
}

int vial_router_converter(vial_router *r, const char *name, const vial_converter *conv, vial_route_error *err) {
    if (err) memset(err, 0, sizeof *err);
    size_t n = name ? strlen(name) : 0;
    bool ok = n > 0 && conv;
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i && c >= '0' && c <= '9');
    }
    if (!ok) {
        set_error(err, 0, "converter name '%s' is not made of letters, digits and '_'", name ? name : "(null)");
        return -1;
    }
    if (conv->regex) {
        size_t off;
        char msg[200];
        pcre2_code *code = router_regex_compile(conv->regex, strlen(conv->regex), false, &off, msg, sizeof msg);
        if (!code) {
            set_error(err, off, "converter '%s': bad regex '%s' at offset %zu: %s", name, conv->regex, off, msg);
            return -1;
        }
        pcre2_code_free(code);
    }
    if (add_converter(r, name, CONV_USER, conv) != 0) {
        set_error(err, 0, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- endpoints ---- */

route_endpoint *router_endpoint_find(const vial_router *r, const char *name, size_t len) {
    uint64_t h = router_hash(name, len);
    for (route_endpoint *e = r->ep_table[h & (r->ep_slots - 1)]; e; e = e->hnext)
        if (strlen(e->name) == len && memcmp(e->name, name, len) == 0) return e;
    return NULL;
}

static route_endpoint *endpoint_create(vial_router *r, const char *name) {
    if (r->nendpoints + 1 > r->ep_slots) {
        size_t nslots = r->ep_slots * 2;
        route_endpoint **table = vial_arena_calloc(r->arena, nslots * sizeof *table);
        if (!table) return NULL;
        for (size_t i = 0; i < r->nendpoints; i++) {
            route_endpoint *e = r->endpoints[i];
            size_t slot = router_hash(e->name, strlen(e->name)) & (nslots - 1);
            e->hnext = table[slot];
            table[slot] = e;
        }
        r->ep_table = table;
        r->ep_slots = nslots;
    }
    if (router_grow(r->arena, (void **)&r->endpoints, &r->capendpoints, r->nendpoints + 1, sizeof *r->endpoints))
        return NULL;
    route_endpoint *e = vial_arena_calloc(r->arena, sizeof *e);
    if (!e) return NULL;
    e->name = vial_arena_strdup(r->arena, name);
    if (!e->name) return NULL;
    e->order = r->nendpoints;
    r->endpoints[r->nendpoints++] = e;
    size_t slot = router_hash(name, strlen(name)) & (r->ep_slots - 1);
    e->hnext = r->ep_table[slot];
    r->ep_table[slot] = e;
    return e;
}

/* Werkzeug's build_compare_key: more arguments first, then more defaults. */
static bool builds_before(const route_rule *x, const route_rule *y) {
    if (x->narguments != y->narguments) return x->narguments > y->narguments;
    return x->ndefaults > y->ndefaults;
}

static int endpoint_add_rule(vial_router *r, route_endpoint *e, route_rule *rule) {
    if (router_grow(r->arena, (void **)&e->rules, &e->caprules, e->nrules + 1, sizeof *e->rules) != 0) return -1;
    size_t at = e->nrules;
    while (at > 0 && builds_before(rule, e->rules[at - 1])) at--;
    memmove(e->rules + at + 1, e->rules + at, (e->nrules - at) * sizeof *e->rules);
    e->rules[at] = rule;
    e->nrules++;
    return 0;
}

/* ---- adding rules ---- */

static void free_part_codes(parsed_rule *pr) {
    for (size_t i = 0; i < pr->nparts; i++)
        if (pr->parts[i] && pr->parts[i]->re) {
            pcre2_code_free(pr->parts[i]->re);
            pr->parts[i]->re = NULL;
        }
}

static void method_list(char *out, size_t size, const route_rule *rule) {
    if (rule->any_method)
        snprintf(out, size, "every method");
    else
        vial_methods_format(out, size, rule->own_methods);
}

/* Checks redirect_to's <name> placeholders against the rule's converters. */
static int check_redirect_to(const char *target, const parsed_rule *pr, const char *rule_text, vial_route_error *err) {
    for (const char *p = strchr(target, '<'); p; p = strchr(p + 1, '<')) {
        const char *close = strchr(p, '>');
        if (!close) break;
        size_t len = (size_t)(close - p - 1);
        bool found = false;
        for (size_t i = 0; i < pr->nconv && !found; i++)
            found = strlen(pr->convs[i].var) == len && memcmp(pr->convs[i].var, p + 1, len) == 0;
        if (!found) {
            set_error(err, 0, "rule '%s': redirect_to '%s' names <%.*s>, which is not a variable of the rule",
                      rule_text, target, (int)len, p + 1);
            return -1;
        }
    }
    return 0;
}

int vial_router_add(vial_router *r, const vial_rule_spec *spec, vial_route_error *err) {
    if (err) memset(err, 0, sizeof *err);
    if (!spec || !spec->rule) {
        set_error(err, 0, "a rule needs its text");
        return -1;
    }
    const char *text = spec->rule;
    if (!spec->endpoint || !spec->endpoint[0] || !vial_utf8_valid(spec->endpoint, strlen(spec->endpoint))) {
        set_error(err, 0, "rule '%s': the endpoint name must be a non-empty UTF-8 string", text);
        return -1;
    }
    const char *endpoint = spec->endpoint;
    unsigned given = spec->methods ? spec->methods : VIAL_GET;
    bool any = (given & VIAL_ANY_METHOD) != 0;
    if (!any && (given & ~KNOWN_METHODS)) {
        set_error(err, 0, "rule '%s': unknown method bits 0x%x", text, given & ~KNOWN_METHODS);
        return -1;
    }
    unsigned own = any ? 0 : given;
    if (own & VIAL_GET) own |= VIAL_HEAD;
    bool auto_options = !any && !spec->no_auto_options && !(own & VIAL_OPTIONS);
    unsigned match = own | (auto_options ? VIAL_OPTIONS : 0);
    if (spec->defaults && spec->defaults->type != VIAL_OBJECT) {
        set_error(err, 0, "rule '%s': defaults must be an object", text);
        return -1;
    }
    if (spec->strict_slashes < VIAL_SLASHES_DEFAULT || spec->strict_slashes > VIAL_SLASHES_LOOSE) {
        set_error(err, 0, "rule '%s': strict_slashes must be one of VIAL_SLASHES_*", text);
        return -1;
    }

    /* refusals that need no parsing */
    route_endpoint *ep = router_endpoint_find(r, endpoint, strlen(endpoint));
    if (ep && ep->handler && spec->handler && ep->handler != spec->handler) {
        set_error(err, 0, "View function mapping is overwriting an existing endpoint function: %s", endpoint);
        return -1;
    }
    for (size_t i = 0; i < r->nrules; i++) {
        const route_rule *old = r->rules[i];
        if (strcmp(old->info.rule, text) != 0) continue;
        if (!(any || old->any_method || (old->own_methods & own))) continue;
        char a[96], b[96];
        method_list(a, sizeof a, old);
        if (any)
            snprintf(b, sizeof b, "every method");
        else
            vial_methods_format(b, sizeof b, own);
        set_error(err, 0,
                  "rule '%s' (%s) for endpoint '%s' duplicates the rule registered for endpoint '%s' (%s): "
                  "it could never match",
                  text, b, endpoint, old->info.endpoint, a);
        return -1;
    }

    parsed_rule pr;
    if (router_parse_rule(r, text, &pr, err) != 0) {
        free_part_codes(&pr);
        return -1;
    }
    route_rule *rule = vial_arena_calloc(r->arena, sizeof *rule);
    if (!rule) goto oom;
    rule->convs = pr.convs;
    rule->nconv = pr.nconv;
    rule->pieces = pr.pieces;
    rule->npieces = pr.npieces;
    rule->any_method = any;
    rule->own_methods = own;
    rule->match_methods = match;

    /* defaults: a copy that lives with the router */
    vial_value *defaults = NULL;
    if (spec->defaults && vial_len(spec->defaults)) {
        vial_arena *a = r->arena;
        defaults = vial_value_copy(a, spec->defaults);
        if (!defaults) goto oom;
        rule->ndefaults = vial_len(defaults);
    }
    /* arguments: converter names, then defaults keys not already there */
    size_t maxargs = pr.nconv + rule->ndefaults;
    rule->arguments = vial_arena_alloc(r->arena, (maxargs ? maxargs : 1) * sizeof *rule->arguments);
    if (!rule->arguments) goto oom;
    for (size_t i = 0; i < pr.nconv; i++) rule->arguments[rule->narguments++] = pr.convs[i].var;
    for (size_t i = 0; i < rule->ndefaults; i++) {
        const char *key = defaults->as.obj.items[i].key;
        bool dup = false;
        for (size_t k = 0; k < pr.nconv && !dup; k++) dup = strcmp(pr.convs[k].var, key) == 0;
        if (!dup) rule->arguments[rule->narguments++] = key;
    }
    /* a converter with a default builds as a constant (Werkzeug resolves it ahead of time) */
    for (size_t i = 0; i < rule->npieces; i++) {
        build_piece *piece = &rule->pieces[i];
        if (piece->conv < 0) continue;
        const conv_inst *in = &rule->convs[piece->conv];
        const vial_value *dv = vial_object_get(defaults, in->var);
        if (!dv) continue;
        vial_buf b;
        vial_buf_init(&b, r->arena, 0);
        char msg[256];
        int rc = router_conv_to_url(&b, in, dv, msg, sizeof msg);
        if (rc == -1) {
            set_error(err, 0, "rule '%s': the default of '%s' cannot be put in a URL: %s", text, in->var, msg);
            free_part_codes(&pr);
            return -1;
        }
        if (rc != 0) goto oom;
        piece->text = b.data ? b.data : "";
        piece->len = b.len;
        piece->conv = -1;
    }
    if (spec->redirect_to && check_redirect_to(spec->redirect_to, &pr, text, err) != 0) {
        free_part_codes(&pr);
        return -1;
    }

    /* accepted: from here on only memory can fail */
    const char **argv = NULL;
    if (pr.nconv) {
        argv = vial_arena_alloc(r->arena, pr.nconv * sizeof *argv);
        if (!argv) goto oom;
        for (size_t i = 0; i < pr.nconv; i++) argv[i] = pr.convs[i].var;
    }
    if (!ep && !(ep = endpoint_create(r, endpoint))) goto oom;
    if (!ep->handler && spec->handler) {
        ep->handler = spec->handler;
        for (size_t i = 0; i < ep->nrules; i++) ep->rules[i]->info.handler = ep->handler;
    }
    rule->ep = ep;
    rule->info = (vial_rule_info){
        .rule = vial_arena_strdup(r->arena, text),
        .endpoint = ep->name,
        .methods = any ? VIAL_ANY_METHOD : match,
        .auto_options = auto_options,
        .strict_slashes = spec->strict_slashes == VIAL_SLASHES_DEFAULT ? r->strict_slashes
                                                                       : spec->strict_slashes == VIAL_SLASHES_STRICT,
        .handler = ep->handler,
        .defaults = defaults,
        .redirect_to = spec->redirect_to ? vial_arena_strdup(r->arena, spec->redirect_to) : NULL,
        .argc = pr.nconv,
        .argv = argv,
        .index = r->nrules,
    };
    if (!rule->info.rule || (spec->redirect_to && !rule->info.redirect_to)) goto oom;
    for (size_t i = 0; i < pr.nparts; i++) rule->nvalues += (size_t)pr.parts[i]->ngroups;
    if (router_grow(r->arena, (void **)&r->rules, &r->caprules, r->nrules + 1, sizeof *r->rules) != 0) goto oom;
    if (endpoint_add_rule(r, ep, rule) != 0) goto oom;
    if (router_tree_insert(r, rule, pr.parts, pr.nparts) != 0) goto oom;
    r->rules[r->nrules++] = rule;
    if (rule->nvalues > r->max_values) r->max_values = rule->nvalues;
    return 0;
oom:
    free_part_codes(&pr);
    set_error(err, 0, "rule '%s': out of memory", text);
    return -1;
}

size_t vial_router_count(const vial_router *r) { return r->nrules; }

const vial_rule_info *vial_router_rule(const vial_router *r, size_t i) {
    return i < r->nrules ? &r->rules[i]->info : NULL;
}

const vial_rule_info *const *vial_router_endpoint_rules(const vial_router *r, const char *endpoint, size_t *count) {
    route_endpoint *e = endpoint ? router_endpoint_find(r, endpoint, strlen(endpoint)) : NULL;
    *count = e ? e->nrules : 0;
    if (!e) return NULL;
    /* vial_rule_info is the first member of route_rule */
    return (const vial_rule_info *const *)e->rules;
}
