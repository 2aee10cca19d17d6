/* libFuzzer target: the router's rule parser, matcher and URL builder.
 *
 * The input is lines: "R<rule>" adds a rule (methods from the line's
 * length, endpoints cycling through a few names), "M<path>" matches a raw
 * path with a query, "B<endpoint> <value>" builds a URL, "O<path>" asks for
 * the allowed methods. Invariants: no crash, no leak, every Location and
 * every built URL is valid UTF-8 (a built URL without spaces, unless the
 * value had one: see check_text), a found rule's handler and
 * endpoint are consistent, and a refused rule says why. */
#include <stdint.h>
#include <string.h>

#include "vial.h"

static vial_value *list_value(vial_arena *a, const char *text, size_t len, void *state) {
    (void)state;
    return len % 7 == 3 ? NULL : vial_new_strn(a, text, len);
}

static const vial_converter odd_converter = {.regex = "[a-z]+(?:-[a-z]+)*", .to_value = list_value};

/* A built URL is UTF-8, and a space in it can only be the value's own: the
 * uuid converter puts str(value) in unquoted, as Werkzeug does. */
static void check_text(const char *s, const char *value) {
    if (!s || !vial_utf8_valid(s, strlen(s))) __builtin_trap();
    if (strchr(s, ' ') && !(value && strchr(value, ' '))) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    static const char *endpoints[] = {"index", "user", "files", "a.b", "x"};
    vial_router *r = vial_router_new();
    vial_arena *a = vial_arena_new(4096);
    vial_arena_set_limit(a, 1 << 20);
    if (!r || !a) __builtin_trap();
    vial_router_converter(r, "odd", &odd_converter, NULL);
    const char *p = (const char *)data, *end = p + size;
    int rules = 0;
    char line[1024];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0 && len < sizeof line) {
            memcpy(line, p, len);
            line[len] = '\0';
            char kind = line[0];
            char *arg = line + 1;
            if (kind == 'R' && rules < 64 && !memchr(line, 0, len)) {
                unsigned methods = (len % 3 == 0) ? VIAL_ANY_METHOD : (len % 3 == 1 ? VIAL_GET : VIAL_POST | VIAL_PUT);
                vial_value *defaults = len % 5 == 0 ? vial_pack_in(a, "{s:i}", "page", 1) : NULL;
                vial_rule_spec spec = {.rule = arg, .endpoint = endpoints[rules % 5], .methods = methods,
                                       .defaults = defaults, .strict_slashes = (int)(len % 3)};
                vial_route_error err;
                if (vial_router_add(r, &spec, &err) == 0)
                    rules++;
                else if (!err.message[0])
                    __builtin_trap();
            } else if (kind == 'M' || kind == 'O') {
                const char *q = memchr(arg, '?', len - 1);
                size_t plen = q ? (size_t)(q - arg) : len - 1;
                vial_route_request rq = {.method = 1u << (len % 10), .path = {arg, plen},
                                         .query = {q ? q + 1 : "", q ? len - 2 - plen : 0},
                                         .host = VIAL_STR("localhost"), .script_root = VIAL_STR("/app")};
                if (kind == 'O') {
                    vial_router_allowed_methods(r, a, rq.path, len % 2);
                } else {
                    vial_route_match m;
                    if (vial_router_match(r, a, &rq, &m) == 0) {
                        if (m.status == VIAL_ROUTE_REDIRECT) {
                            if (!m.location || m.redirect_code != 308) __builtin_trap();
                            /* a raw query may carry spaces through unchanged only when it is ASCII-safe */
                            if (!vial_utf8_valid(m.location, strlen(m.location))) __builtin_trap();
                        } else if (m.status == VIAL_ROUTE_FOUND) {
                            if (!m.rule || strcmp(m.endpoint, m.rule->endpoint) != 0) __builtin_trap();
                        } else if (m.status == VIAL_ROUTE_METHOD_NOT_ALLOWED && !m.allowed) {
                            __builtin_trap();
                        }
                    }
                }
            } else if (kind == 'B') {
                char *space = strchr(arg, ' ');
                vial_value *values = vial_new_object(a);
                if (space) {
                    *space = '\0';
                    const char *names[] = {"name", "id", "p", "page", "q"};
                    vial_object_set(values, names[len % 5], vial_new_str(a, space + 1));
                    vial_object_set(values, names[(len + 1) % 5], vial_new_int(a, (int64_t)len - 500));
                }
                vial_url_opts opts = {.script_root = "/r", .external = (int)(len % 3), .host = "h",
                                      .anchor = len % 2 ? arg : NULL};
                vial_url_error err;
                char *url = vial_router_build(r, a, arg, values, &opts, &err);
                if (url)
                    check_text(url, space ? space + 1 : NULL);
                else if (!err.message[0])
                    __builtin_trap();
            }
        }
        vial_arena_reset(a);
        if (!nl) break;
        p = nl + 1;
    }
    for (size_t i = 0; i < vial_router_count(r); i++)
        if (!vial_router_rule(r, i)->rule) __builtin_trap();
    vial_router_free(r);
    vial_arena_free(a);
    return 0;
}
