/* request_forms.c - request.args, form, files, cookies; response cookies.
 *
 * The parsers are Werkzeug's (src/app/forms*, multipart, cookie_parse); this
 * file decides when they run: each at most once per request, on first use.
 * A form body is read from the server's body reader in pieces, so a large
 * upload goes to temp files instead of memory. Werkzeug answers a broken
 * multipart body with an empty form; we answer 400 with the reason, since a
 * silently empty form is how uploads get lost. */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"

const vial_multidict *vial_args(vial_req *rq) {
    if (!rq->args_parsed) {
        rq->args_parsed = true;
        vial_multidict *md = vial_arena_alloc(rq->arena, sizeof *md);
        if (!md) vial_abort(rq, 500);
        vial_multidict_init(md, rq->arena, false);
        vial_str q = rq->ex->req.query;
        if (vial_parse_query(rq->arena, q.ptr, q.len, md) != 0) vial_abort(rq, 500);
        rq->args = md;
    }
    return rq->args;
}

const char *vial_arg(vial_req *rq, const char *key) { return vial_multidict_get(vial_args(rq), key); }
vial_strs vial_arg_list(vial_req *rq, const char *key) { return vial_multidict_getlist(vial_args(rq), key); }

static ssize_t body_read(void *ctx, char *dst, size_t n) {
    vial_body_reader *body = ctx;
    return body->read ? body->read(body->ctx, dst, n) : 0;
}

static void parse_form(vial_req *rq) {
    if (rq->form_parsed) return;
    rq->form_parsed = true;
    vial_multidict *form = vial_arena_alloc(rq->arena, sizeof *form);
    vial_files *files = vial_arena_calloc(rq->arena, sizeof *files);
    if (!form || !files) vial_abort(rq, 500);
    vial_multidict_init(form, rq->arena, false);
    rq->form = form;
    rq->files = files;
    if (rq->data_read) return; /* get_data() consumed the body first: the form stays empty, as in Werkzeug */
    const char *ct = vial_content_type(rq);
    int64_t max = vial_config_int(rq->app, "MAX_CONTENT_LENGTH", -1);
    if (max >= 0 && rq->ex->req.content_length > max) vial_abort(rq, 413);
    vial_form_limits lim = {
        .max_fields = (size_t)vial_config_int(rq->app, "MAX_FORM_PARTS", 1000),
        .max_bytes = (size_t)vial_config_int(rq->app, "MAX_FORM_MEMORY_SIZE", 500000),
        .max_field_bytes = (size_t)vial_config_int(rq->app, "MAX_FORM_MEMORY_SIZE", 500000),
        .file_threshold = (size_t)vial_config_int(rq->app, "FORM_FILE_THRESHOLD", 512000),
        .tmp_dir = vial_config_str(rq->app, "UPLOAD_TEMP_DIR"),
    };
    vial_form_error err;
    int rc = vial_parse_form(rq->arena, ct, ct ? strlen(ct) : 0, body_read, &rq->ex->body, &lim, form, files, &err);
    if (rc == 1) return; /* not a form: the body stays for get_data() */
    rq->data_read = true; /* the body was consumed by the form parser */
    if (rc < 0) {
        int status = rq->ex->body.error_status ? rq->ex->body.error_status : err.status ? err.status : 400;
        vial_abort_msg(rq, status, "%s", err.message);
    }
}

const vial_multidict *vial_form_all(vial_req *rq) {
    parse_form(rq);
    return rq->form;
}
const char *vial_form(vial_req *rq, const char *key) { return vial_multidict_get(vial_form_all(rq), key); }
vial_strs vial_form_list(vial_req *rq, const char *key) { return vial_multidict_getlist(vial_form_all(rq), key); }

const vial_files *vial_files_all(vial_req *rq) {
    parse_form(rq);
    return rq->files;
}
vial_file *vial_file_get(vial_req *rq, const char *field) { return vial_files_get(vial_files_all(rq), field); }
vial_files vial_file_list(vial_req *rq, const char *field) {
    return vial_files_getlist(vial_files_all(rq), field, rq->arena);
}

const char *vial_secure_filename(vial_req *rq, const char *filename) {
    if (!filename) return "";
    char *s = vial_secure_filename_in(rq->arena, filename, strlen(filename), 0);
    return s ? s : "";
}

const vial_multidict *vial_cookies(vial_req *rq) {
    if (!rq->cookies_parsed) {
        rq->cookies_parsed = true;
        vial_multidict *md = vial_arena_alloc(rq->arena, sizeof *md);
        if (!md) vial_abort(rq, 500);
        vial_multidict_init(md, rq->arena, false);
        /* Several Cookie lines (HTTP/2 style splitting, or a proxy) are read as one list. */
        const vial_http_request *r = &rq->ex->req;
        for (size_t i = 0; i < r->header_count; i++) {
            const vial_http_header *h = &r->headers[i];
            if (h->name.len == 6 && strncasecmp(h->name.ptr, "Cookie", 6) == 0)
                if (vial_parse_cookie(rq->arena, h->value.ptr, h->value.len, md) != 0) vial_abort(rq, 500);
        }
        rq->cookies = md;
    }
    return rq->cookies;
}

const char *vial_cookie(vial_req *rq, const char *name) { return vial_multidict_get(vial_cookies(rq), name); }

static void normalize_opts(vial_cookie_opts *o) {
    if (o->max_age != VIAL_UNSET_TIME) o->has_max_age = true;
    else if (!o->has_max_age) o->max_age = 0;
    if (o->expires != VIAL_UNSET_TIME) o->has_expires = true;
    else if (!o->has_expires) o->expires = 0;
}

int vial_set_cookie_with(vial_res *rs, const char *name, const char *value, const vial_cookie_opts *opts) {
    vial_cookie_opts o = opts ? *opts : (vial_cookie_opts){.max_age = VIAL_UNSET_TIME, .expires = VIAL_UNSET_TIME};
    normalize_opts(&o);
    if (!o.max_size) o.max_size = (size_t)vial_config_int(rs->rq->app, "MAX_COOKIE_SIZE", 4093);
    vial_form_error err;
    char *line = vial_dump_cookie(rs->rq->arena, name, value ? value : "", value ? strlen(value) : 0, &o, NULL, &err);
    if (!line) {
        vial_log(VIAL_LOG_ERROR, "set_cookie(%s): %s", name ? name : "(null)", err.message);
        return -1;
    }
    return vial_add_header(rs, "Set-Cookie", line);
}

int vial_delete_cookie_with(vial_res *rs, const char *name, const vial_cookie_opts *opts) {
    vial_cookie_opts o = opts ? *opts : (vial_cookie_opts){.max_age = VIAL_UNSET_TIME, .expires = VIAL_UNSET_TIME};
    normalize_opts(&o);
    vial_form_error err;
    char *line = vial_dump_delete_cookie(rs->rq->arena, name, &o, NULL, &err);
    if (!line) {
        vial_log(VIAL_LOG_ERROR, "delete_cookie(%s): %s", name ? name : "(null)", err.message);
        return -1;
    }
    return vial_add_header(rs, "Set-Cookie", line);
}
