/* Every case of tests/data/vectors/werkzeug_forms.json (captured from the
 * real Werkzeug 2.2.2): query strings, urlencoded bodies, multipart bodies
 * (each fed whole, byte by byte and in random chunks), Cookie headers, and
 * Set-Cookie lines from set_cookie / delete_cookie. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forms_testutil.h"
#include "testutil.h"
#include "vial.h"

static vial_arena *doc_arena;
static vial_value *doc;

static void load(void) {
    if (doc) return;
    size_t len;
    char *text = test_read_file(test_data_path("vectors/werkzeug_forms.json"), &len);
    cr_assert_not_null(text, "cannot read werkzeug_forms.json");
    doc_arena = vial_arena_new(1 << 20);
    vial_json_error err;
    doc = vial_json_parse(doc_arena, text, len, 64, &err);
    free(text);
    cr_assert_not_null(doc, "werkzeug_forms.json: %s", err.message);
}

static size_t count_kind(const char *kind) {
    load();
    vial_value *cases = vial_object_get(doc, "cases");
    size_t n = 0;
    for (size_t i = 0; i < vial_len(cases); i++) n += strcmp(vial_get_str(vial_array_get(cases, i), "kind"), kind) == 0;
    return n;
}

/* Raw bytes of a {"hex": ..., "utf8": ...} object (malloc'd). */
static char *raw_bytes(const vial_value *o, size_t *len) {
    const vial_value *hex = vial_object_get(o, "hex");
    return hex_decode(hex->as.s.ptr, hex->as.s.len, len);
}

static bool str_eq(const vial_value *expected, const char *p, size_t n) {
    return expected && expected->type == VIAL_STRING && expected->as.s.len == n &&
           memcmp(expected->as.s.ptr, p, n) == 0;
}

/* pairs: [[k, v], ...] against md's pairs (wire order) or a grouped array. */
static void expect_pairs(const char *id, const char *what, const vial_value *pairs, const vial_pair *got, size_t n) {
    cr_expect_eq(vial_len(pairs), n, "%s %s: %zu pairs expected, got %zu", id, what, vial_len(pairs), n);
    for (size_t i = 0; i < n && i < vial_len(pairs); i++) {
        const vial_value *pair = vial_array_get(pairs, i);
        cr_expect(str_eq(vial_array_get(pair, 0), got[i].key.ptr, got[i].key.len),
                  "%s %s[%zu]: key '%s' expected, got '%s'", id, what, i, vial_str_of(vial_array_get(pair, 0)),
                  got[i].key.ptr);
        cr_expect(str_eq(vial_array_get(pair, 1), got[i].value.ptr, got[i].value.len),
                  "%s %s[%zu]: value '%s' expected, got '%s'", id, what, i, vial_str_of(vial_array_get(pair, 1)),
                  got[i].value.ptr);
    }
}

/* getlist(key) for every key: the right count, and each item is the value
 * of the k-th pair with that key (compared with its length: values may hold NULs). */
static void expect_getlist(const char *id, const vial_value *getlist, const vial_multidict *md) {
    if (!getlist) return;
    for (size_t i = 0; i < vial_len(getlist); i++) {
        const vial_member *m = &getlist->as.obj.items[i];
        vial_strs got = vial_multidict_getlistn(md, m->key, m->key_len);
        cr_expect_eq(got.len, vial_len(m->value), "%s getlist(%s): %zu values expected, got %zu", id, m->key,
                     vial_len(m->value), got.len);
        size_t k = 0;
        for (size_t j = 0; j < md->len && k < got.len && k < vial_len(m->value); j++) {
            const vial_pair *p = &md->items[j];
            if (p->key.len != m->key_len || memcmp(p->key.ptr, m->key, m->key_len) != 0) continue;
            cr_expect_eq(got.items[k], p->value.ptr, "%s getlist(%s)[%zu]: not the pair's value", id, m->key, k);
            cr_expect(str_eq(vial_array_get(m->value, k), p->value.ptr, p->value.len), "%s getlist(%s)[%zu] = '%s'", id,
                      m->key, k, p->value.ptr);
            k++;
        }
        cr_expect_eq(k, vial_len(m->value), "%s getlist(%s): %zu values checked", id, m->key, k);
    }
}

static void expect_get(const char *id, const vial_value *get, const vial_multidict *md) {
    if (!get) return;
    cr_expect_eq(vial_len(get), vial_multidict_keys(md).len, "%s: key count", id);
    for (size_t i = 0; i < vial_len(get); i++) {
        const vial_member *m = &get->as.obj.items[i];
        const vial_pair *p = vial_multidict_find(md, m->key, m->key_len);
        cr_expect_not_null(p, "%s get(%s): missing", id, m->key);
        if (p) cr_expect(str_eq(m->value, p->value.ptr, p->value.len), "%s get(%s) = '%s'", id, m->key, p->value.ptr);
    }
}

Test(forms_vectors, query_strings) {
    load();
    vial_value *cases = vial_object_get(doc, "cases");
    size_t checked = 0;
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        if (strcmp(vial_get_str(c, "kind"), "query_string") != 0) continue;
        const char *id = vial_get_str(c, "id");
        size_t len;
        char *raw = raw_bytes(vial_object_get(c, "raw"), &len);
        vial_arena *a = vial_arena_new(4096);
        vial_multidict md;
        vial_multidict_init(&md, a, false);
        cr_assert_eq(vial_parse_query(a, raw, len, &md), 0, "%s", id);
        expect_pairs(id, "wire order", vial_object_get(c, "pairs_wire_order"), md.items, md.len);
        expect_pairs(id, "items(multi=True)", vial_object_get(c, "args_items_multi"), vial_multidict_items_multi(&md),
                     md.len);
        expect_getlist(id, vial_object_get(c, "getlist"), &md);
        expect_get(id, vial_object_get(c, "get_first"), &md);
        vial_arena_free(a);
        free(raw);
        checked++;
    }
    cr_expect_eq(checked, 38, "query cases: %zu", checked);
}

Test(forms_vectors, urlencoded_bodies) {
    load();
    vial_value *cases = vial_object_get(doc, "cases");
    size_t checked = 0;
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        if (strcmp(vial_get_str(c, "kind"), "urlencoded_body") != 0) continue;
        const char *id = vial_get_str(c, "id");
        size_t len, rest_len;
        char *raw = raw_bytes(vial_object_get(c, "raw"), &len);
        char *rest = raw_bytes(vial_object_get(c, "get_data_after_form"), &rest_len);
        const char *ct = vial_get_str(c, "content_type");
        for (size_t chunk = 0; chunk <= 1; chunk++) {
            vial_arena *a = vial_arena_new(4096);
            vial_multidict form;
            vial_multidict_init(&form, a, false);
            vial_files files = {0};
            vial_form_error err;
            memreader r = memreader_of(raw, len, chunk, 0);
            int rc = vial_parse_form(a, ct, ct ? strlen(ct) : 0, mem_read, &r, NULL, &form, &files, &err);
            cr_expect(rc == 0 || rc == 1, "%s: rc %d (%s)", id, rc, err.message);
            /* not a form: the body stays unread for get_data(); a form consumes it */
            if (rc == 1) {
                cr_expect_eq(r.pos, 0, "%s: body read although not a form", id);
                cr_expect(rest_len == len && memcmp(rest, raw, len) == 0, "%s: get_data() should keep the body", id);
            } else {
                cr_expect_eq(r.pos, len, "%s: body not consumed", id);
                cr_expect_eq(rest_len, 0, "%s: Werkzeug keeps the body but we parsed it", id);
            }
            expect_pairs(id, "wire order", vial_object_get(c, "pairs_wire_order"), form.items, form.len);
            expect_pairs(id, "items(multi=True)", vial_object_get(c, "form_items_multi"),
                         vial_multidict_items_multi(&form), form.len);
            expect_getlist(id, vial_object_get(c, "getlist"), &form);
            cr_expect_eq(files.len, 0, "%s", id);
            vial_arena_free(a);
        }
        free(raw);
        free(rest);
        checked++;
    }
    cr_expect_eq(checked, 18, "urlencoded cases: %zu", checked);
}

static void check_multipart(const vial_value *c, size_t chunk, uint32_t seed) {
    const char *id = vial_get_str(c, "id");
    size_t len;
    char *body = raw_bytes(vial_object_get(c, "body"), &len);
    const char *ct = vial_get_str(c, "content_type");
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_multidict_init(&form, a, false);
    vial_files files = {0};
    vial_form_error err = {0};
    memreader r = memreader_of(body, len, chunk, seed);
    /* a tiny threshold too, so file parts also go through temp files */
    vial_form_limits lim = {.file_threshold = seed ? 3 : 0};
    int rc = vial_parse_form(a, ct, strlen(ct), mem_read, &r, &lim, &form, &files, &err);
    const vial_value *exp_form = vial_object_get(c, "form_items_multi");
    const vial_value *exp_files = vial_object_get(c, "files");
    if (vial_len(exp_form) == 0 && vial_len(exp_files) == 0) {
        /* Every vector with an empty result is a body Werkzeug failed to
         * parse (and swallowed): we must report it, and keep nothing. */
        cr_expect_eq(rc, -1, "%s (chunk %zu): the broken body was accepted", id, chunk);
        cr_expect_eq(err.status, 400, "%s: status %d (%s)", id, err.status, err.message);
        cr_expect(strlen(err.message) > 0, "%s: no message", id);
    } else {
        cr_expect_eq(rc, 0, "%s (chunk %zu seed %u): rc %d: %s", id, chunk, seed, rc, err.message);
    }
    expect_pairs(id, "form", exp_form, vial_multidict_items_multi(&form), form.len);
    expect_getlist(id, vial_object_get(c, "getlist"), &form);
    cr_expect_eq(files.len, vial_len(exp_files), "%s: %zu files expected, got %zu", id, vial_len(exp_files), files.len);
    for (size_t i = 0; i < files.len && i < vial_len(exp_files); i++) {
        const vial_value *ef = vial_array_get(exp_files, i);
        vial_file *f = files.items[i];
        cr_expect_str_eq(f->field, vial_get_str(ef, "field"), "%s file %zu field", id, i);
        cr_expect_str_eq(f->filename, vial_get_str(ef, "filename"), "%s file %zu filename", id, i);
        const char *ect = vial_get_str(ef, "content_type");
        if (ect)
            cr_expect(f->content_type && strcmp(f->content_type, ect) == 0, "%s file %zu content_type", id, i);
        else
            cr_expect_null(f->content_type, "%s file %zu: content_type should be NULL", id, i);
        cr_expect_str_eq(f->mimetype, vial_get_str(ef, "mimetype"), "%s file %zu mimetype", id, i);
        cr_expect_eq((int64_t)f->size, vial_get_int(ef, "size", -1), "%s file %zu size", id, i);
        size_t dlen;
        char *data = raw_bytes(vial_object_get(ef, "data"), &dlen);
        const char *got = vial_file_bytes(f, a);
        cr_expect(got && dlen == f->size && memcmp(got, data, dlen) == 0, "%s file %zu: bytes differ", id, i);
        if (seed && f->size > 3) cr_expect(f->path && !f->data, "%s file %zu should be on disk", id, i);
        free(data);
        const vial_value *eh = vial_object_get(ef, "headers");
        cr_expect_eq(f->headers.len, vial_len(eh), "%s file %zu header count", id, i);
        expect_pairs(id, "file headers", eh, f->headers.items,
                     f->headers.len < vial_len(eh) ? f->headers.len : vial_len(eh));
    }
    vial_arena_free(a);
    free(body);
}

Test(forms_vectors, multipart_bodies) {
    load();
    vial_value *cases = vial_object_get(doc, "cases");
    size_t checked = 0;
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        if (strcmp(vial_get_str(c, "kind"), "multipart") != 0) continue;
        check_multipart(c, 0, 0); /* whole */
        check_multipart(c, 1, 0); /* one byte per read */
        check_multipart(c, 7, 0);
        for (uint32_t seed = 1; seed <= 20; seed++) check_multipart(c, 64, seed * 2654435761u);
        checked++;
    }
    cr_expect_eq(checked, 20, "multipart cases: %zu", checked);
}

Test(forms_vectors, cookie_headers) {
    load();
    vial_value *cases = vial_object_get(doc, "cases");
    size_t checked = 0;
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        if (strcmp(vial_get_str(c, "kind"), "cookie_header") != 0) continue;
        const char *id = vial_get_str(c, "id");
        size_t len;
        char *raw = raw_bytes(vial_object_get(c, "raw"), &len);
        vial_arena *a = vial_arena_new(4096);
        vial_multidict md;
        vial_multidict_init(&md, a, false);
        cr_assert_eq(vial_parse_cookie(a, raw, len, &md), 0, "%s", id);
        expect_pairs(id, "wire order", vial_object_get(c, "pairs_wire_order"), md.items, md.len);
        expect_pairs(id, "items(multi=True)", vial_object_get(c, "parsed_items_multi"), vial_multidict_items_multi(&md),
                     md.len);
        expect_get(id, vial_object_get(c, "request_cookies_get"), &md);
        vial_arena_free(a);
        free(raw);
        checked++;
    }
    cr_expect_eq(checked, 24, "cookie cases: %zu", checked);
}

/* "2030-01-01 20:00:00+08:00" (or naive, taken as UTC) as Unix time. */
static int64_t parse_datetime(const char *s) {
    struct tm tm = {0};
    int off_h = 0, off_m = 0;
    char sign = '+';
    int n = sscanf(s, "%d-%d-%d %d:%d:%d%c%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec, &sign, &off_h, &off_m);
    cr_assert(n == 6 || n == 9, "datetime %s", s);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t t = (int64_t)timegm(&tm);
    int64_t off = (off_h * 3600 + off_m * 60) * (sign == '-' ? -1 : 1);
    return n == 9 ? t - off : t;
}

/* str(timedelta): "[D day[s], ]H:MM:SS" */
static int64_t parse_timedelta(const char *s) {
    long days = 0;
    int h, m, sec;
    const char *comma = strchr(s, ',');
    if (comma) {
        days = strtol(s, NULL, 10);
        s = comma + 2;
    }
    cr_assert_eq(sscanf(s, "%d:%d:%d", &h, &m, &sec), 3, "timedelta %s", s);
    return days * 86400 + h * 3600 + m * 60 + sec;
}

static void fill_opts(const vial_value *c, vial_cookie_opts *o) {
    memset(o, 0, sizeof *o);
    o->now = vial_get_int(c, "now", 0);
    const vial_value *kw = vial_object_get(c, "kwargs");
    const vial_value *types = vial_object_get(c, "kwargs_types");
    for (size_t i = 0; i < vial_len(kw); i++) {
        const vial_member *m = &kw->as.obj.items[i];
        const char *type = types && types->type == VIAL_OBJECT ? vial_get_str(types, m->key) : NULL;
        const vial_value *v = m->value;
        if (strcmp(m->key, "max_age") == 0) {
            o->has_max_age = true;
            o->max_age = type && strcmp(type, "timedelta") == 0 ? parse_timedelta(vial_str_of(v)) : v->as.i;
        } else if (strcmp(m->key, "expires") == 0) {
            if (type && strcmp(type, "str") == 0) {
                o->expires_str = vial_str_of(v);
            } else {
                o->has_expires = true;
                if (type && strcmp(type, "datetime") == 0)
                    o->expires = parse_datetime(vial_str_of(v));
                else if (v->type == VIAL_DOUBLE)
                    o->expires = (int64_t)v->as.d; /* positive: truncation is the floor */
                else
                    o->expires = v->as.i;
            }
        } else if (strcmp(m->key, "path") == 0) {
            if (v->type == VIAL_NULL)
                o->no_path = true;
            else
                o->path = vial_str_of(v);
        } else if (strcmp(m->key, "domain") == 0) {
            o->domain = vial_str_of(v);
        } else if (strcmp(m->key, "secure") == 0) {
            o->secure = v->as.b;
        } else if (strcmp(m->key, "httponly") == 0) {
            o->httponly = v->as.b;
        } else if (strcmp(m->key, "samesite") == 0) {
            o->samesite = vial_str_of(v);
        } else {
            cr_assert_fail("unknown kwarg %s", m->key);
        }
    }
}

Test(forms_vectors, set_cookie_and_delete) {
    load();
    vial_value *cases = vial_object_get(doc, "cases");
    size_t checked = 0;
    char logpath[] = "/tmp/vial-cookie-log-XXXXXX";
    int logfd = mkstemp(logpath);
    cr_assert(logfd >= 0);
    close(logfd);
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        const char *kind = vial_get_str(c, "kind");
        bool del = strcmp(kind, "delete_cookie") == 0;
        if (!del && strcmp(kind, "set_cookie") != 0) continue;
        const char *id = vial_get_str(c, "id");
        vial_cookie_opts o;
        fill_opts(c, &o);
        vial_arena *a = vial_arena_new(4096);
        const char *key = vial_get_str(c, "key");
        const vial_value *value = vial_object_get(c, "value");
        char *long_value = NULL;
        const char *val = NULL;
        size_t val_len = 0;
        if (value && value->type == VIAL_STRING) {
            val = value->as.s.ptr, val_len = value->as.s.len;
        } else if (value && value->type == VIAL_OBJECT) { /* {"repeat": "x", "count": 4100} */
            const char *rep = vial_get_str(value, "repeat");
            size_t count = (size_t)vial_get_int(value, "count", 0);
            long_value = malloc(count * strlen(rep) + 1);
            for (size_t k = 0; k < count; k++) memcpy(long_value + k * strlen(rep), rep, strlen(rep));
            val = long_value, val_len = count * strlen(rep);
        }
        bool warns = vial_object_get(c, "warnings") != NULL;
        if (warns) cr_assert_eq(vial_log_open(logpath), 0);
        vial_form_error err = {0};
        size_t len = 0;
        char *line = del ? vial_dump_delete_cookie(a, key, &o, &len, &err)
                         : vial_dump_cookie(a, key, val, val_len, &o, &len, &err);
        if (warns) vial_log_open(NULL);
        const vial_value *ok = vial_object_get(c, "ok");
        if (ok && !ok->as.b) {
            cr_expect_null(line, "%s: should fail", id);
            cr_expect_str_eq(err.message, vial_get_str(c, "message"), "%s: message", id);
        } else {
            cr_expect_not_null(line, "%s: %s", id, err.message);
            if (!line) goto next;
            const vial_value *hex = vial_object_get(c, "set_cookie_bytes_hex");
            if (hex) {
                size_t elen;
                char *expected = hex_decode(hex->as.s.ptr, hex->as.s.len, &elen);
                cr_expect(elen == len && memcmp(expected, line, len) == 0, "%s: got '%s'", id, line);
                free(expected);
            } else if (vial_object_get(c, "set_cookie_len")) {
                /* the vector keeps a prefix of the long line and its length */
                cr_expect_eq((int64_t)len, vial_get_int(c, "set_cookie_len", -1), "%s: length", id);
                const char *expected = vial_get_str(c, "set_cookie");
                const char *cut = strstr(expected, "...(truncated");
                size_t prefix = cut ? (size_t)(cut - expected) : strlen(expected);
                cr_expect(strncmp(line, expected, prefix) == 0, "%s: prefix", id);
            } else {
                cr_expect_str_eq(line, vial_get_str(c, "set_cookie"), "%s", id);
            }
            if (warns) {
                size_t loglen;
                char *log = test_read_file(logpath, &loglen);
                const char *want = vial_str_of(vial_array_get(vial_object_get(c, "warnings"), 0));
                cr_expect(log && strstr(log, want), "%s: warning '%s' not in log '%s'", id, want, log);
                free(log);
            }
        }
    next:
        free(long_value);
        vial_arena_free(a);
        checked++;
    }
    unlink(logpath);
    cr_expect_eq(checked, 41, "set-cookie cases: %zu", checked);
    cr_expect_eq(count_kind("set_cookie") + count_kind("delete_cookie"), 41);
}
