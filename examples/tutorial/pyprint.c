/* pyprint.c - Python's repr() for the things the course prints.
 *
 * Not part of vial: a helper of this example, so that a lesson's console
 * shows what the course's console shows and a reader can compare them line
 * by line (tests/unit/test_tutorial.c does exactly that). The rules are
 * Python's: single quotes unless the text holds a ' and no ", backslash
 * escapes for quotes, \t \n \r and control characters, bytes outside
 * printable ASCII as \xNN; printable non-ASCII text is shown as is. (Python
 * also escapes a few rarer non-printable code points, such as U+2028, which
 * these helpers show as \uXXXX too; exotic ones may differ.) */
#include <stdio.h>
#include <string.h>

#include "pyprint.h"

const char *py_none(const char *s) { return s ? s : "None"; }
const char *py_bool(bool b) { return b ? "True" : "False"; }

static char quote_for(const char *s, size_t n) {
    bool single = memchr(s, '\'', n) != NULL, dbl = memchr(s, '"', n) != NULL;
    return single && !dbl ? '"' : '\'';
}

/* Code points Python's str.isprintable() refuses among those a form or JSON may carry. */
static bool unprintable(uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
           (cp >= 0xd800 && cp <= 0xdfff);
}

static void put_str_repr(vial_buf *b, const char *s, size_t n) {
    char q = quote_for(s, n);
    vial_buf_putc(b, q);
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = vial_utf8_decode(s + i, n - i, &cp);
        if (len == 0) { /* not UTF-8: cannot come from vial's decoders, shown as bytes */
            vial_buf_printf(b, "\\x%02x", (unsigned char)s[i]);
            i++;
            continue;
        }
        if (cp == (uint32_t)q || cp == '\\') {
            vial_buf_putc(b, '\\');
            vial_buf_putc(b, (int)cp);
        } else if (cp == '\t') {
            vial_buf_puts(b, "\\t");
        } else if (cp == '\n') {
            vial_buf_puts(b, "\\n");
        } else if (cp == '\r') {
            vial_buf_puts(b, "\\r");
        } else if (unprintable(cp)) {
            if (cp <= 0xff)
                vial_buf_printf(b, "\\x%02x", (unsigned)cp);
            else
                vial_buf_printf(b, "\\u%04x", (unsigned)cp);
        } else {
            vial_buf_append(b, s + i, len);
        }
        i += len;
    }
    vial_buf_putc(b, q);
}

static vial_buf new_buf(vial_req *rq) {
    vial_buf b;
    vial_buf_init(&b, vial_req_arena(rq), 0);
    return b;
}

const char *py_str(vial_req *rq, const char *s) {
    if (!s) return "None";
    vial_buf b = new_buf(rq);
    put_str_repr(&b, s, strlen(s));
    return vial_buf_cstr(&b);
}

const char *py_bytes(vial_req *rq, vial_str bytes) {
    vial_buf b = new_buf(rq);
    char q = quote_for(bytes.ptr ? bytes.ptr : "", bytes.len);
    vial_buf_putc(&b, 'b');
    vial_buf_putc(&b, q);
    for (size_t i = 0; i < bytes.len; i++) {
        unsigned char c = (unsigned char)bytes.ptr[i];
        if (c == (unsigned char)q || c == '\\')
            vial_buf_printf(&b, "\\%c", c);
        else if (c == '\t')
            vial_buf_puts(&b, "\\t");
        else if (c == '\n')
            vial_buf_puts(&b, "\\n");
        else if (c == '\r')
            vial_buf_puts(&b, "\\r");
        else if (c < 0x20 || c >= 0x7f)
            vial_buf_printf(&b, "\\x%02x", c);
        else
            vial_buf_putc(&b, c);
    }
    vial_buf_putc(&b, q);
    return vial_buf_cstr(&b);
}

const char *py_list(vial_req *rq, vial_strs items) {
    vial_buf b = new_buf(rq);
    vial_buf_putc(&b, '[');
    for (size_t i = 0; i < items.len; i++) {
        if (i) vial_buf_puts(&b, ", ");
        put_str_repr(&b, items.items[i], strlen(items.items[i]));
    }
    vial_buf_putc(&b, ']');
    return vial_buf_cstr(&b);
}

const char *py_multidict(vial_req *rq, const vial_multidict *md) {
    vial_buf b = new_buf(rq);
    vial_buf_puts(&b, "ImmutableMultiDict([");
    /* Werkzeug's repr lists items(multi=True): grouped by key, keys in first-seen order. */
    const vial_pair *pairs = md->len ? vial_multidict_items_multi(md) : NULL;
    for (size_t i = 0; pairs && i < md->len; i++) {
        if (i) vial_buf_puts(&b, ", ");
        vial_buf_putc(&b, '(');
        put_str_repr(&b, pairs[i].key.ptr, pairs[i].key.len);
        vial_buf_puts(&b, ", ");
        put_str_repr(&b, pairs[i].value.ptr, pairs[i].value.len);
        vial_buf_putc(&b, ')');
    }
    vial_buf_puts(&b, "])");
    return vial_buf_cstr(&b);
}

static void put_file(vial_buf *b, const vial_file *f) {
    vial_buf_puts(b, "<FileStorage: ");
    put_str_repr(b, f->filename, strlen(f->filename));
    vial_buf_puts(b, " (");
    if (f->content_type)
        put_str_repr(b, f->content_type, strlen(f->content_type));
    else
        vial_buf_puts(b, "None");
    vial_buf_puts(b, ")>");
}

const char *py_file(vial_req *rq, const vial_file *file) {
    if (!file) return "None";
    vial_buf b = new_buf(rq);
    put_file(&b, file);
    return vial_buf_cstr(&b);
}

const char *py_files(vial_req *rq, const vial_files *files) {
    vial_buf b = new_buf(rq);
    vial_buf_puts(&b, "ImmutableMultiDict([");
    /* grouped by field name, fields in first-seen order, as the MultiDict keeps them */
    bool first = true;
    for (size_t i = 0; i < files->len; i++) {
        const char *field = files->items[i]->field;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) seen = strcmp(files->items[k]->field, field) == 0;
        if (seen) continue;
        for (size_t k = i; k < files->len; k++) {
            if (strcmp(files->items[k]->field, field) != 0) continue;
            if (!first) vial_buf_puts(&b, ", ");
            first = false;
            vial_buf_putc(&b, '(');
            put_str_repr(&b, field, strlen(field));
            vial_buf_puts(&b, ", ");
            put_file(&b, files->items[k]);
            vial_buf_putc(&b, ')');
        }
    }
    vial_buf_puts(&b, "])");
    return vial_buf_cstr(&b);
}

const char *py_file_list(vial_req *rq, vial_files files) {
    vial_buf b = new_buf(rq);
    vial_buf_putc(&b, '[');
    for (size_t i = 0; i < files.len; i++) {
        if (i) vial_buf_puts(&b, ", ");
        put_file(&b, files.items[i]);
    }
    vial_buf_putc(&b, ']');
    return vial_buf_cstr(&b);
}

static void put_value(vial_buf *b, const vial_value *v) {
    switch (v->type) {
    case VIAL_NULL: vial_buf_puts(b, "None"); break;
    case VIAL_BOOL: vial_buf_puts(b, v->as.b ? "True" : "False"); break;
    case VIAL_INT: vial_buf_put_i64(b, v->as.i); break;
    case VIAL_DOUBLE: {
        char text[VIAL_DOUBLE_BUFSIZE];
        vial_buf_append(b, text, vial_format_double(text, v->as.d));
        break;
    }
    case VIAL_STRING: put_str_repr(b, v->as.s.ptr, v->as.s.len); break;
    case VIAL_ARRAY:
        vial_buf_putc(b, '[');
        for (size_t i = 0; i < v->as.arr.len; i++) {
            if (i) vial_buf_puts(b, ", ");
            put_value(b, v->as.arr.items[i]);
        }
        vial_buf_putc(b, ']');
        break;
    case VIAL_OBJECT:
        vial_buf_putc(b, '{');
        for (size_t i = 0; i < v->as.obj.len; i++) {
            if (i) vial_buf_puts(b, ", ");
            put_str_repr(b, v->as.obj.items[i].key, v->as.obj.items[i].key_len);
            vial_buf_puts(b, ": ");
            put_value(b, v->as.obj.items[i].value);
        }
        vial_buf_putc(b, '}');
        break;
    default: vial_buf_puts(b, "?");
    }
}

const char *py_value(vial_req *rq, const vial_value *v) {
    if (!v) return "None";
    vial_buf b = new_buf(rq);
    put_value(&b, v);
    return vial_buf_cstr(&b);
}

const char *py_headers(vial_req *rq) {
    vial_buf b = new_buf(rq);
    const vial_value *headers = vial_headers(rq);
    for (size_t i = 0; i < headers->as.obj.len; i++)
        vial_buf_printf(&b, "%s: %s\r\n", headers->as.obj.items[i].key, vial_str_of(headers->as.obj.items[i].value));
    vial_buf_puts(&b, "\r\n");
    return vial_buf_cstr(&b);
}

const char *py_address(vial_req *rq, const char *address) {
    const char *colon = address ? strrchr(address, ':') : NULL;
    if (!colon) return "None";
    const char *host = address;
    size_t host_len = (size_t)(colon - address);
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') { /* [::1]:5000 */
        host++;
        host_len -= 2;
    }
    vial_buf b = new_buf(rq);
    vial_buf_putc(&b, '(');
    put_str_repr(&b, host, host_len);
    vial_buf_printf(&b, ", %s)", colon + 1);
    return vial_buf_cstr(&b);
}

const char *py_response(vial_req *rq, vial_res *rs) {
    return vial_sprintf(rq, "<Response %zu bytes [%d]>", vial_res_body(rs).len, vial_res_status(rs));
}

const char *py_url_map(vial_req *rq) {
    const vial_router *map = vial_app_url_map(vial_req_app(rq));
    vial_buf b = new_buf(rq);
    vial_buf_puts(&b, "Map([");
    for (size_t i = 0; i < vial_router_count(map); i++) {
        const vial_rule_info *rule = vial_router_rule(map, i);
        char methods[128];
        vial_methods_format(methods, sizeof methods, rule->methods);
        vial_buf_printf(&b, "%s<Rule '%s' (%s) -> %s>", i ? ", " : "", rule->rule, methods, rule->endpoint);
    }
    vial_buf_puts(&b, "])");
    return vial_buf_cstr(&b);
}

const char *type_name(const vial_value *v) {
    if (!v) return "<NULL>";
    switch (v->type) {
    case VIAL_NULL: return "<VIAL_NULL>";
    case VIAL_BOOL: return "<VIAL_BOOL>";
    case VIAL_INT: return "<VIAL_INT>";
    case VIAL_DOUBLE: return "<VIAL_DOUBLE>";
    case VIAL_STRING: return "<VIAL_STRING>";
    case VIAL_ARRAY: return "<VIAL_ARRAY>";
    case VIAL_OBJECT: return "<VIAL_OBJECT>";
    default: return "<?>";
    }
}
