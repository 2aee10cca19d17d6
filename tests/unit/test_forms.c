/* Forms and cookies beyond the Werkzeug vectors: the multidict, limits
 * (413s), broken bodies (400s), streaming with every chunking, temp files
 * (created above the threshold, removed at arena reset or on error),
 * FileStorage.save, secure_filename, Set-Cookie safety, option headers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "forms_testutil.h"
#include "testutil.h"
#include "vial.h"

/* ---- multidict ---- */

Test(multidict, order_get_getlist_keys_grouping) {
    vial_arena *a = vial_arena_new(4096);
    vial_multidict md;
    vial_multidict_init(&md, a, false);
    const char *pairs[][2] = {{"a", "1"}, {"b", "2"}, {"a", "3"}, {"c", "4"}, {"b", "5"}};
    for (size_t i = 0; i < 5; i++) cr_assert_eq(vial_multidict_add(&md, pairs[i][0], 1, pairs[i][1], 1), 0);
    cr_assert_eq(md.len, 5);
    for (size_t i = 0; i < 5; i++) cr_assert_str_eq(md.items[i].value.ptr, pairs[i][1]); /* wire order */
    cr_assert_str_eq(vial_multidict_get(&md, "a"), "1");
    cr_assert_null(vial_multidict_get(&md, "A"));
    cr_assert_null(vial_multidict_get(&md, "zz"));
    vial_strs l = vial_multidict_getlist(&md, "b");
    cr_assert_eq(l.len, 2);
    cr_assert_str_eq(l.items[0], "2");
    cr_assert_str_eq(l.items[1], "5");
    cr_assert_eq(vial_multidict_getlist(&md, "none").len, 0);
    cr_assert_eq(vial_multidict_count(&md, "a"), 2);
    vial_strs k = vial_multidict_keys(&md);
    cr_assert_eq(k.len, 3);
    cr_assert_str_eq(k.items[0], "a");
    cr_assert_str_eq(k.items[2], "c");
    const vial_pair *g = vial_multidict_items_multi(&md);
    const char *grouped = "a1a3b2b5c4";
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(g[i].key.ptr[0], grouped[2 * i]);
        cr_assert_eq(g[i].value.ptr[0], grouped[2 * i + 1]);
    }
    /* d[key] = value: one value, at the key's first place */
    cr_assert_eq(vial_multidict_set(&md, "a", "9"), 0);
    cr_assert_eq(md.len, 4);
    cr_assert_str_eq(md.items[0].value.ptr, "9");
    cr_assert_eq(vial_multidict_count(&md, "a"), 1);
    cr_assert_eq(vial_multidict_set(&md, "new", "x"), 0);
    cr_assert_str_eq(md.items[md.len - 1].key.ptr, "new");
    cr_assert_eq(vial_multidict_remove(&md, "b"), 2);
    cr_assert_null(vial_multidict_get(&md, "b"));
    cr_assert_eq(md.len, 3);
    vial_arena_free(a);
}

Test(multidict, case_insensitive_headers) {
    vial_arena *a = vial_arena_new(4096);
    vial_multidict h;
    vial_multidict_init(&h, a, true);
    vial_multidict_add(&h, "Content-Type", 12, "text/plain", 10);
    vial_multidict_add(&h, "X-A", 3, "1", 1);
    vial_multidict_add(&h, "x-a", 3, "2", 1);
    cr_assert_str_eq(vial_multidict_get(&h, "content-type"), "text/plain");
    cr_assert_str_eq(vial_multidict_get(&h, "CONTENT-TYPE"), "text/plain");
    cr_assert_eq(vial_multidict_getlist(&h, "X-a").len, 2);
    cr_assert_str_eq(h.items[0].key.ptr, "Content-Type"); /* spelling kept */
    vial_arena_free(a);
}

/* A large dictionary (indexed) must answer exactly like a linear scan. */
Test(multidict, indexed_matches_linear) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_multidict md;
    vial_multidict_init(&md, a, true);
    char key[32], val[32];
    uint32_t seed = 7;
    for (int i = 0; i < 6000; i++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % 150);
        int kl = snprintf(key, sizeof key, (k & 1) ? "Key%d" : "kEY%d", k);
        int vl = snprintf(val, sizeof val, "v%d", i);
        cr_assert_eq(vial_multidict_add(&md, key, (size_t)kl, val, (size_t)vl), 0);
        if (i == 3000) { /* set() and remove() on the indexed dictionary too */
            vial_multidict_set(&md, "key4", "only");
            vial_multidict_remove(&md, "KEY5");
        }
    }
    cr_assert_gt(md.slot_count, 0, "the index should have been built");
    for (int k = 0; k < 150; k++) {
        snprintf(key, sizeof key, "KEY%d", k);
        vial_strs l = vial_multidict_getlist(&md, key);
        size_t j = 0;
        for (size_t i = 0; i < md.len; i++) {
            if (strcasecmp(md.items[i].key.ptr, key) != 0) continue;
            cr_assert_lt(j, l.len, "%s: getlist too short", key);
            cr_assert_eq(l.items[j], md.items[i].value.ptr, "%s[%zu]", key, j);
            j++;
        }
        cr_assert_eq(j, l.len, "%s: getlist %zu vs %zu", key, l.len, j);
        const char *first = vial_multidict_get(&md, key);
        if (j)
            cr_assert_eq(first, l.items[0]);
        else
            cr_assert_null(first);
    }
    const vial_pair *g = vial_multidict_items_multi(&md);
    vial_strs keys = vial_multidict_keys(&md);
    size_t at = 0;
    for (size_t ki = 0; ki < keys.len; ki++) {
        size_t n = vial_multidict_count(&md, keys.items[ki]);
        for (size_t i = 0; i < n; i++, at++) cr_assert_eq(strcasecmp(g[at].key.ptr, keys.items[ki]), 0);
    }
    cr_assert_eq(at, md.len);
    vial_arena_free(a);
}

/* ---- urlencoded limits ---- */

Test(urlencoded, limits_and_stream) {
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_form_error err;
    vial_form_limits lim = {.max_fields = 3, .max_bytes = 20};
    vial_multidict_init(&form, a, false);
    cr_assert_eq(vial_parse_urlencoded(a, "a=1&b=2&c=3", 11, &lim, &form, &err), 0);
    cr_assert_eq(form.len, 3);
    vial_multidict_init(&form, a, false);
    cr_assert_eq(vial_parse_urlencoded(a, "a=1&b=2&c=3&d=4", 15, &lim, &form, &err), -1);
    cr_assert_eq(err.status, 413);
    cr_assert(strstr(err.message, "3 fields"), "%s", err.message);
    vial_multidict_init(&form, a, false);
    cr_assert_eq(vial_parse_urlencoded(a, "a=123456789012345678", 21, &lim, &form, &err), -1);
    cr_assert_eq(err.status, 413);
    /* streamed one byte at a time: same answer, and never more than max+1 bytes read */
    const char *body = "x=%E4%B8%AD&y=a+b";
    memreader r = memreader_of(body, strlen(body), 1, 0);
    vial_multidict_init(&form, a, false);
    cr_assert_eq(vial_parse_urlencoded_stream(a, mem_read, &r, &lim, &form, &err), 0, "%s", err.message);
    cr_assert_str_eq(vial_multidict_get(&form, "x"), "\xe4\xb8\xad");
    cr_assert_str_eq(vial_multidict_get(&form, "y"), "a b");
    char big[100];
    memset(big, 'a', sizeof big);
    r = memreader_of(big, sizeof big, 0, 0);
    vial_multidict_init(&form, a, false);
    cr_assert_eq(vial_parse_urlencoded_stream(a, mem_read, &r, &lim, &form, &err), -1);
    cr_assert_eq(err.status, 413);
    cr_assert_leq(r.pos, 21, "read %zu bytes of a body over the limit", r.pos);
    vial_arena_free(a);
}

static ssize_t failing_read(void *ctx, char *dst, size_t n) {
    (void)ctx, (void)dst, (void)n;
    return -1;
}

Test(urlencoded, reader_error_is_400) {
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_multidict_init(&form, a, false);
    vial_form_error err;
    cr_assert_eq(vial_parse_urlencoded_stream(a, failing_read, NULL, NULL, &form, &err), -1);
    cr_assert_eq(err.status, 400);
    vial_arena_free(a);
}

Test(urlencoded, url_unquote) {
    vial_arena *a = vial_arena_new(4096);
    size_t n;
    char *s = vial_url_unquote(a, "a%20b+c%zz%4", 12, true, &n);
    cr_assert_str_eq(s, "a b c%zz%4");
    s = vial_url_unquote(a, "a+b%00", 6, false, &n);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(s, "a+b\0", 4), 0);
    s = vial_url_unquote(a, "", 0, false, &n);
    cr_assert_str_eq(s, "");
    vial_arena_free(a);
}

/* ---- multipart ---- */

static int parse_mp(vial_arena *a, const char *ct, const char *body, size_t len, size_t chunk, uint32_t seed,
                    const vial_form_limits *lim, vial_multidict *form, vial_files *files, vial_form_error *err) {
    vial_multidict_init(form, a, false);
    memset(files, 0, sizeof *files);
    memreader r = memreader_of(body, len, chunk, seed);
    return vial_parse_form(a, ct, strlen(ct), mem_read, &r, lim, form, files, err);
}

#define CT "multipart/form-data; boundary=XyZ"

static char *build_body(size_t nparts, const char *name, const char *value, size_t *len) {
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    for (size_t i = 0; i < nparts; i++)
        vial_buf_printf(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", name, value);
    vial_buf_puts(&b, "--XyZ--\r\n");
    *len = b.len;
    return b.data;
}

Test(multipart, part_and_field_limits_are_413) {
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_files files;
    vial_form_error err;
    size_t len;
    char *body = build_body(1001, "f", "v", &len);
    cr_assert_eq(parse_mp(a, CT, body, len, 0, 0, NULL, &form, &files, &err), -1);
    cr_assert_eq(err.status, 413, "%s", err.message);
    cr_assert_eq(form.len, 0, "a failed parse keeps nothing");
    free(body);
    body = build_body(1000, "f", "v", &len);
    cr_assert_eq(parse_mp(a, CT, body, len, 0, 0, NULL, &form, &files, &err), 0, "%s", err.message);
    cr_assert_eq(form.len, 1000);
    free(body);
    vial_form_limits lim = {.max_field_bytes = 10};
    body = build_body(1, "f", "0123456789", &len);
    cr_assert_eq(parse_mp(a, CT, body, len, 1, 0, &lim, &form, &files, &err), 0, "%s", err.message);
    free(body);
    body = build_body(1, "f", "0123456789A", &len);
    cr_assert_eq(parse_mp(a, CT, body, len, 1, 0, &lim, &form, &files, &err), -1);
    cr_assert_eq(err.status, 413);
    cr_assert(strstr(err.message, "'f'"), "%s", err.message);
    free(body);
    lim = (vial_form_limits){.max_memory = 25};
    body = build_body(3, "f", "0123456789", &len);
    cr_assert_eq(parse_mp(a, CT, body, len, 0, 0, &lim, &form, &files, &err), -1);
    cr_assert_eq(err.status, 413);
    free(body);
    vial_arena_free(a);
}

Test(multipart, header_block_limit_is_413) {
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_files files;
    vial_form_error err;
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    vial_buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Long: ");
    for (int i = 0; i < 20000; i++) vial_buf_putc(&b, 'h');
    vial_buf_puts(&b, "\r\n\r\nv\r\n--XyZ--\r\n");
    cr_assert_eq(parse_mp(a, CT, b.data, b.len, 0, 0, NULL, &form, &files, &err), -1);
    cr_assert_eq(err.status, 413, "%s", err.message);
    vial_form_limits lim = {.max_header_bytes = 32768};
    cr_assert_eq(parse_mp(a, CT, b.data, b.len, 0, 0, &lim, &form, &files, &err), 0, "%s", err.message);
    vial_buf_free(&b);
    vial_arena_free(a);
}

Test(multipart, broken_bodies_are_400_and_empty) {
    static const char *const bodies[] = {
        "",                                                                                   /* nothing */
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1",                       /* no closing boundary */
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"",                                /* ends in headers */
        "--XyZ\r\nno colon\r\n\r\n1\r\n--XyZ--",                                              /* bad header line */
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX: \xff\r\n\r\n1\r\n--XyZ--", /* not UTF-8 */
        "--XyZ\r\nContent-Disposition: form-data; filename*=UTF-8''%FF\r\n\r\n1\r\n--XyZ--",  /* bad RFC 2231 */
        "preamble only",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        vial_arena *a = vial_arena_new(4096);
        vial_multidict form;
        vial_files files;
        vial_form_error err;
        cr_expect_eq(parse_mp(a, CT, bodies[i], strlen(bodies[i]), 0, 0, NULL, &form, &files, &err), -1, "body %zu", i);
        cr_expect_eq(err.status, 400, "body %zu: %d %s", i, err.status, err.message);
        cr_expect_eq(form.len + files.len, 0, "body %zu", i);
        vial_arena_free(a);
    }
    /* the form's earlier fields are dropped with it */
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_files files;
    vial_form_error err;
    const char *b = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ\r\n"
                    "Content-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n2\r\n--XyZ\r\n\r\n";
    cr_assert_eq(parse_mp(a, CT, b, strlen(b), 0, 0, NULL, &form, &files, &err), -1);
    cr_assert_eq(form.len + files.len, 0);
    /* no boundary parameter, or one that is not ASCII */
    cr_assert_eq(parse_mp(a, "multipart/form-data", "x", 1, 0, 0, NULL, &form, &files, &err), -1);
    cr_assert_eq(err.status, 400);
    cr_assert_eq(parse_mp(a, "multipart/form-data; boundary=\xe9", "x", 1, 0, 0, NULL, &form, &files, &err), -1);
    /* a body that is no form at all is left unread */
    memreader r = memreader_of("{}", 2, 0, 0);
    cr_assert_eq(vial_parse_form(a, "application/json", 16, mem_read, &r, NULL, &form, &files, &err), 1);
    cr_assert_eq(r.pos, 0);
    cr_assert_eq(vial_parse_form(a, NULL, 0, mem_read, &r, NULL, &form, &files, &err), 1);
    vial_arena_free(a);
}

Test(multipart, reader_error_is_400) {
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_multidict_init(&form, a, false);
    vial_files files = {0};
    vial_form_error err;
    cr_assert_eq(vial_parse_multipart(a, "x", 1, failing_read, NULL, NULL, &form, &files, &err), -1);
    cr_assert_eq(err.status, 400);
    vial_arena_free(a);
}

/* A body with a file of `size` pseudo-random bytes (which contain CR, LF and
 * near-boundaries) between two fields. */
static char *file_body(size_t size, char **content, size_t *len) {
    char *data = malloc(size);
    uint32_t s = 12345;
    for (size_t i = 0; i < size; i++) {
        s = s * 1103515245u + 12345u;
        uint32_t r = s >> 16;
        data[i] = (r % 7 == 0) ? "\r\n-X"[r % 4] : (char)r;
    }
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    vial_buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"before\"\r\n\r\nB\r\n");
    vial_buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"big.bin\"\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n");
    vial_buf_append(&b, data, size);
    vial_buf_puts(&b, "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nA\r\n--XyZ--\r\n");
    *content = data;
    *len = b.len;
    return b.data;
}

/* Descriptors open in this process (to check that parsing leaks none). */
static int open_fds(void) {
    int n = 0;
    for (int fd = 0; fd < 1024; fd++) n += fcntl(fd, F_GETFD) != -1;
    return n;
}

Test(multipart, big_file_streams_to_temp_file_any_chunking) {
    size_t size = 3 * 1024 * 1024 + 17, len;
    char *content;
    char *body = file_body(size, &content, &len);
    struct {
        size_t chunk;
        uint32_t seed;
    } ways[] = {{0, 0}, {1, 0}, {4096, 0}, {65536, 99}, {300000, 5}, {7, 3}};
    int fds_before = open_fds();
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        vial_arena *a = vial_arena_new(4096);
        vial_multidict form;
        vial_files files;
        vial_form_error err;
        cr_assert_eq(parse_mp(a, CT, body, len, ways[w].chunk, ways[w].seed, NULL, &form, &files, &err), 0,
                     "way %zu: %s", w, err.message);
        cr_assert_eq(form.len, 2);
        cr_assert_str_eq(form.items[0].value.ptr, "B");
        cr_assert_str_eq(form.items[1].value.ptr, "A");
        cr_assert_eq(files.len, 1);
        vial_file *f = files.items[0];
        cr_assert_eq(f->size, size);
        cr_assert_null(f->data, "3 MiB must not stay in memory");
        cr_assert_not_null(f->path);
        cr_assert_eq(open_fds(), fds_before, "the parse left descriptors open");
        struct stat st;
        cr_assert_eq(stat(f->path, &st), 0);
        cr_assert_eq((size_t)st.st_size, size);
        const char *bytes = vial_file_bytes(f, a);
        cr_assert(bytes && memcmp(bytes, content, size) == 0, "way %zu: file content differs", w);
        char *path = strdup(f->path);
        vial_arena_reset(a); /* the request ends: the temp file goes */
        cr_assert_neq(stat(path, &st), 0, "%s still exists after the arena reset", path);
        cr_assert_eq(errno, ENOENT);
        free(path);
        vial_arena_free(a);
    }
    free(body);
    free(content);
}

Test(multipart, threshold_memory_budget_and_tmp_dir) {
    char dir[] = "/tmp/vial-forms-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    for (int i = 0; i < 4; i++) {
        vial_buf_printf(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"f%d\"; filename=\"%d.txt\"\r\n\r\n", i, i);
        for (int k = 0; k < 100; k++) vial_buf_putc(&b, 'a' + i);
        vial_buf_puts(&b, "\r\n");
    }
    vial_buf_puts(&b, "--XyZ--\r\n");
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_files files;
    vial_form_error err;
    /* each part: a 59-byte header block and 100 bytes; with a 450-byte budget
     * the first two files fit in memory, the last two go to disk */
    vial_form_limits lim = {.file_threshold = 100, .max_memory = 450, .tmp_dir = dir};
    cr_assert_eq(parse_mp(a, CT, b.data, b.len, 0, 0, &lim, &form, &files, &err), 0, "%s", err.message);
    cr_assert_eq(files.len, 4);
    cr_assert_not_null(files.items[0]->data);
    cr_assert_not_null(files.items[1]->data);
    cr_assert_null(files.items[2]->data, "over the memory budget: on disk");
    cr_assert_null(files.items[3]->data, "over the memory budget: on disk");
    cr_assert_not_null(files.items[2]->path);
    cr_assert_eq(strncmp(files.items[2]->path, dir, strlen(dir)), 0, "temp file not in tmp_dir: %s",
                 files.items[2]->path);
    cr_assert_eq(vial_files_get(&files, "f3"), files.items[3]);
    cr_assert_null(vial_files_get(&files, "nope"));
    cr_assert_eq(vial_files_getlist(&files, "f1", a).len, 1);
    lim.file_threshold = 99;
    cr_assert_eq(parse_mp(a, CT, b.data, b.len, 3, 0, &lim, &form, &files, &err), 0, "%s", err.message);
    for (int i = 0; i < 4; i++) cr_assert_not_null(files.items[i]->path, "file %d over the threshold", i);
    /* a tmp_dir that does not exist: 500 with the reason, nothing kept */
    lim.tmp_dir = "/nonexistent/vial";
    cr_assert_eq(parse_mp(a, CT, b.data, b.len, 0, 0, &lim, &form, &files, &err), -1);
    cr_assert_eq(err.status, 500);
    cr_assert(strstr(err.message, "/nonexistent/vial"), "%s", err.message);
    vial_arena_free(a);
    rmdir(dir); /* fails (and the test notices) if a temp file was left behind */
    struct stat st;
    cr_assert_neq(stat(dir, &st), 0, "temp files left in %s", dir);
    vial_buf_free(&b);
}

Test(multipart, temp_files_removed_on_error) {
    char dir[] = "/tmp/vial-forms-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    size_t size = 200000, len;
    char *content;
    char *body = file_body(size, &content, &len);
    len -= 9; /* cut "--XyZ--\r\n": no closing boundary */
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_files files;
    vial_form_error err;
    vial_form_limits lim = {.file_threshold = 1000, .tmp_dir = dir};
    cr_assert_eq(parse_mp(a, CT, body, len, 0, 0, &lim, &form, &files, &err), -1);
    cr_assert_eq(err.status, 400);
    cr_assert_eq(rmdir(dir), 0, "the temp file must be gone as soon as the parse fails");
    vial_arena_free(a);
    free(body);
    free(content);
}

Test(multipart, blanks_after_boundary_past_the_buffer_are_400) {
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    vial_buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ");
    for (int i = 0; i < 100000; i++) vial_buf_putc(&b, ' ');
    vial_buf_puts(&b, "\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n--XyZ--\r\n");
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_files files;
    vial_form_error err;
    cr_assert_eq(parse_mp(a, CT, b.data, b.len, 0, 0, NULL, &form, &files, &err), -1);
    cr_assert_eq(err.status, 400);
    cr_assert(strstr(err.message, "boundary line"), "%s", err.message);
    vial_buf_free(&b);
    vial_arena_free(a);
}

/* ---- save ---- */

Test(file, save_memory_and_disk) {
    char dir[] = "/tmp/vial-forms-save-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    size_t size = 700000, len;
    char *content;
    char *body = file_body(size, &content, &len);
    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_files files;
    vial_form_error err;
    cr_assert_eq(parse_mp(a, CT, body, len, 0, 0, NULL, &form, &files, &err), 0);
    vial_file *f = files.items[0];
    cr_assert_not_null(f->path, "700 KB is over the 500 KiB default threshold");
    char path[256];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    for (int round = 0; round < 2; round++) { /* twice: the second save writes the same bytes */
        cr_assert_eq(vial_file_save(f, path), 0, "%s", strerror(errno));
        size_t got_len;
        char *got = test_read_file(path, &got_len);
        cr_assert(got && got_len == size && memcmp(got, content, size) == 0, "round %d", round);
        free(got);
    }
    /* an in-memory file, saved over the existing one (truncated) */
    const char *small = "--XyZ\r\nContent-Disposition: form-data; name=\"s\"; filename=\"s.txt\"\r\n\r\nhi\r\n--XyZ--";
    cr_assert_eq(parse_mp(a, CT, small, strlen(small), 0, 0, NULL, &form, &files, &err), 0);
    cr_assert_not_null(files.items[0]->data);
    cr_assert_eq(vial_file_save(files.items[0], path), 0);
    size_t got_len;
    char *got = test_read_file(path, &got_len);
    cr_assert(got && got_len == 2 && memcmp(got, "hi", 2) == 0);
    free(got);
    snprintf(path, sizeof path, "%s/missing/out.bin", dir);
    cr_assert_eq(vial_file_save(files.items[0], path), -1);
    cr_assert_eq(errno, ENOENT);
    snprintf(path, sizeof path, "%s/out.bin", dir);
    unlink(path);
    vial_arena_free(a);
    cr_assert_eq(rmdir(dir), 0);
    free(body);
    free(content);
}

/* ---- secure_filename (examples from Werkzeug's documentation) ---- */

Test(secure_filename, werkzeug_examples) {
    vial_arena *a = vial_arena_new(4096);
    struct {
        const char *in, *out;
        int flags;
    } cases[] = {
        {"My cool movie.mov", "My_cool_movie.mov", 0},
        {"../../../etc/passwd", "etc_passwd", 0},
        {"i contain cool \xc3\xbcml\xc3\xa4uts.txt", "i_contain_cool_umlauts.txt", 0},
        {"\xe4\xb8\xad\xe6\x96\x87.txt", "txt", 0},
        {"...", "", 0},
        {"CON.txt", "CON.txt", 0},
        {"CON.txt", "_CON.txt", VIAL_SECURE_FILENAME_WINDOWS},
        {"nul", "_nul", VIAL_SECURE_FILENAME_WINDOWS},
        {"a\\b.txt", "ab.txt", 0},
        {"a\\b.txt", "a_b.txt", VIAL_SECURE_FILENAME_WINDOWS},
        {"\xef\xac\x81le.pdf", "file.pdf", 0}, /* the "fi" ligature */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = vial_secure_filename_in(a, cases[i].in, strlen(cases[i].in), cases[i].flags);
        cr_expect_str_eq(r, cases[i].out, "%s", cases[i].in);
    }
    vial_arena_free(a);
}

/* ---- Set-Cookie safety and Partitioned ---- */

Test(set_cookie, refuses_header_splitting_and_bad_values) {
    vial_arena *a = vial_arena_new(4096);
    vial_form_error err;
    cr_assert_null(vial_dump_cookie(a, "a\r\nSet-Cookie: x", "v", 1, NULL, NULL, &err));
    cr_assert(strstr(err.message, "CR or LF"), "%s", err.message);
    vial_cookie_opts o = {.expires_str = "x\nInjected: 1"};
    cr_assert_null(vial_dump_cookie(a, "a", "v", 1, &o, NULL, &err));
    o = (vial_cookie_opts){VIAL_COOKIE_EXPIRES(253402300800LL)};
    cr_assert_null(vial_dump_cookie(a, "a", "v", 1, &o, NULL, &err));
    cr_assert(strstr(err.message, "out of range"), "%s", err.message);
    /* values, paths and domains can't split the header: they are escaped */
    o = (vial_cookie_opts){.path = "/a\r\nb", .domain = "ex\r\nample.com"};
    char *line = vial_dump_cookie(a, "a", "x\r\ny", 4, &o, NULL, &err);
    cr_assert_not_null(line, "%s", err.message);
    cr_assert_null(strpbrk(line, "\r\n"), "%s", line);
    cr_assert_str_eq(line, "a=\"x\\015\\012y\"; Domain=\"ex\\015\\012ample.com\"; Path=/a%0D%0Ab");
    vial_arena_free(a);
}

Test(set_cookie, partitioned_like_werkzeug_3_1) {
    vial_arena *a = vial_arena_new(4096);
    vial_form_error err;
    vial_cookie_opts o = {.partitioned = true, .samesite = "none", VIAL_COOKIE_MAX_AGE(60), .now = 1700000000};
    char *line = vial_dump_cookie(a, "k", "v", 1, &o, NULL, &err);
    cr_assert_str_eq(line, "k=v; Expires=Tue, 14 Nov 2023 22:14:20 GMT; Max-Age=60; Secure; Path=/; SameSite=None; "
                           "Partitioned");
    line = vial_dump_delete_cookie(a, "k", &o, NULL, &err);
    cr_assert_str_eq(line, "k=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; Path=/; SameSite=None; "
                           "Partitioned");
    vial_arena_free(a);
}

/* ---- parse_options_header, iri_to_uri, charsets ---- */

Test(options_header, content_types) {
    vial_arena *a = vial_arena_new(4096);
    vial_options_header h;
    vial_form_error err;
    cr_assert_eq(vial_parse_options_header(a, "Text/HTML; Charset=\"utf-8\"; q", 29, 0, &h, &err), 0);
    cr_assert_str_eq(h.value, "Text/HTML");
    cr_assert_eq(h.param_count, 2);
    cr_assert_str_eq(vial_options_get(&h, "charset"), "utf-8");
    cr_assert_null(vial_options_get(&h, "q"));
    cr_assert_str_eq(h.params[1].name, "q");
    const char *cd = "form-data; name=a; filename*=UTF-8''%E6%8A%A5.pdf; filename*1=x";
    cr_assert_eq(vial_parse_options_header(a, cd, strlen(cd), 0, &h, &err), 0);
    cr_assert_str_eq(vial_options_get(&h, "filename"), "\xe6\x8a\xa5.pdfx");
    cr_assert_eq(vial_parse_options_header(a, "x; f*=nope''abc", 15, 0, &h, &err), -1);
    cr_assert(strstr(err.message, "nope"), "%s", err.message);
    cr_assert_eq(vial_parse_options_header(a, "", 0, 0, &h, &err), 0);
    cr_assert_str_eq(h.value, "");
    /* latin-1 bytes (a WSGI header): 0xA0 is whitespace there */
    cr_assert_eq(vial_parse_options_header(a, "a;\xa0k=\xe9", 6, VIAL_OPTIONS_LATIN1, &h, &err), 0);
    cr_assert_str_eq(vial_options_get(&h, "k"), "\xc3\xa9");
    vial_arena_free(a);
}

Test(iri_to_uri, examples) {
    vial_arena *a = vial_arena_new(4096);
    vial_form_error err;
    const char *iri = "http://\xe2\x98\x83.net/p\xc3\xa5th?q=\xc3\xa8ry%DF";
    cr_assert_str_eq(vial_iri_to_uri(a, iri, strlen(iri), false, &err), "http://xn--n3h.net/p%C3%A5th?q=%C3%A8ry%DF");
    cr_assert_str_eq(vial_iri_to_uri(a, "/a b", 4, true, &err), "/a%20b");
    cr_assert_str_eq(vial_iri_to_uri(a, "/ab?", 4, true, &err), "/ab?");
    cr_assert_str_eq(vial_iri_to_uri(a, "/ab?", 4, false, &err), "/ab");
    cr_assert_null(vial_iri_to_uri(a, "http://[::1/", 12, false, &err));
    vial_arena_free(a);
}

Test(charset, decode) {
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    cr_assert_eq(vial_decode_charset(&b, "Latin-1", "caf\xe9", 4), 0);
    cr_assert_str_eq(b.data, "caf\xc3\xa9");
    vial_buf_reset(&b);
    cr_assert_eq(vial_decode_charset(&b, "windows-1252", "\x80\x81", 2), 0);
    cr_assert_str_eq(b.data, "\xe2\x82\xac\xef\xbf\xbd");
    vial_buf_reset(&b);
    cr_assert_eq(vial_decode_charset(&b, "us-ascii", "a\xff", 2), 0);
    cr_assert_str_eq(b.data, "a\xef\xbf\xbd");
    cr_assert_eq(vial_decode_charset(&b, "koi8-r", "a", 1), -1);
    vial_buf_free(&b);
}
