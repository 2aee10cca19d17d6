/* options_header.c - Werkzeug 2.2's parse_options_header: the value and
 * parameters of Content-Type and Content-Disposition headers.
 *
 * Werkzeug matches two regular expressions against the header (as text, so
 * \s is Python's Unicode whitespace); the hand-written matcher below follows
 * the path those expressions take, including their quirks, because the
 * multipart parser must name fields and files exactly as Flask does:
 *   - the media type ends at ';', ',' or whitespace, and parameters are only
 *     read when ';' or ',' follows it immediately ("text/html ;a=b" has none);
 *   - a parameter is ';' [ws] [','] [ws] key ['*' digits] [ws] then either
 *     '*' [ws] '=' [ws] [charset "'" language "'"] value  (RFC 2231)  or
 *     '=' [ws] value, where key and value are a complete quoted string or a
 *     run of characters up to ';' or ',' (trailing spaces included);
 *   - parsing stops at the first piece that does not fit;
 *   - values are unquoted the way browsers quote (\\ then \" replaced; a
 *     filename starting with \\ is a UNC path and stays as is);
 *   - key*N continuations are concatenated, a later key replaces an earlier
 *     one ("filename" and "filename*": the later wins), names are lowercased.
 * An RFC 2231 value is percent-decoded and decoded strictly with its charset;
 * failing that is an error (Werkzeug raises). */
#include <string.h>

#include "app/forms.h"

typedef struct cps {
    const uint32_t *c;
    size_t n;
} cps;

static bool is_ws(const cps *s, size_t i) { return i < s->n && vial_py_isspace(s->c[i]); }
static size_t skip_ws(const cps *s, size_t i) {
    while (is_ws(s, i)) i++;
    return i;
}
static bool at(const cps *s, size_t i, uint32_t ch) { return i < s->n && s->c[i] == ch; }

/* End (past the closing quote) of "[^"\\]*(?:\\.[^"\\]*)*" at i, or 0. */
static size_t quoted_end(const cps *s, size_t i) {
    if (!at(s, i, '"')) return 0;
    for (size_t j = i + 1; j < s->n;) {
        if (s->c[j] == '"') return j + 1;
        if (s->c[j] == '\\') {
            if (j + 1 >= s->n || s->c[j + 1] == '\n') return 0;
            j += 2;
        } else {
            j++;
        }
    }
    return 0;
}

static int put_cps(vial_buf *b, const cps *s, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) {
        char enc[4];
        if (vial_buf_append(b, enc, vial_utf8_encode(s->c[i], enc)) != 0) return -1;
    }
    return 0;
}

/* Werkzeug's unquote_header_value on cps[from..to), appended as UTF-8. */
static int unquote_value(vial_buf *out, const cps *s, size_t from, size_t to, bool is_filename) {
    if (to > from && s->c[from] == '"' && s->c[to - 1] == '"') {
        from++;
        to = to > from ? to - 1 : from;
        if (is_filename && to - from >= 2 && s->c[from] == '\\' && s->c[from + 1] == '\\')
            return put_cps(out, s, from, to);
        /* value.replace("\\\\", "\\") then .replace('\\"', '"'), both left to right */
        vial_buf first;
        vial_buf_init(&first, NULL, 0);
        int rc = 0;
        for (size_t i = from; i < to && rc == 0; i++) {
            char enc[4];
            if (s->c[i] == '\\' && i + 1 < to && s->c[i + 1] == '\\') i++;
            rc = vial_buf_append(&first, enc, vial_utf8_encode(s->c[i], enc));
        }
        for (size_t i = 0; rc == 0 && i < first.len; i++) {
            if (first.data[i] == '\\' && i + 1 < first.len && first.data[i + 1] == '"') i++;
            rc = vial_buf_putc(out, first.data[i]);
        }
        vial_buf_free(&first);
        return rc;
    }
    return put_cps(out, s, from, to);
}

typedef struct piece {
    size_t key_from, key_to;
    bool has_count;
    bool has_encoding;
    size_t enc_from, enc_to;
    bool has_value;
    size_t val_from, val_to;
    size_t end;
} piece;

/* Matches one parameter at i (which must be ';'); false when it does not fit. */
static bool match_piece(const cps *s, size_t i, piece *p) {
    memset(p, 0, sizeof *p);
    if (!at(s, i, ';')) return false;
    i = skip_ws(s, i + 1);
    if (at(s, i, ',')) i++;
    i = skip_ws(s, i);
    size_t q = quoted_end(s, i);
    if (q) {
        p->key_from = i;
        p->key_to = i = q;
    } else {
        size_t j = i;
        while (j < s->n && !vial_py_isspace(s->c[j]) && s->c[j] != ';' && s->c[j] != ',' && s->c[j] != '=' &&
               s->c[j] != '*')
            j++;
        if (j == i) return false;
        p->key_from = i;
        p->key_to = i = j;
    }
    if (at(s, i, '*') && i + 1 < s->n && s->c[i + 1] >= '0' && s->c[i + 1] <= '9') {
        p->has_count = true;
        i += 2;
        while (i < s->n && s->c[i] >= '0' && s->c[i] <= '9') i++;
    }
    i = skip_ws(s, i);
    bool value_may_follow = false;
    if (at(s, i, '*')) {
        size_t j = skip_ws(s, i + 1);
        if (at(s, j, '=')) {
            i = skip_ws(s, j + 1);
            value_may_follow = true;
            /* (?P<encoding>[^\s]+?)'(?P<language>[^\s]*?)' : both lazy */
            for (size_t e = i + 1; e < s->n && !vial_py_isspace(s->c[e - 1]); e++) {
                if (s->c[e] != '\'') continue;
                size_t l = e + 1;
                while (l < s->n && !vial_py_isspace(s->c[l]) && s->c[l] != '\'') l++;
                if (at(s, l, '\'')) {
                    p->has_encoding = true;
                    p->enc_from = i;
                    p->enc_to = e;
                    i = l + 1;
                    break;
                }
            }
        }
    } else if (at(s, i, '=')) {
        i = skip_ws(s, i + 1);
        value_may_follow = true;
    }
    if (value_may_follow) {
        q = quoted_end(s, i);
        size_t j = q;
        if (!q) {
            j = i;
            while (j < s->n && s->c[j] != ';' && s->c[j] != ',') j++;
        }
        if (j > i) {
            p->has_value = true;
            p->val_from = i;
            p->val_to = i = j;
        }
    }
    p->end = skip_ws(s, i);
    return true;
}

static int set_param(vial_arena *a, vial_options_header *out, size_t *cap, const char *name, const char *value,
                     bool append) {
    if (append && !value) return 0; /* a continuation without value changes nothing */
    for (size_t i = 0; i < out->param_count; i++) {
        if (strcmp(out->params[i].name, name) != 0) continue;
        if (append && value) {
            if (!out->params[i].value) return -2; /* Werkzeug: None + str raises TypeError */
            value = vial_arena_sprintf(a, "%s%s", out->params[i].value, value);
            if (!value) return -1;
        }
        out->params[i].value = value;
        return 0;
    }
    if (out->param_count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        vial_header_param *np = vial_arena_alloc(a, ncap * sizeof *np);
        if (!np) return -1;
        if (out->param_count) memcpy(np, out->params, out->param_count * sizeof *np);
        out->params = np;
        *cap = ncap;
    }
    out->params[out->param_count++] = (vial_header_param){name, value};
    return 0;
}

int vial_parse_options_header(vial_arena *a, const char *text, size_t n, int flags, vial_options_header *out,
                              vial_form_error *err) {
    memset(out, 0, sizeof *out);
    out->value = "";
    /* "," + value.replace("\n", ","), as code points */
    uint32_t *c = vial_arena_alloc(a, (n + 1) * sizeof *c);
    if (!c) return vial_form_fail(err, 500, "out of memory while parsing a header");
    size_t count = 0;
    c[count++] = ',';
    for (size_t i = 0; i < n;) {
        uint32_t cp = vial_next_cp(text, n, &i, flags & VIAL_OPTIONS_LATIN1);
        c[count++] = cp == '\n' ? ',' : cp;
    }
    cps s = {c, count};
    size_t i = skip_ws(&s, 1);
    size_t mt_from = i;
    while (i < s.n && s.c[i] != ';' && s.c[i] != ',' && !vial_py_isspace(s.c[i])) i++;
    if (i == mt_from) return 0;
    vial_buf b;
    vial_buf_init(&b, a, 0);
    if (put_cps(&b, &s, mt_from, i) != 0) return vial_form_fail(err, 500, "out of memory while parsing a header");
    out->value = b.data;
    /* ([;,]\s*.+)? : parameters only when ';' or ',' follows right away */
    if (!(i + 1 < s.n && (s.c[i] == ';' || s.c[i] == ','))) return 0;
    size_t cap = 0;
    bool continued = false;
    size_t cont_from = 0, cont_to = 0;
    piece p;
    while (i < s.n && match_piece(&s, i, &p)) {
        i = p.end;
        /* the charset of key*N continuations carries over from the first piece */
        size_t enc_from = p.enc_from, enc_to = p.enc_to;
        bool has_enc = p.has_encoding;
        if (!p.has_count) {
            continued = false;
        } else {
            if (!has_enc && continued) has_enc = true, enc_from = cont_from, enc_to = cont_to;
            continued = has_enc;
            cont_from = enc_from, cont_to = enc_to;
        }
        vial_buf name_buf;
        vial_buf_init(&name_buf, a, 0);
        if (unquote_value(&name_buf, &s, p.key_from, p.key_to, false) != 0 || vial_buf_putc(&name_buf, 0) != 0)
            return vial_form_fail(err, 500, "out of memory while parsing a header");
        for (size_t k = 0; k < name_buf.len; k++)
            if (name_buf.data[k] >= 'A' && name_buf.data[k] <= 'Z') name_buf.data[k] += 32;
        const char *name = name_buf.data;
        const char *value = NULL;
        if (p.has_value) {
            vial_buf vb;
            vial_buf_init(&vb, a, 0);
            if (unquote_value(&vb, &s, p.val_from, p.val_to, strcmp(name, "filename") == 0) != 0 ||
                vial_buf_putc(&vb, 0) != 0)
                return vial_form_fail(err, 500, "out of memory while parsing a header");
            vb.len--;
            value = vb.data;
            if (has_enc) {
                vial_buf enc;
                vial_buf_init(&enc, a, 0);
                if (put_cps(&enc, &s, enc_from, enc_to) != 0 || vial_buf_putc(&enc, 0) != 0)
                    return vial_form_fail(err, 500, "out of memory while parsing a header");
                vial_charset cs = vial_charset_lookup(enc.data, enc.len - 1);
                if (cs == VIAL_CHARSET_UNKNOWN)
                    return vial_form_fail(err, 400, "unknown charset '%.40s' in header parameter '%.40s'", enc.data,
                                          name);
                vial_buf raw, text_buf;
                vial_buf_init(&raw, NULL, 0);
                vial_buf_init(&text_buf, a, 0);
                int rc = vial_percent_decode(&raw, vb.data, vb.len, false);
                if (rc == 0) rc = vial_charset_decode(&text_buf, cs, raw.data, raw.len, true);
                if (rc == 0) rc = vial_buf_putc(&text_buf, 0);
                vial_buf_free(&raw);
                if (rc == -2)
                    return vial_form_fail(err, 400, "header parameter '%.40s' is not valid %.40s", name, enc.data);
                if (rc != 0) return vial_form_fail(err, 500, "out of memory while parsing a header");
                value = text_buf.data;
            }
        }
        int rc = set_param(a, out, &cap, name, value, p.has_count);
        if (rc == -2)
            return vial_form_fail(err, 400, "header parameter '%.40s' continues a parameter without value", name);
        if (rc != 0) return vial_form_fail(err, 500, "out of memory while parsing a header");
    }
    return 0;
}

const char *vial_options_get(const vial_options_header *h, const char *name) {
    for (size_t i = 0; i < h->param_count; i++)
        if (strcmp(h->params[i].name, name) == 0) return h->params[i].value;
    return NULL;
}
