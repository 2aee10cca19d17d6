/* router_rule.c - reading rule text such as "/goods/<float:cid>/<uuid:gid>".
 *
 * The grammar is Werkzeug's: a rule starts with '/', and between slashes
 * come literal text and placeholders <name>, <conv:name> or
 * <conv(args):name> (names [a-zA-Z_][a-zA-Z0-9_]*). Each '/'-separated
 * segment becomes one part of the tree: static text when it has no
 * placeholder, else one anchored regex made of the escaped literal text and
 * each converter's regex in a capture group. A converter that may span
 * slashes (path) makes its part final: the rest of the rule joins that
 * regex. Each part carries Werkzeug's weight, which orders the dynamic
 * parts at one position. The same pass records the pieces used to build
 * URLs back (literal text quoted as Werkzeug quotes it). Errors name the
 * rule and the byte offset of the problem. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/router.h"

static void rule_error(vial_route_error *err, const char *text, size_t pos, const char *fmt, ...)
    VIAL_PRINTF(4, 5);

static void rule_error(vial_route_error *err, const char *text, size_t pos, const char *fmt, ...) {
    if (!err) return;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    err->position = pos;
    snprintf(err->message, sizeof err->message, "rule '%s' at offset %zu: %s", text, pos, what);
}

static bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

/* Length of an identifier at s[i..n), 0 when none. */
static size_t ident_len(const char *s, size_t i, size_t n) {
    if (i >= n || !ident_start(s[i])) return 0;
    size_t k = i + 1;
    while (k < n && ident_char(s[k])) k++;
    return k - i;
}

typedef struct placeholder {
    size_t conv_at, conv_len; /* converter name; conv_len 0 = default */
    size_t args_at, args_len;
    bool has_args;
    size_t var_at, var_len;
    size_t end; /* just past '>' */
} placeholder;

/* Reads <...> at s[i] == '<' the way Werkzeug's rule regex does. */
static bool read_placeholder(const char *s, size_t i, size_t n, placeholder *ph) {
    memset(ph, 0, sizeof *ph);
    size_t c = ident_len(s, i + 1, n);
    if (c) {
        size_t k = i + 1 + c;
        if (k < n && s[k] == '(') {
            /* arguments: the shortest text up to a "):name>" that completes the placeholder */
            for (size_t j = k + 1; j < n && s[j] != '\n'; j++) {
                if (s[j] != ')' || j + 1 >= n || s[j + 1] != ':') continue;
                size_t v = ident_len(s, j + 2, n);
                if (v && j + 2 + v < n && s[j + 2 + v] == '>') {
                    *ph = (placeholder){.conv_at = i + 1, .conv_len = c, .has_args = true, .args_at = k + 1,
                                        .args_len = j - k - 1, .var_at = j + 2, .var_len = v, .end = j + 3 + v};
                    return true;
                }
            }
        } else if (k < n && s[k] == ':') {
            size_t v = ident_len(s, k + 1, n);
            if (v && k + 1 + v < n && s[k + 1 + v] == '>') {
                *ph = (placeholder){.conv_at = i + 1, .conv_len = c, .var_at = k + 1, .var_len = v, .end = k + 2 + v};
                return true;
            }
        }
        if (i + 1 + c < n && s[i + 1 + c] == '>') {
            *ph = (placeholder){.var_at = i + 1, .var_len = c, .end = i + 2 + c};
            return true;
        }
    }
    return false;
}

/* The part being assembled between two slashes. */
typedef struct part_builder {
    vial_buf content;
    bool is_static, final;
    int statics[64][2];
    size_t nstatics;
    int args[64];
    size_t nargs;
    long single_conv; /* the only converter of the part, or -1 */
    size_t nconvs;
    vial_buf prefix, suffix; /* raw literal text before and after the first converter */
    size_t start; /* rule offset where the part began, for messages */
} part_builder;

static int escape_into(vial_buf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                     c >= 0x80;
        if ((!plain && vial_buf_putc(b, '\\') != 0) || vial_buf_putc(b, c) != 0) return -1;
    }
    return 0;
}

static void part_reset(part_builder *pb, vial_arena *a, size_t start) {
    vial_buf_init(&pb->content, a, 0);
    pb->is_static = true;
    pb->final = false;
    pb->nstatics = pb->nargs = pb->nconvs = 0;
    pb->single_conv = -1;
    vial_buf_init(&pb->prefix, a, 0);
    vial_buf_init(&pb->suffix, a, 0);
    pb->start = start;
}

static size_t code_points(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

static part_matcher native_matcher(const conv_inst *in) {
    switch (in->kind) {
    case CONV_STRING: return PM_STRING;
    case CONV_INT: return PM_INT;
    case CONV_FLOAT: return PM_FLOAT;
    case CONV_UUID: return PM_UUID;
    case CONV_ANY: return PM_ANY;
    case CONV_PATH: return PM_PATH;
    default: return PM_REGEX;
    }
}

/* Turns the builder into a tree part. */
static route_part *part_finish(vial_router *r, part_builder *pb, const conv_inst *convs, const char *text,
                               vial_route_error *err) {
    vial_arena *a = r->arena;
    if (!pb->is_static && vial_buf_puts(&pb->content, "\\Z") != 0) return NULL;
    route_part *p = vial_arena_calloc(a, sizeof *p);
    if (!p) return NULL;
    p->content = vial_arena_strndup(a, pb->content.data ? pb->content.data : "", pb->content.len);
    if (!p->content) return NULL;
    p->content_len = pb->content.len;
    p->is_static = pb->is_static;
    p->final = pb->final;
    p->weight.nstatic = -(int)pb->nstatics;
    p->weight.nargs = -(int)pb->nargs;
    p->weight.nstatics_len = pb->nstatics;
    p->weight.nargs_len = pb->nargs;
    if (pb->nstatics) {
        p->weight.statics = vial_arena_alloc(a, pb->nstatics * sizeof *p->weight.statics);
        if (!p->weight.statics) return NULL;
        memcpy(p->weight.statics, pb->statics, pb->nstatics * sizeof *p->weight.statics);
    }
    if (pb->nargs) {
        p->weight.args = vial_arena_alloc(a, pb->nargs * sizeof *p->weight.args);
        if (!p->weight.args) return NULL;
        memcpy(p->weight.args, pb->args, pb->nargs * sizeof *p->weight.args);
    }
    if (p->is_static) return p;
    p->matcher = PM_REGEX;
    if (pb->single_conv >= 0) {
        /* literal text around one converter: the split is fixed, so the
         * converter's own matcher can check the middle */
        const conv_inst *in = &convs[pb->single_conv];
        p->matcher = native_matcher(in);
        p->prefix = pb->prefix.len ? vial_arena_strndup(a, pb->prefix.data, pb->prefix.len) : "";
        p->suffix = pb->suffix.len ? vial_arena_strndup(a, pb->suffix.data, pb->suffix.len) : "";
        if (!p->prefix || !p->suffix) return NULL;
        p->prefix_len = pb->prefix.len;
        p->suffix_len = pb->suffix.len;
        p->minlen = in->minlen;
        p->maxlen = in->maxlen;
        p->is_signed = in->is_signed;
        p->items = in->items;
        p->nitems = in->nitems;
        p->ngroups = 1;
    }
    if (p->matcher == PM_REGEX) {
        size_t off;
        char msg[200];
        p->re = router_regex_compile(p->content, p->content_len, true, &off, msg, sizeof msg);
        if (!p->re) {
            rule_error(err, text, pb->start, "the segment's regex '%s' does not compile: %s", p->content, msg);
            return NULL;
        }
        uint32_t captures = 0;
        size_t jit_size = 0;
        pcre2_pattern_info(p->re, PCRE2_INFO_CAPTURECOUNT, &captures);
        p->jit = pcre2_pattern_info(p->re, PCRE2_INFO_JITSIZE, &jit_size) == 0 && jit_size > 0;
        p->ngroups = (int)captures;
        if (captures + 1 > r->max_ovector) r->max_ovector = captures + 1;
    }
    return p;
}

static const conv_entry *find_converter(const vial_router *r, const char *name, size_t len) {
    for (size_t i = r->nconvs; i-- > 0;)
        if (strlen(r->convs[i].name) == len && memcmp(r->convs[i].name, name, len) == 0) return &r->convs[i];
    return NULL;
}

int router_parse_rule(vial_router *r, const char *text, parsed_rule *out, vial_route_error *err) {
    vial_arena *a = r->arena;
    size_t n = strlen(text);
    memset(out, 0, sizeof *out);
    size_t bad = vial_utf8_invalid_offset(text, n);
    if (bad < n) {
        rule_error(err, text, bad, "the rule is not valid UTF-8");
        return -1;
    }
    if (n == 0 || text[0] != '/') {
        rule_error(err, text, 0, "a rule must start with '/'");
        return -1;
    }
    size_t capconv = 0, cappieces = 0, capparts = 0;
    part_builder *pb = calloc(1, sizeof *pb);
    if (!pb) return -1;
    part_reset(pb, a, 0);
    int rc = -1;
    vial_buf lit; /* quoted literal text for building, flushed before each converter */
    vial_buf_init(&lit, a, 0);

#define PUSH(arr, count, cap, item)                                                                                   \
    do {                                                                                                               \
        if (router_grow(a, (void **)&(arr), &(cap), (count) + 1, sizeof *(arr)) != 0) goto oom;                      \
        (arr)[(count)++] = (item);                                                                                     \
    } while (0)

    size_t i = 0;
    while (i <= n) {
        bool at_end = i == n;
        if (at_end || text[i] == '/') {
            if (!at_end) {
                if (vial_buf_putc(&lit, '/') != 0) goto oom;
            }
            if (!at_end && pb->final) {
                if (vial_buf_putc(&pb->content, '/') != 0 || vial_buf_putc(&pb->suffix, '/') != 0) goto oom;
            } else {
                route_part *p = part_finish(r, pb, out->convs, text, err);
                if (!p) goto fail_or_oom;
                PUSH(out->parts, out->nparts, capparts, p);
                part_reset(pb, a, i + 1);
            }
            if (at_end) break;
            /* Werkzeug merges "//" pairs in rules (merge_slashes) */
            i += r->merge_slashes && i + 1 < n && text[i + 1] == '/' ? 2 : 1;
            continue;
        }
        if (text[i] != '<') {
            size_t k = i;
            while (k < n && text[k] != '<' && text[k] != '/') k++;
            if (pb->nstatics >= 64) {
                rule_error(err, text, i, "too many pieces in one segment");
                goto fail;
            }
            pb->statics[pb->nstatics][0] = (int)pb->nstatics;
            pb->statics[pb->nstatics][1] = -(int)code_points(text + i, k - i);
            pb->nstatics++;
            if (pb->is_static ? vial_buf_append(&pb->content, text + i, k - i) != 0
                              : escape_into(&pb->content, text + i, k - i) != 0)
                goto oom;
            if (vial_buf_append(pb->nconvs ? &pb->suffix : &pb->prefix, text + i, k - i) != 0) goto oom;
            if (router_quote(&lit, text + i, k - i, "/:|+") != 0) goto oom;
            i = k;
            continue;
        }
        placeholder ph;
        if (!read_placeholder(text, i, n, &ph)) {
            const char *close = memchr(text + i, '>', n - i);
            if (!close)
                rule_error(err, text, i, "'<' opens a placeholder that is never closed with '>'");
            else
                rule_error(err, text, i,
                           "malformed placeholder '%.*s': expected <name>, <converter:name> or "
                           "<converter(arguments):name> with names made of letters, digits and '_'",
                           (int)(close - (text + i) + 1), text + i);
            goto fail;
        }
        for (size_t c = 0; c < out->nconv; c++)
            if (strlen(out->convs[c].var) == ph.var_len && memcmp(out->convs[c].var, text + ph.var_at, ph.var_len) == 0) {
                rule_error(err, text, ph.var_at, "the variable '%.*s' is used twice", (int)ph.var_len,
                           text + ph.var_at);
                goto fail;
            }
        const char *cname = ph.conv_len ? text + ph.conv_at : "default";
        size_t clen = ph.conv_len ? ph.conv_len : 7;
        const conv_entry *entry = find_converter(r, cname, clen);
        if (!entry) {
            rule_error(err, text, ph.conv_at, "the converter '%.*s' does not exist", (int)clen, cname);
            goto fail;
        }
        vial_value *args = NULL, *kwargs = NULL;
        char msg[200];
        size_t badoff;
        if (router_parse_args(a, ph.has_args ? text + ph.args_at : "", ph.has_args ? ph.args_len : 0, &args, &kwargs,
                              &badoff, msg, sizeof msg) != 0) {
            rule_error(err, text, ph.args_at + badoff, "converter '%.*s': %s", (int)clen, cname, msg);
            goto fail;
        }
        conv_inst inst;
        memset(&inst, 0, sizeof inst);
        inst.var = vial_arena_strndup(a, text + ph.var_at, ph.var_len);
        if (!inst.var) goto oom;
        if (router_conv_setup(a, &inst, entry, args, kwargs, msg, sizeof msg) != 0) {
            rule_error(err, text, ph.conv_len ? ph.conv_at : ph.var_at, "%s", msg);
            goto fail;
        }
        if (inst.kind == CONV_USER) {
            /* check the converter's own regex alone, for a message that points at it */
            size_t off;
            pcre2_code *code = router_regex_compile(inst.regex, strlen(inst.regex), false, &off, msg, sizeof msg);
            if (!code) {
                /* point into the rule where the regex text is, when it is there verbatim */
                size_t pos = ph.has_args ? ph.args_at : ph.conv_at;
                const char *found = ph.has_args ? memmem(text + ph.args_at, ph.args_len, inst.regex, strlen(inst.regex))
                                                : NULL;
                if (found) pos = (size_t)(found - text) + off;
                rule_error(err, text, pos, "converter '%.*s': bad regex '%s' at offset %zu: %s", (int)clen, cname,
                           inst.regex, off, msg);
                goto fail;
            }
            pcre2_code_free(code);
        }
        long index = (long)out->nconv;
        PUSH(out->convs, out->nconv, capconv, inst);
        /* the tree part */
        if (pb->is_static) {
            vial_buf escaped;
            vial_buf_init(&escaped, a, 0);
            if (escape_into(&escaped, pb->content.data ? pb->content.data : "", pb->content.len) != 0) goto oom;
            pb->content = escaped;
            pb->is_static = false;
        }
        if (!inst.part_isolating) pb->final = true;
        if (vial_buf_putc(&pb->content, '(') != 0 || vial_buf_puts(&pb->content, inst.regex) != 0 ||
            vial_buf_putc(&pb->content, ')') != 0)
            goto oom;
        if (pb->nargs >= 64) {
            rule_error(err, text, i, "too many converters in one segment");
            goto fail;
        }
        pb->args[pb->nargs++] = inst.weight;
        pb->single_conv = pb->nconvs++ == 0 ? index : -1;
        /* the build pieces: flush the literal, then the converter */
        if (lit.len) {
            build_piece piece = {vial_arena_strndup(a, lit.data, lit.len), lit.len, -1};
            if (!piece.text) goto oom;
            PUSH(out->pieces, out->npieces, cappieces, piece);
            vial_buf_init(&lit, a, 0);
        }
        build_piece piece = {NULL, 0, index};
        PUSH(out->pieces, out->npieces, cappieces, piece);
        i = ph.end;
    }
    if (lit.len) {
        build_piece piece = {vial_arena_strndup(a, lit.data, lit.len), lit.len, -1};
        if (!piece.text) goto oom;
        PUSH(out->pieces, out->npieces, cappieces, piece);
    }
    rc = 0;
    goto done;
#undef PUSH
oom:
    rule_error(err, text, 0, "out of memory");
    goto done;
fail_or_oom:
    if (err && !err->message[0]) rule_error(err, text, 0, "out of memory");
fail:
done:
    free(pb);
    return rc;
}
