/* multipart.c - multipart/form-data bodies, streamed from a pull callback,
 * parsed the way Werkzeug 2.2's MultipartDecoder and MultiPartParser see
 * the whole body.
 *
 * The body is read in chunks into one fixed working buffer, so an upload of
 * any size costs the buffer plus whatever the parts keep: fields stay in
 * memory (bounded), a file part stays in memory up to file_threshold (and
 * while the memory budget lasts) and is otherwise streamed to a temp file,
 * closed once complete and removed by the arena when the request ends.
 *
 * Werkzeug's rules, which the parser follows exactly:
 *   - the preamble ends at the first "--boundary" (a line break before it is
 *     optional there) followed by "--" (the form is empty) or by optional
 *     blanks [ \t\f\v] and a line break (\r\n, \n or \r);
 *   - a part's headers end at the first \r\n\r\n, \r\r or \n\n; folded lines
 *     (a line break then space or tab) are joined with a space, blank lines
 *     skipped, each line must be UTF-8 and contain ':'; name and value are
 *     stripped; Content-Disposition is required;
 *   - a part is a file iff Content-Disposition has a filename parameter with
 *     a value (filename="" included); its name is the name parameter;
 *   - a part's data ends at the first line break followed by "--boundary"
 *     and either "--" (the last part: the rest is epilogue) or blanks and a
 *     line break;
 *   - a field is decoded with the charset of its own Content-Type (default
 *     UTF-8) with errors='replace';
 *   - more than max_fields parts is 413; any other problem (no closing
 *     boundary, no Content-Disposition, a bad header line) drops the whole
 *     form. Werkzeug then silently answers with an empty form; we return the
 *     error (400) so the app can answer 400, and leave form and files empty
 *     as Werkzeug would.
 * Where a chunk boundary would matter to Werkzeug (it reads 64 KiB at a
 * time), we behave as Werkzeug does on a body it receives in one piece, so
 * the result never depends on how the bytes arrive. One limit of ours: the
 * blanks between a boundary and its line break are kept in the working
 * buffer, so more than ~64 KiB of them is an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/forms.h"

#define CHUNK (64 * 1024)
#define FLUSH_MIN (16 * 1024) /* part data is handed on in pieces of at least this much */

enum { ST_PREAMBLE, ST_HEADERS, ST_DATA, ST_EPILOGUE };
enum { TAIL_FINAL, TAIL_PART, TAIL_INVALID, TAIL_MORE };

typedef struct mp {
    vial_arena *a;
    vial_form_limits lim;
    vial_form_error *err;
    vial_read_fn read;
    void *ctx;
    char *delim; /* "--" boundary */
    size_t delim_len;
    int state;
    char *buf;
    size_t len, cap;
    size_t scan; /* where the search resumes */
    bool eof;
    size_t parts;
    size_t memory_used; /* field values and in-memory files kept so far */
    /* the current part */
    bool is_file;
    const char *name;
    vial_multidict headers;
    vial_buf value;  /* field bytes, or a file's bytes while in memory */
    vial_file *file; /* current file part */
    int fd;          /* its temp file while being written, else -1 */
    vial_multidict *form;
    vial_files *files;
    size_t files_cap;
} mp;

static int fail(mp *p, int status, const char *fmt, ...) VIAL_PRINTF(3, 4);
static int fail(mp *p, int status, const char *fmt, ...) {
    if (p->err && p->err->status) return -1; /* keep the first reason */
    char msg[sizeof p->err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vial_form_fail(p->err, status, "%s", msg);
}

/* ---- temp files ---- */

static void file_cleanup(void *arg) {
    vial_file *f = arg;
    if (f->path) unlink(f->path);
    f->path = NULL;
}

static int write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        s += w, n -= (size_t)w;
    }
    return 0;
}

/* Moves the current file part from memory to a new temp file. */
static int spill(mp *p) {
    const char *dir = p->lim.tmp_dir;
    if (!dir || !*dir) dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    char *path = vial_arena_sprintf(p->a, "%s/vial-upload-XXXXXX", dir);
    if (!path) return fail(p, 500, "out of memory");
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) return fail(p, 500, "cannot create a temporary file for an upload in %s: %s", dir, strerror(errno));
    p->fd = fd;
    p->file->path = path;
    if (vial_arena_defer(p->a, file_cleanup, p->file) != 0) {
        file_cleanup(p->file);
        return fail(p, 500, "out of memory");
    }
    if (write_all(fd, p->value.data, p->value.len) != 0)
        return fail(p, 500, "cannot write an upload to %s: %s", path, strerror(errno));
    vial_buf_free(&p->value);
    return 0;
}

/* ---- part data ---- */

static int part_data(mp *p, const char *s, size_t n) {
    if (!n) return 0;
    if (!p->is_file) {
        if (p->value.len + n > p->lim.max_field_bytes)
            return fail(p, 413, "form field '%.60s' is larger than %zu bytes", p->name, p->lim.max_field_bytes);
        if (p->memory_used + p->value.len + n > p->lim.max_memory)
            return fail(p, 413, "the form's fields need more than %zu bytes of memory", p->lim.max_memory);
        if (vial_buf_append(&p->value, s, n) != 0) return fail(p, 500, "out of memory");
        return 0;
    }
    vial_file *f = p->file;
    if (p->fd < 0) {
        size_t total = f->size + n;
        if (total <= p->lim.file_threshold && p->memory_used + total <= p->lim.max_memory) {
            if (vial_buf_append(&p->value, s, n) != 0) return fail(p, 500, "out of memory");
            f->size = total;
            return 0;
        }
        if (spill(p) != 0) return -1;
    }
    if (write_all(p->fd, s, n) != 0) return fail(p, 500, "cannot write an upload to %s: %s", f->path, strerror(errno));
    f->size += n;
    return 0;
}

static int part_end(mp *p) {
    if (!p->is_file) {
        vial_charset cs = VIAL_CHARSET_UTF8;
        const vial_pair *ct = vial_multidict_find(&p->headers, "content-type", 12);
        if (ct && ct->value.len) {
            vial_options_header oh;
            vial_form_error e = {0};
            if (vial_parse_options_header(p->a, ct->value.ptr, ct->value.len, 0, &oh, &e) != 0)
                return fail(p, e.status, "%s", e.message);
            const char *charset = vial_options_get(&oh, "charset");
            if (charset) cs = vial_charset_lookup(charset, strlen(charset));
            if (cs == VIAL_CHARSET_UNKNOWN) cs = VIAL_CHARSET_UTF8; /* Werkzeug: LookupError (500) */
        }
        vial_buf text;
        vial_buf_init(&text, p->a, 0);
        if (vial_charset_decode(&text, cs, p->value.data ? p->value.data : "", p->value.len, false) != 0 ||
            !vial_buf_finish(&text))
            return fail(p, 500, "out of memory");
        p->memory_used += p->value.len;
        vial_buf_free(&p->value);
        if (vial_multidict_add_ref(p->form, p->name, strlen(p->name), text.data, text.len) != 0)
            return fail(p, 500, "out of memory");
        return 0;
    }
    vial_file *f = p->file;
    if (p->fd < 0) {
        char *data = vial_arena_strndup(p->a, p->value.data ? p->value.data : "", p->value.len);
        if (!data) return fail(p, 500, "out of memory");
        f->data = data;
        p->memory_used += f->size;
        vial_buf_free(&p->value);
    } else {
        int fd = p->fd;
        p->fd = -1;
        if (close(fd) != 0) return fail(p, 500, "cannot write an upload to %s: %s", f->path, strerror(errno));
    }
    if (p->files->len == p->files_cap) {
        size_t ncap = p->files_cap ? p->files_cap * 2 : 4;
        vial_file **items = vial_arena_alloc(p->a, ncap * sizeof *items);
        if (!items) return fail(p, 500, "out of memory");
        if (p->files->len) memcpy(items, p->files->items, p->files->len * sizeof *items);
        p->files->items = items;
        p->files_cap = ncap;
    }
    p->files->items[p->files->len++] = f;
    p->file = NULL;
    return 0;
}

/* ---- part headers ---- */

static bool bytes_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Trims Python whitespace (str.strip()) from s[*from..*to). */
static void py_strip(const char *s, size_t *from, size_t *to) {
    while (*from < *to) {
        size_t i = *from;
        uint32_t cp = vial_next_cp(s, *to, &i, false);
        if (!vial_py_isspace(cp)) break;
        *from = i;
    }
    while (*to > *from) {
        size_t start = *to - 1;
        while (start > *from && ((unsigned char)s[start] & 0xc0) == 0x80) start--;
        size_t i = start;
        uint32_t cp = vial_next_cp(s, *to, &i, false);
        if (!vial_py_isspace(cp)) break;
        *to = start;
    }
}

static int add_header_line(mp *p, const char *line, size_t n) {
    bool blank = true;
    for (size_t i = 0; i < n && blank; i++) blank = bytes_space((unsigned char)line[i]);
    if (blank) return 0;
    if (!vial_utf8_valid(line, n)) return fail(p, 400, "a multipart part header is not valid UTF-8");
    size_t from = 0, to = n;
    py_strip(line, &from, &to);
    const char *colon = memchr(line + from, ':', to - from);
    if (!colon) return fail(p, 400, "a multipart part header line has no ':'");
    size_t name_from = from, name_to = (size_t)(colon - line);
    size_t value_from = name_to + 1, value_to = to;
    py_strip(line, &name_from, &name_to);
    py_strip(line, &value_from, &value_to);
    if (vial_multidict_add(&p->headers, line + name_from, name_to - name_from, line + value_from,
                           value_to - value_from) != 0)
        return fail(p, 500, "out of memory");
    return 0;
}

/* Werkzeug's _parse_headers on the header block, then the part's start. */
static int part_begin(mp *p, const char *block, size_t n) {
    vial_multidict_init(&p->headers, p->a, true);
    /* join folded lines: a line break followed by space or tab becomes one space */
    char *joined = malloc(n + 1);
    if (!joined) return fail(p, 500, "out of memory");
    size_t jn = 0;
    for (size_t i = 0; i < n; i++) {
        char c = block[i];
        if (c == '\r' && i + 2 < n && block[i + 1] == '\n' && (block[i + 2] == ' ' || block[i + 2] == '\t')) {
            joined[jn++] = ' ';
            i += 2;
        } else if ((c == '\r' || c == '\n') && i + 1 < n && (block[i + 1] == ' ' || block[i + 1] == '\t')) {
            joined[jn++] = ' ';
            i += 1;
        } else {
            joined[jn++] = c;
        }
    }
    int rc = 0;
    size_t start = 0;
    for (size_t i = 0; i <= jn && rc == 0; i++) {
        if (i < jn && joined[i] != '\r' && joined[i] != '\n') continue;
        rc = add_header_line(p, joined + start, i - start);
        if (i + 1 < jn && joined[i] == '\r' && joined[i + 1] == '\n') i++;
        start = i + 1;
    }
    free(joined);
    if (rc != 0) return -1;
    const vial_pair *cd = vial_multidict_find(&p->headers, "content-disposition", 19);
    if (!cd) return fail(p, 400, "a multipart part has no Content-Disposition header");
    vial_options_header oh;
    vial_form_error e = {0};
    if (vial_parse_options_header(p->a, cd->value.ptr, cd->value.len, 0, &oh, &e) != 0)
        return fail(p, e.status, "%s", e.message);
    const char *name = vial_options_get(&oh, "name");
    const char *filename = vial_options_get(&oh, "filename");
    if (++p->parts > p->lim.max_fields)
        return fail(p, 413, "the multipart form has more than %zu parts", p->lim.max_fields);
    p->name = name ? name : "";
    p->is_file = filename != NULL;
    vial_buf_init(&p->value, NULL, 0);
    if (!p->is_file) return 0;
    vial_file *f = vial_arena_calloc(p->a, sizeof *f);
    if (!f) return fail(p, 500, "out of memory");
    f->field = p->name;
    f->filename = filename;
    f->headers = p->headers;
    const vial_pair *ct = vial_multidict_find(&p->headers, "content-type", 12);
    f->content_type = ct ? ct->value.ptr : NULL;
    f->mimetype = "";
    if (ct) {
        vial_options_header cto;
        vial_form_error ignored = {0};
        if (vial_parse_options_header(p->a, ct->value.ptr, ct->value.len, 0, &cto, &ignored) == 0) {
            char *mt = vial_arena_strdup(p->a, cto.value);
            if (!mt) return fail(p, 500, "out of memory");
            for (char *c = mt; *c; c++)
                if (*c >= 'A' && *c <= 'Z') *c += 32;
            f->mimetype = mt;
        }
    }
    p->file = f;
    return 0;
}

/* ---- the boundary ---- */

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; }

/* What follows "--boundary" at t: "--" (last), blanks + line break (*end
 * past it), something else, or not known yet. */
static int tail(const mp *p, size_t t, size_t *end) {
    const char *b = p->buf;
    size_t len = p->len;
    if (t + 1 < len && b[t] == '-' && b[t + 1] == '-') return TAIL_FINAL;
    if (t + 1 == len && b[t] == '-' && !p->eof) return TAIL_MORE;
    size_t u = t;
    while (u < len && blank(b[u])) u++;
    if (u == len) return p->eof ? TAIL_INVALID : TAIL_MORE;
    if (b[u] == '\n') {
        *end = u + 1;
        return TAIL_PART;
    }
    if (b[u] != '\r') return TAIL_INVALID;
    if (u + 1 == len && !p->eof) return TAIL_MORE;
    *end = u + 1 + (u + 1 < len && b[u + 1] == '\n');
    return TAIL_PART;
}

/* Drops the first n bytes of the buffer; the search position moves with the data. */
static void consume(mp *p, size_t n) {
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
    p->scan = p->scan > n ? p->scan - n : 0;
}

static void enter(mp *p, int state) {
    p->state = state;
    p->scan = 0;
}

static char *find_delim(const mp *p, size_t from) {
    if (from + p->delim_len > p->len) return NULL;
    return memmem(p->buf + from, p->len - from, p->delim, p->delim_len);
}

/* Each step returns 1 to go on, 0 when more input is needed, -1 on error. */
static int step_preamble(mp *p) {
    for (char *hit; (hit = find_delim(p, p->scan));) {
        size_t at = (size_t)(hit - p->buf), end = 0;
        int t = tail(p, at + p->delim_len, &end);
        if (t == TAIL_FINAL) {
            enter(p, ST_EPILOGUE);
            p->len = 0;
            return 1;
        }
        if (t == TAIL_PART) {
            consume(p, end);
            enter(p, ST_HEADERS);
            return 1;
        }
        if (t == TAIL_MORE) {
            consume(p, at);
            return 0;
        }
        p->scan = at + 1;
    }
    if (p->len >= p->delim_len) consume(p, p->len - p->delim_len + 1);
    return 0;
}

static int step_headers(mp *p) {
    const char *b = p->buf;
    size_t i = p->scan, start = 0, end = 0;
    bool found = false;
    for (; i < p->len; i++) {
        if (b[i] == '\r') {
            if (i + 1 == p->len) break;
            if (b[i + 1] == '\r') {
                start = i, end = i + 2, found = true;
                break;
            }
            if (b[i + 1] == '\n') {
                if (i + 3 < p->len) {
                    if (b[i + 2] == '\r' && b[i + 3] == '\n') {
                        start = i, end = i + 4, found = true;
                        break;
                    }
                } else if (i + 2 == p->len || b[i + 2] == '\r') {
                    break; /* maybe \r\n\r\n: wait */
                }
            }
        } else if (b[i] == '\n') {
            if (i + 1 == p->len) break;
            if (b[i + 1] == '\n') {
                start = i, end = i + 2, found = true;
                break;
            }
        }
    }
    if (!found) {
        p->scan = i;
        if (p->len > p->lim.max_header_bytes)
            return fail(p, 413, "a multipart part's headers are larger than %zu bytes", p->lim.max_header_bytes);
        if (p->eof) return fail(p, 400, "the multipart body ends inside a part's headers");
        return 0;
    }
    if (start > p->lim.max_header_bytes)
        return fail(p, 413, "a multipart part's headers are larger than %zu bytes", p->lim.max_header_bytes);
    /* the headers stay in the arena with the part: they count against the budget */
    p->memory_used += start;
    if (p->memory_used > p->lim.max_memory)
        return fail(p, 413, "the form's parts need more than %zu bytes of memory", p->lim.max_memory);
    if (part_begin(p, b, start) != 0) return -1;
    consume(p, end);
    enter(p, ST_DATA);
    return 1;
}

static int step_data(mp *p) {
    for (char *hit; (hit = find_delim(p, p->scan));) {
        size_t at = (size_t)(hit - p->buf), end = 0;
        size_t start;
        if (at >= 2 && p->buf[at - 2] == '\r' && p->buf[at - 1] == '\n')
            start = at - 2;
        else if (at >= 1 && (p->buf[at - 1] == '\r' || p->buf[at - 1] == '\n'))
            start = at - 1;
        else {
            p->scan = at + 1;
            continue;
        }
        int t = tail(p, at + p->delim_len, &end);
        if (t == TAIL_INVALID) {
            p->scan = at + 1;
            continue;
        }
        if (part_data(p, p->buf, start) != 0) return -1;
        if (t == TAIL_MORE) {
            consume(p, start);
            return 0;
        }
        if (part_end(p) != 0) return -1;
        if (t == TAIL_FINAL) {
            enter(p, ST_EPILOGUE);
            p->len = 0;
        } else {
            consume(p, end);
            enter(p, ST_HEADERS);
        }
        return 1;
    }
    /* No boundary yet. One still to come starts after len - delim_len, so
     * the search resumes there, and everything but the last delim_len + 1
     * bytes (its line break included) is data, handed on once there is
     * enough of it to be worth a write. */
    if (p->eof) return fail(p, 400, "the multipart body has no closing boundary");
    if (p->len >= p->delim_len && p->scan < p->len - p->delim_len + 1) p->scan = p->len - p->delim_len + 1;
    size_t keep = p->delim_len + 1;
    if (p->len > keep && (p->len - keep >= FLUSH_MIN || p->len * 2 >= p->cap)) {
        if (part_data(p, p->buf, p->len - keep) != 0) return -1;
        consume(p, p->len - keep);
    }
    return 0;
}

static int fill(mp *p) {
    if (p->len == p->cap) {
        if (p->state == ST_HEADERS)
            return fail(p, 413, "a multipart part's headers are larger than %zu bytes", p->lim.max_header_bytes);
        return fail(p, 400, "a multipart boundary line is longer than %zu bytes", p->cap);
    }
    ssize_t got = p->read(p->ctx, p->buf + p->len, p->cap - p->len);
    if (got < 0 || (size_t)got > p->cap - p->len) return fail(p, 400, "the request body could not be read");
    if (got == 0)
        p->eof = true;
    else
        p->len += (size_t)got;
    return 0;
}

static int run(mp *p) {
    for (;;) {
        int r;
        switch (p->state) {
        case ST_PREAMBLE: r = step_preamble(p); break;
        case ST_HEADERS: r = step_headers(p); break;
        case ST_DATA: r = step_data(p); break;
        default:
            /* Epilogue: read and drop the rest, as Werkzeug exhausts the stream. */
            p->len = 0;
            if (p->eof) return 0;
            r = 0;
        }
        if (r < 0) return -1;
        if (r > 0) continue;
        if (p->eof) {
            if (p->state == ST_PREAMBLE) return fail(p, 400, "the multipart body has no boundary");
            if (p->state == ST_EPILOGUE) return 0;
            continue; /* let the step report how the body ended */
        }
        if (fill(p) != 0) return -1;
    }
}

int vial_parse_multipart(vial_arena *a, const char *boundary, size_t boundary_len, vial_read_fn read, void *ctx,
                         const vial_form_limits *lim, vial_multidict *form, vial_files *files, vial_form_error *err) {
    if (err) err->status = 0, err->message[0] = '\0';
    size_t form_start = form->len, files_start = files->len;
    if (!boundary || !boundary_len) return vial_form_fail(err, 400, "multipart body without a boundary parameter");
    for (size_t i = 0; i < boundary_len; i++)
        if ((unsigned char)boundary[i] >= 0x80 || boundary[i] == '\r' || boundary[i] == '\n')
            return vial_form_fail(err, 400, "the multipart boundary must be ASCII without line breaks");
    mp p = {0};
    p.a = a;
    p.lim = vial_form_limits_resolve(lim);
    p.err = err;
    p.read = read;
    p.ctx = ctx;
    p.form = form;
    p.files = files;
    p.files_cap = files->len;
    p.fd = -1;
    p.delim_len = boundary_len + 2;
    p.delim = vial_arena_alloc(a, p.delim_len);
    size_t cap = CHUNK > p.lim.max_header_bytes ? CHUNK : p.lim.max_header_bytes;
    p.cap = cap + p.delim_len + 8;
    p.buf = malloc(p.cap);
    int rc;
    if (!p.delim || !p.buf) {
        rc = vial_form_fail(err, 500, "out of memory");
    } else {
        memcpy(p.delim, "--", 2);
        memcpy(p.delim + 2, boundary, boundary_len);
        rc = run(&p);
    }
    free(p.buf);
    vial_buf_free(&p.value);
    if (p.fd >= 0) close(p.fd);
    if (rc != 0) {
        /* Werkzeug drops everything it parsed; remove the temp files now. */
        if (p.file) file_cleanup(p.file);
        for (size_t i = files_start; i < files->len; i++) file_cleanup(files->items[i]);
        vial_multidict_truncate(form, form_start);
        files->len = files_start;
        if (err && !err->status) vial_form_fail(err, 500, "multipart parsing failed");
        return -1;
    }
    return 0;
}

int vial_parse_form(vial_arena *a, const char *content_type, size_t ct_len, vial_read_fn read, void *ctx,
                    const vial_form_limits *lim, vial_multidict *form, vial_files *files, vial_form_error *err) {
    if (err) err->status = 0, err->message[0] = '\0';
    if (!content_type || !ct_len) return 1;
    vial_options_header oh;
    if (vial_parse_options_header(a, content_type, ct_len, VIAL_OPTIONS_LATIN1, &oh, err) != 0) return -1;
    char mimetype[64];
    size_t mlen = strlen(oh.value);
    if (mlen >= sizeof mimetype) return 1;
    for (size_t i = 0; i <= mlen; i++)
        mimetype[i] = (char)((oh.value[i] >= 'A' && oh.value[i] <= 'Z') ? oh.value[i] + 32 : oh.value[i]);
    if (strcmp(mimetype, "application/x-www-form-urlencoded") == 0 ||
        strcmp(mimetype, "application/x-url-encoded") == 0)
        return vial_parse_urlencoded_stream(a, read, ctx, lim, form, err);
    if (strcmp(mimetype, "multipart/form-data") == 0) {
        const char *boundary = vial_options_get(&oh, "boundary");
        return vial_parse_multipart(a, boundary, boundary ? strlen(boundary) : 0, read, ctx, lim, form, files, err);
    }
    return 1;
}
