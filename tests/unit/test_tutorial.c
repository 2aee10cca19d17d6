/* examples/tutorial against the Flask course's Python, through the test client.
 *
 * tests/data/tutorial/requests.json lists requests per lesson;
 * flask_answers.json holds what the course's Python code (tests/data/tutorial/
 * flask/<lesson>.py) answered to them under Flask 2.2's test client, and what
 * `flask routes` printed for it. Here every lesson of the example runs the same
 * requests, in the same order, through one vial test client, and must give the
 * same status, headers, body, console output (what the view printed) and saved
 * files. The comparison is mechanical; its only allowances are written down:
 *
 *   - reason phrases are not compared (Werkzeug upper-cases them: "201 CREATED");
 *   - headers are compared as a set (order differs and means nothing), except
 *     that Set-Cookie lines keep their order; a Set-Cookie's Expires date is
 *     the clock's, so it must be a valid date but is not compared, and so are
 *     the timestamp and signature of a Flask session cookie (the payload, the
 *     session's contents, is compared; the next request's console output
 *     shows the cookie was read back); Allow's
 *     methods are compared sorted (Werkzeug's come in Python's set order);
 *   - flask_answers.json's stdout_expected says which Python reprs (type names,
 *     the url_map's layout) were rewritten for C, and why;
 *   - a request's "differs" entry in requests.json names a deliberate
 *     difference and what vial answers instead (a status, a printed value).
 *
 * The lesson sources are compiled into this test by #include (their static
 * names are unique across files). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../examples/tutorial/body.c"
#include "../../examples/tutorial/config.c"
#include "../../examples/tutorial/converters.c"
#include "../../examples/tutorial/cookie.c"
#include "../../examples/tutorial/header.c"
#include "../../examples/tutorial/hello.c"
#include "../../examples/tutorial/html.c"
#include "../../examples/tutorial/img.c"
#include "../../examples/tutorial/jsonapi.c"
#include "../../examples/tutorial/jump.c"
#include "../../examples/tutorial/lessons.c"
#include "../../examples/tutorial/methods.c"
#include "../../examples/tutorial/params.c"
#include "../../examples/tutorial/pyprint.c"
#include "../../examples/tutorial/qs.c"
#include "../../examples/tutorial/redirect.c"
#include "../../examples/tutorial/regex.c"
#include "../../examples/tutorial/session.c"
#include "../../examples/tutorial/status.c"
#include "http/parser.h"
#include "testutil.h"

/* ---- data ---- */

static vial_arena *data_arena;

static vial_value *load_json(const char *rel) {
    if (!data_arena) data_arena = vial_arena_new(1 << 20);
    size_t len;
    char *text = test_read_file(test_data_path(rel), &len);
    cr_assert_not_null(text, "cannot read tests/data/%s", rel);
    vial_json_error err;
    vial_value *v = vial_json_parse(data_arena, text, len, 0, &err);
    cr_assert_not_null(v, "tests/data/%s: %s", rel, err.message);
    free(text);
    return v;
}

static vial_value *lesson_entry(vial_value *doc, const char *name) {
    vial_value *lessons = vial_object_get(doc, "lessons");
    for (size_t i = 0; i < vial_len(lessons); i++) {
        vial_value *l = vial_array_get(lessons, i);
        if (strcmp(vial_get_str(l, "lesson"), name) == 0) return l;
    }
    return NULL;
}

static const char *source_path(const char *rel) {
    static char path[4096];
    const char *root = getenv("VIAL_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    return path;
}

/* A scratch folder holding a copy of the example's avatar.png: the app's root. */
static char *scratch_root(void) {
    static char dir[] = "/tmp/vial-tutorial-XXXXXX";
    char *made = mkdtemp(strcpy(malloc(sizeof dir), dir));
    cr_assert_not_null(made);
    size_t len;
    char *png = test_read_file(source_path("examples/tutorial/avatar.png"), &len);
    cr_assert_not_null(png, "examples/tutorial/avatar.png is missing");
    char path[4200];
    snprintf(path, sizeof path, "%s/avatar.png", made);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(png, 1, len, f), len);
    fclose(f);
    free(png);
    return made;
}

static void remove_scratch(char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d) closedir(d);
    rmdir(dir);
    free(dir);
}

/* ---- console capture: what the views print to stdout ---- */

static int saved_stdout = -1;
static FILE *capture_file;

static void capture_begin(void) {
    fflush(stdout);
    capture_file = tmpfile();
    cr_assert_not_null(capture_file);
    saved_stdout = dup(STDOUT_FILENO);
    dup2(fileno(capture_file), STDOUT_FILENO);
}

static char *capture_end(void) {
    fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);
    long n = ftell(capture_file);
    char *text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    rewind(capture_file);
    if (n > 0) cr_assert_eq(fread(text, 1, (size_t)n, capture_file), (size_t)n);
    fclose(capture_file);
    return text;
}

/* ---- normalizing ---- */

static int cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The lines of text sorted and joined again ("stdout_sorted": print order of headers differs). */
static char *sorted_lines(vial_arena *a, const char *text) {
    size_t count = 0;
    for (const char *p = text; *p; p++) count += *p == '\n';
    char **lines = vial_arena_alloc(a, (count + 1) * sizeof *lines);
    size_t n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lines[n++] = vial_arena_strndup(a, p, len);
        p += len + (nl ? 1 : 0);
    }
    qsort(lines, n, sizeof *lines, cmp_strp);
    vial_buf b;
    vial_buf_init(&b, a, 0);
    for (size_t i = 0; i < n; i++) vial_buf_printf(&b, "%s\n", lines[i]);
    return (char *)vial_buf_cstr(&b);
}

static char *replace_all(vial_arena *a, const char *text, const char *from, const char *to) {
    vial_buf b;
    vial_buf_init(&b, a, 0);
    size_t fl = strlen(from);
    for (const char *p = text; *p;) {
        const char *hit = fl ? strstr(p, from) : NULL;
        if (!hit) {
            vial_buf_puts(&b, p);
            break;
        }
        vial_buf_append(&b, p, (size_t)(hit - p));
        vial_buf_puts(&b, to);
        p = hit + fl;
    }
    return (char *)vial_buf_cstr(&b);
}

/* One header as compared: "name: value", name lowercased, Expires of a
 * Set-Cookie replaced (after checking it is a date), Allow's methods sorted. */
static char *header_key(vial_arena *a, const char *name, const char *value) {
    char *lname = vial_arena_strdup(a, name);
    for (char *p = lname; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    if (strcmp(lname, "set-cookie") == 0 && strncmp(value, "session=", 8) == 0) {
        /* session=<payload>.<timestamp>.<signature>: the last two parts are the clock's */
        size_t vlen = strcspn(value, ";");
        const char *sig = memrchr(value, '.', vlen);
        const char *ts = sig ? memrchr(value, '.', (size_t)(sig - value)) : NULL;
        if (ts && ts > value + 8)
            value = vial_arena_sprintf(a, "%.*s.<timestamp>.<signature>%s", (int)(ts - value), value, value + vlen);
    }
    if (strcmp(lname, "set-cookie") == 0) {
        const char *exp = strstr(value, "; Expires=");
        if (exp) {
            const char *date = exp + 10, *end = strchr(date, ';');
            size_t dlen = end ? (size_t)(end - date) : strlen(date);
            cr_assert_neq(vial_http_date_parse(date, dlen), (time_t)-1, "Set-Cookie with a bad Expires: %s", value);
            return vial_arena_sprintf(a, "%s: %.*s; Expires=<date>%s", lname, (int)(exp - value), value,
                                      end ? end : "");
        }
    }
    if (strcmp(lname, "allow") == 0) {
        char *items[16];
        size_t n = 0;
        char *copy = vial_arena_strdup(a, value), *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t && n < 16; t = strtok_r(NULL, ", ", &save)) items[n++] = t;
        qsort(items, n, sizeof *items, cmp_strp);
        vial_buf b;
        vial_buf_init(&b, a, 0);
        for (size_t i = 0; i < n; i++) vial_buf_printf(&b, "%s%s", i ? ", " : "", items[i]);
        return vial_arena_sprintf(a, "%s: %s", lname, vial_buf_cstr(&b));
    }
    return vial_arena_sprintf(a, "%s: %s", lname, value);
}

/* Headers as one text: the set of non-cookie headers sorted, then the Set-Cookie lines in order. */
static char *headers_text(vial_arena *a, char **keys, size_t n) {
    vial_buf b;
    vial_buf_init(&b, a, 0);
    char **plain = vial_arena_alloc(a, (n + 1) * sizeof *plain);
    size_t np = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(keys[i], "set-cookie: ", 12) != 0) plain[np++] = keys[i];
    qsort(plain, np, sizeof *plain, cmp_strp);
    for (size_t i = 0; i < np; i++) vial_buf_printf(&b, "%s\n", plain[i]);
    for (size_t i = 0; i < n; i++)
        if (strncmp(keys[i], "set-cookie: ", 12) == 0) vial_buf_printf(&b, "%s\n", keys[i]);
    return (char *)vial_buf_cstr(&b);
}

static char *flask_headers(vial_arena *a, const vial_value *headers) {
    size_t n = vial_len(headers);
    char **keys = vial_arena_alloc(a, (n + 1) * sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        const vial_value *h = vial_array_get(headers, i);
        keys[i] = header_key(a, vial_str_of(vial_array_get(h, 0)), vial_str_of(vial_array_get(h, 1)));
    }
    return headers_text(a, keys, n);
}

static char *vial_headers_text(vial_arena *a, const vial_response *r) {
    char **keys = vial_arena_alloc(a, (r->header_count + 1) * sizeof *keys);
    for (size_t i = 0; i < r->header_count; i++) keys[i] = header_key(a, r->headers[i].name, r->headers[i].value);
    return headers_text(a, keys, r->header_count);
}

static char *base64_decode(vial_arena *a, const char *s, size_t *len) {
    char *out = vial_arena_alloc(a, strlen(s) + 1);
    long n = vial_base64_decode(out, s, strlen(s), 0);
    cr_assert_geq(n, 0, "bad base64 in flask_answers.json");
    *len = (size_t)n;
    return out;
}

/* ---- one request ---- */

static char *urlencode_pairs(vial_arena *a, const vial_value *pairs) {
    vial_buf b;
    vial_buf_init(&b, a, 0);
    for (size_t i = 0; i < vial_len(pairs); i++) {
        const vial_value *p = vial_array_get(pairs, i);
        const char *k = vial_str_of(vial_array_get(p, 0)), *v = vial_str_of(vial_array_get(p, 1));
        if (i) vial_buf_putc(&b, '&');
        vial_url_quote(&b, k, strlen(k), "");
        vial_buf_putc(&b, '=');
        vial_url_quote(&b, v, strlen(v), "");
    }
    return (char *)vial_buf_cstr(&b);
}

static vial_client_opts request_opts(vial_arena *a, const vial_value *req) {
    vial_client_opts o = {0};
    vial_buf headers;
    vial_buf_init(&headers, a, 0);
    const vial_value *given = vial_object_get(req, "headers");
    bool has_ua = false;
    for (size_t i = 0; i < vial_len(given); i++)
        has_ua |= strcasecmp(vial_str_of(vial_array_get(vial_array_get(given, i), 0)), "User-Agent") == 0;
    if (!has_ua) vial_buf_puts(&headers, "User-Agent: tutorial-test\n");
    for (size_t i = 0; i < vial_len(given); i++) {
        const vial_value *h = vial_array_get(given, i);
        vial_buf_printf(&headers, "%s: %s\n", vial_str_of(vial_array_get(h, 0)), vial_str_of(vial_array_get(h, 1)));
    }
    o.headers = vial_buf_cstr(&headers);
    if (vial_object_get(req, "form")) o.form = urlencode_pairs(a, vial_object_get(req, "form"));
    const vial_value *files = vial_object_get(req, "files");
    if (files) {
        vial_client_file *fs = vial_arena_calloc(a, (vial_len(files) + 1) * sizeof *fs);
        for (size_t i = 0; i < vial_len(files); i++) {
            const vial_value *f = vial_array_get(files, i);
            fs[i].field = vial_get_str(f, "field");
            fs[i].filename = vial_get_str(f, "filename");
            fs[i].content_type = vial_get_str(f, "content_type");
            if (vial_get_str(f, "source")) {
                size_t len;
                char rel[512];
                snprintf(rel, sizeof rel, "examples/tutorial/%s", vial_get_str(f, "source"));
                char *bytes = test_read_file(source_path(rel), &len);
                cr_assert_not_null(bytes, "%s", rel);
                fs[i].data = vial_arena_strndup(a, bytes, len);
                fs[i].len = len;
                free(bytes);
            } else {
                fs[i].data = vial_get_str(f, "text");
                fs[i].len = strlen(fs[i].data);
            }
        }
        o.files = fs;
    }
    if (vial_get_str(req, "body")) {
        o.data = vial_get_str(req, "body");
        o.data_len = strlen(o.data);
        o.content_type = vial_get_str(req, "content_type");
    }
    return o;
}

static void check_request(vial_arena *a, vial_client *c, const char *root, const char *lesson_name, size_t index,
                          const vial_value *req, const vial_value *answer) {
    const char *method = vial_get_str(req, "method"), *path = vial_get_str(req, "path");
    const char *what = vial_arena_sprintf(a, "lesson %s, request %zu (%s %s)", lesson_name, index, method, path);
    vial_client_opts opts = request_opts(a, req);
    capture_begin();
    vial_response *r = vial_client_open(c, method, path, &opts);
    char *printed = capture_end();
    const vial_value *differs = vial_object_get(req, "differs");

    /* status */
    int64_t flask_status = vial_get_int(answer, "status", -1);
    int64_t want_status = vial_get_int(differs, "status", flask_status);
    if (vial_object_get(differs, "status"))
        cr_assert_neq(want_status, flask_status, "%s: a declared difference that is none", what);
    cr_assert_eq(r->status, want_status, "%s: status %d, Flask's %lld%s", what, r->status, (long long)flask_status,
                 want_status != flask_status ? " (a declared difference)" : "");

    if (vial_object_get(differs, "status")) {
        /* another status: the page is vial's for that status, not Flask's for its own */
        const char *needle = vial_get_str(differs, "body_contains");
        cr_assert(needle && strstr(r->body, needle), "%s: body lacks %s:\n%s", what, needle ? needle : "?", r->body);
    } else {
        /* headers */
        char *want_h = flask_headers(a, vial_object_get(answer, "headers"));
        char *got_h = vial_headers_text(a, r);
        cr_assert_str_eq(got_h, want_h, "%s: headers\n--- vial\n%s--- Flask\n%s", what, got_h, want_h);
        /* body */
        size_t want_len;
        const char *want_body;
        if (vial_get_str(answer, "body_base64")) {
            want_body = base64_decode(a, vial_get_str(answer, "body_base64"), &want_len);
        } else {
            want_body = vial_get_str(answer, "body");
            want_len = strlen(want_body);
        }
        cr_assert(r->body_len == want_len && memcmp(r->body, want_body, want_len) == 0,
                  "%s: body (%zu bytes)\n--- vial\n%s\n--- Flask (%zu bytes)\n%s", what, r->body_len, r->body, want_len,
                  vial_get_str(answer, "body") ? want_body : "(binary)");
    }

    /* console */
    char *want_out = (char *)vial_get_str(answer, "stdout_expected");
    const vial_value *replace = vial_object_get(differs, "stdout_replace");
    for (size_t i = 0; i < vial_len(replace); i++) {
        const vial_value *pair = vial_array_get(replace, i);
        const char *from = vial_str_of(vial_array_get(pair, 0)), *to = vial_str_of(vial_array_get(pair, 1));
        cr_assert(strstr(want_out, from), "%s: declared console difference %s not in Flask's output", what, from);
        want_out = replace_all(a, want_out, from, to);
    }
    char *got_out = printed;
    if (vial_get_bool(req, "stdout_sorted", false)) {
        want_out = sorted_lines(a, want_out);
        got_out = sorted_lines(a, got_out);
    }
    cr_assert_str_eq(got_out, want_out, "%s: console\n--- vial\n%s--- Flask\n%s", what, got_out, want_out);
    free(printed);

    /* saved file */
    if (vial_get_str(answer, "saved_base64")) {
        size_t want_len, got_len;
        const char *want = base64_decode(a, vial_get_str(answer, "saved_base64"), &want_len);
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", root, vial_get_str(req, "saved"));
        char *got = test_read_file(path, &got_len);
        cr_assert_not_null(got, "%s: nothing saved at %s", what, path);
        cr_assert(got_len == want_len && memcmp(got, want, want_len) == 0, "%s: saved file differs", what);
        free(got);
    }
}

/* ---- per lesson ---- */

ParameterizedTestParameters(tutorial, lesson_matches_flask) {
    static size_t indexes[64];
    cr_assert_leq(tutorial_lesson_count, 64);
    for (size_t i = 0; i < tutorial_lesson_count; i++) indexes[i] = i;
    return cr_make_param_array(size_t, indexes, tutorial_lesson_count);
}

ParameterizedTest(size_t *index, tutorial, lesson_matches_flask) {
    const lesson *l = &tutorial_lessons[*index];
    vial_value *requests = load_json("tutorial/requests.json");
    vial_value *answers = load_json("tutorial/flask_answers.json");
    vial_value *spec = lesson_entry(requests, l->name);
    vial_value *flask = lesson_entry(answers, l->name);
    cr_assert_not_null(spec, "lesson %s has no requests in tests/data/tutorial/requests.json", l->name);
    cr_assert_not_null(flask, "lesson %s has no answers: regenerate flask_answers.json", l->name);
    vial_value *reqs = vial_object_get(spec, "requests");
    vial_value *ans = vial_object_get(flask, "answers");
    cr_assert_eq(vial_len(reqs), vial_len(ans), "lesson %s: flask_answers.json is stale", l->name);
    cr_assert_gt(vial_len(reqs), 0);

    char *root = scratch_root();
    vial_app *app = l->create();
    cr_assert_not_null(app);
    cr_assert_null(vial_app_error(app), "lesson %s: %s", l->name, vial_app_error(app));
    cr_assert_eq(vial_app_set_root(app, root), 0);
    cr_assert_eq(vial_config_bool(app, "DEBUG", false), vial_get_bool(flask, "debug", false),
                 "lesson %s: app.config[\"DEBUG\"]", l->name);

    vial_arena *a = vial_arena_new(64 * 1024);
    vial_client *c = vial_test_client(app);
    for (size_t i = 0; i < vial_len(reqs); i++)
        check_request(a, c, root, l->name, i, vial_array_get(reqs, i), vial_array_get(ans, i));
    vial_client_free(c);

    /* `routes` prints what `flask routes` prints for the course's app */
    char *argv[] = {"tutorial", "routes", NULL};
    capture_begin();
    int rc = vial_main(app, 2, argv);
    char *routes = capture_end();
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(routes, vial_get_str(flask, "routes"), "lesson %s: routes\n--- vial\n%s--- flask routes\n%s",
                     l->name, routes, vial_get_str(flask, "routes"));
    free(routes);

    vial_arena_free(a);
    vial_app_free(app);
    remove_scratch(root);
}

/* Every lesson in the data is a lesson of the example (none renamed or dropped). */
Test(tutorial, data_names_only_known_lessons) {
    vial_value *requests = load_json("tutorial/requests.json");
    vial_value *lessons = vial_object_get(requests, "lessons");
    cr_assert_eq(vial_len(lessons), tutorial_lesson_count);
    for (size_t i = 0; i < vial_len(lessons); i++) {
        const char *name = vial_get_str(vial_array_get(lessons, i), "lesson");
        cr_assert_not_null(tutorial_find_lesson(name), "requests.json names an unknown lesson %s", name);
    }
}

/* The user converter of the regex lesson: a rule without the regex is refused at registration. */
Test(tutorial, regex_converter_needs_its_argument) {
    vial_app *app = vial_app_new("regex-args");
    cr_assert_eq(vial_add_converter(app, "re", &RegexConverter), 0);
    cr_assert_eq(vial_add_url_rule(app, "/x/<re:id>", "x", VIAL_GET, regex_goods), -1);
    cr_assert(strstr(vial_app_error(app), "needs the regex"), "%s", vial_app_error(app));
    vial_app_free(app);
}

/* vial_app_url_map lists the rules in registration order, with the effective methods. */
Test(tutorial, url_map_lists_rules) {
    vial_app *app = lesson_redirect();
    const vial_router *map = vial_app_url_map(app);
    cr_assert_eq(vial_router_count(map), 3);
    const char *rules[] = {"/static/<path:filename>", "/user", "/login"};
    const char *endpoints[] = {"static", "index", "login"};
    for (size_t i = 0; i < 3; i++) {
        const vial_rule_info *r = vial_router_rule(map, i);
        cr_assert_str_eq(r->rule, rules[i]);
        cr_assert_str_eq(r->endpoint, endpoints[i]);
        cr_assert_eq(r->methods, VIAL_GET | VIAL_HEAD | VIAL_OPTIONS);
    }
    vial_app_free(app);
}

/* Python's reprs, for the cases the lessons' requests do not reach. */
static void reprs_view(vial_req *rq, vial_res *rs) {
    vial_printf(rs, "%s\n", py_str(rq, "it's"));
    vial_printf(rs, "%s\n", py_str(rq, "a'b\"c"));
    vial_printf(rs, "%s\n", py_str(rq, "tab\there\x01\xc2\x85"));
    vial_printf(rs, "%s\n", py_str(rq, "\xe5\xb0\x8f\xe6\x98\x8e\xe2\x80\xa8"));
    vial_printf(rs, "%s\n", py_str(rq, NULL));
    vial_printf(rs, "%s\n", py_bytes(rq, (vial_str){"a'\"\\\x00\xff", 6}));
    vial_printf(rs, "%s\n", py_address(rq, "[::1]:5000"));
    vial_printf(rs, "%s\n", py_address(rq, ""));
    vial_printf(rs, "%s\n", py_value(rq, vial_pack(rq, "{s:f, s:[n, b, I]}", "pi", 3.0, "l", true, (int64_t)-7)));
}

Test(tutorial, pyprint_reprs) {
    vial_app *app = vial_app_new("pyprint");
    vial_add_url_rule(app, "/", "reprs", VIAL_GET, reprs_view);
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/");
    cr_assert_eq(r->status, 200);
    /* what Python 3.11 prints for the same values */
    cr_assert_str_eq(r->body, "\"it's\"\n"
                              "'a\\'b\"c'\n"
                              "'tab\\there\\x01\\x85'\n"
                              "'\xe5\xb0\x8f\xe6\x98\x8e\\u2028'\n"
                              "None\n"
                              "b'a\\'\"\\\\\\x00\\xff'\n"
                              "('::1', 5000)\n"
                              "None\n"
                              "{'pi': 3.0, 'l': [None, True, -7]}\n");
    vial_client_free(c);
    vial_app_free(app);
}
