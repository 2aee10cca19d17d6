/* forms_oracle - runs vial's form/cookie parsers and formatters on requests
 * read from stdin, one JSON object per line, and answers one JSON object per
 * line, so test_forms_oracle.py can compare them with the real Werkzeug.
 *
 *   {"op":"query","hex":..}            -> {"pairs":[[k,v],..]}
 *   {"op":"cookie","hex":..}           -> {"pairs":[[k,v],..]}
 *   {"op":"options","hex":..,"latin1":b} -> {"value":..,"params":[[k,v|null],..]} | {"error":msg}
 *   {"op":"multipart","ct":..,"hex":..,"chunk":n,"threshold":n}
 *        -> {"rc":n,"status":n,"form":[[k,v],..],"files":[{field,filename,content_type,mimetype,headers,hex}]}
 *   {"op":"secure_filename","s":..,"windows":b} -> {"r":..}
 *   {"op":"set_cookie"|"delete_cookie","key":..,"hex":value,"opts":{..}} -> {"hex":line} | {"error":msg}
 *   {"op":"idna","s":..}                -> {"r":..} | {"error":msg}
 *   {"op":"iri","s":..,"safe":b}        -> {"r":..} | {"error":msg}
 *   {"op":"charset","s":..}             -> {"r":"utf-8"|"ascii"|"iso8859-1"|"cp1252"|null} */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/forms.h"
#include "vial.h"

static char *unhex(vial_arena *a, const char *hex, size_t *len) {
    size_t n = hex ? strlen(hex) / 2 : 0;
    char *out = vial_arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

static char *tohex(vial_arena *a, const char *s, size_t n) {
    char *out = vial_arena_alloc(a, 2 * n + 1);
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", (unsigned char)s[i]);
    out[2 * n] = '\0';
    return out;
}

static vial_value *pairs(vial_arena *a, const vial_pair *items, size_t n) {
    vial_value *arr = vial_new_array(a);
    for (size_t i = 0; i < n; i++) {
        vial_value *pair = vial_new_array(a);
        vial_array_push(pair, vial_new_strn(a, items[i].key.ptr, items[i].key.len));
        vial_array_push(pair, vial_new_strn(a, items[i].value.ptr, items[i].value.len));
        vial_array_push(arr, pair);
    }
    return arr;
}

typedef struct chunked {
    const char *data;
    size_t len, pos, chunk;
} chunked;

static ssize_t chunked_read(void *ctx, char *dst, size_t n) {
    chunked *c = ctx;
    size_t want = c->len - c->pos;
    if (want > n) want = n;
    if (c->chunk && want > c->chunk) want = c->chunk;
    memcpy(dst, c->data + c->pos, want);
    c->pos += want;
    return (ssize_t)want;
}

static vial_value *run(vial_arena *a, vial_value *req) {
    const char *op = vial_get_str(req, "op");
    vial_value *res = vial_new_object(a);
    size_t n;
    char *bytes = unhex(a, vial_get_str(req, "hex"), &n);
    vial_form_error err = {0};
    if (strcmp(op, "query") == 0 || strcmp(op, "cookie") == 0) {
        vial_multidict md;
        vial_multidict_init(&md, a, false);
        int rc = op[0] == 'q' ? vial_parse_query(a, bytes, n, &md) : vial_parse_cookie(a, bytes, n, &md);
        if (rc != 0) vial_object_set(res, "error", vial_new_str(a, "failed"));
        vial_object_set(res, "pairs", pairs(a, md.items, md.len));
    } else if (strcmp(op, "options") == 0) {
        vial_options_header oh;
        int flags = vial_get_bool(req, "latin1", false) ? VIAL_OPTIONS_LATIN1 : 0;
        if (vial_parse_options_header(a, bytes, n, flags, &oh, &err) != 0) {
            vial_object_set(res, "error", vial_new_str(a, err.message));
        } else {
            vial_object_set(res, "value", vial_new_str(a, oh.value));
            vial_value *params = vial_new_array(a);
            for (size_t i = 0; i < oh.param_count; i++) {
                vial_value *p = vial_new_array(a);
                vial_array_push(p, vial_new_str(a, oh.params[i].name));
                vial_array_push(p, oh.params[i].value ? vial_new_str(a, oh.params[i].value) : vial_value_null());
                vial_array_push(params, p);
            }
            vial_object_set(res, "params", params);
        }
    } else if (strcmp(op, "multipart") == 0) {
        vial_multidict form;
        vial_multidict_init(&form, a, false);
        vial_files files = {0};
        chunked c = {bytes, n, 0, (size_t)vial_get_int(req, "chunk", 0)};
        vial_form_limits lim = {.file_threshold = (size_t)vial_get_int(req, "threshold", 0)};
        const char *ct = vial_get_str(req, "ct");
        int rc = vial_parse_form(a, ct, strlen(ct), chunked_read, &c, &lim, &form, &files, &err);
        vial_object_set(res, "rc", vial_new_int(a, rc));
        vial_object_set(res, "status", vial_new_int(a, rc < 0 ? err.status : 0));
        vial_object_set(res, "message", vial_new_str(a, rc < 0 ? err.message : ""));
        vial_object_set(res, "form", pairs(a, form.items, form.len));
        vial_value *fl = vial_new_array(a);
        for (size_t i = 0; i < files.len; i++) {
            vial_file *f = files.items[i];
            vial_value *o = vial_new_object(a);
            vial_object_set(o, "field", vial_new_str(a, f->field));
            vial_object_set(o, "filename", vial_new_str(a, f->filename));
            vial_object_set(o, "content_type", f->content_type ? vial_new_str(a, f->content_type) : vial_value_null());
            vial_object_set(o, "mimetype", vial_new_str(a, f->mimetype));
            vial_object_set(o, "headers", pairs(a, f->headers.items, f->headers.len));
            const char *data = vial_file_bytes(f, a);
            vial_object_set(o, "hex", vial_new_str(a, data ? tohex(a, data, f->size) : "?"));
            vial_object_set(o, "on_disk", vial_new_bool(a, f->path != NULL));
            vial_array_push(fl, o);
        }
        vial_object_set(res, "files", fl);
    } else if (strcmp(op, "secure_filename") == 0) {
        const vial_value *s = vial_object_get(req, "s");
        int flags = vial_get_bool(req, "windows", false) ? VIAL_SECURE_FILENAME_WINDOWS : 0;
        vial_object_set(res, "r", vial_new_str(a, vial_secure_filename_in(a, s->as.s.ptr, s->as.s.len, flags)));
    } else if (strcmp(op, "set_cookie") == 0 || strcmp(op, "delete_cookie") == 0) {
        vial_value *o = vial_object_get(req, "opts");
        vial_cookie_opts opts = {0};
        opts.now = vial_get_int(o, "now", 0);
        if (vial_object_get(o, "max_age")) opts.has_max_age = true, opts.max_age = vial_get_int(o, "max_age", 0);
        if (vial_object_get(o, "expires")) opts.has_expires = true, opts.expires = vial_get_int(o, "expires", 0);
        opts.expires_str = vial_get_str(o, "expires_str");
        opts.path = vial_get_str(o, "path");
        opts.no_path = vial_get_bool(o, "no_path", false);
        opts.domain = vial_get_str(o, "domain");
        opts.secure = vial_get_bool(o, "secure", false);
        opts.httponly = vial_get_bool(o, "httponly", false);
        opts.samesite = vial_get_str(o, "samesite");
        opts.max_size = SIZE_MAX;
        size_t len;
        const char *key = vial_get_str(req, "key");
        char *line = op[0] == 's' ? vial_dump_cookie(a, key, bytes, n, &opts, &len, &err)
                                  : vial_dump_delete_cookie(a, key, &opts, &len, &err);
        if (line)
            vial_object_set(res, "hex", vial_new_str(a, tohex(a, line, len)));
        else
            vial_object_set(res, "error", vial_new_str(a, err.message));
    } else if (strcmp(op, "idna") == 0) {
        const char *s = vial_get_str(req, "s");
        size_t len;
        char *r = vial_idna_encode_host(a, s, strlen(s), &len, &err);
        vial_object_set(res, r ? "r" : "error", vial_new_str(a, r ? r : err.message));
    } else if (strcmp(op, "iri") == 0) {
        const char *s = vial_get_str(req, "s");
        char *r = vial_iri_to_uri(a, s, strlen(s), vial_get_bool(req, "safe", false), &err);
        vial_object_set(res, r ? "r" : "error", vial_new_str(a, r ? r : err.message));
    } else if (strcmp(op, "charset") == 0) {
        static const char *const names[] = {NULL, "utf-8", "ascii", "iso8859-1", "cp1252"};
        const char *s = vial_get_str(req, "s");
        vial_charset cs = vial_charset_lookup(s, strlen(s));
        vial_object_set(res, "r", cs ? vial_new_str(a, names[cs]) : vial_value_null());
    } else {
        vial_object_set(res, "error", vial_new_str(a, "unknown op"));
    }
    return res;
}

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        vial_arena *a = vial_arena_new(1 << 16);
        vial_json_error jerr;
        vial_value *req = vial_json_parse(a, line, (size_t)len, 16, &jerr);
        vial_value *res;
        if (!req) {
            res = vial_new_object(a);
            vial_object_set(res, "error", vial_new_str(a, jerr.message));
        } else {
            res = run(a, req);
        }
        size_t out_len;
        char *out = vial_json_encode(a, res, VIAL_JSON_ASCII, &out_len);
        fwrite(out, 1, out_len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        vial_arena_free(a); /* removes any temp files of this request */
    }
    free(line);
    return 0;
}
