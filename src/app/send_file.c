/* send_file.c - send_file / send_from_directory, and the static folder.
 *
 * Files go out with sendfile(2): the handler only opens and stats the file;
 * the server streams it from the page cache. Headers follow Werkzeug's
 * send_file (Content-Disposition, Last-Modified, Cache-Control from
 * SEND_FILE_MAX_AGE_DEFAULT, an ETag of mtime-size-adler32(name)),
 * conditional requests answer 304, and byte ranges answer 206 — several
 * ranges as multipart/byteranges, which Werkzeug refuses with 416 — or 416.
 *
 * send_from_directory is the only door to files named by a request, so it
 * is strict: the name must not be absolute, contain "..", a backslash or a
 * NUL, and the resolved path (symlinks followed) must still be inside the
 * folder. Anything else is a 404, never a file outside the folder. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "app/app.h"
#include "http/parser.h"

static void close_fd(void *arg) { close((int)(intptr_t)arg); }

static bool is_token_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Werkzeug's quote_header_value for a parameter value. */
static void append_param_value(vial_buf *b, const char *v) {
    bool token = *v != '\0';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (!is_token_char(*p)) token = false;
    if (token) {
        vial_buf_puts(b, v);
        return;
    }
    vial_buf_putc(b, '"');
    for (; *v; v++) {
        if (*v == '\\' || *v == '"') vial_buf_putc(b, '\\');
        vial_buf_putc(b, *v);
    }
    vial_buf_putc(b, '"');
}

static const char *content_disposition(vial_arena *a, const char *name, bool attachment) {
    vial_buf b;
    vial_buf_init(&b, a, 4096);
    vial_buf_puts(&b, attachment ? "attachment" : "inline");
    bool ascii = true;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0x80) ascii = false;
    vial_buf_puts(&b, "; filename=");
    if (ascii) {
        append_param_value(&b, name);
        return vial_buf_cstr(&b);
    }
    /* RFC 6266: an ASCII fallback (the name's ASCII letters, accents
     * stripped by NFKD where we know them) plus filename* in UTF-8. */
    vial_buf simple;
    vial_buf_init(&simple, a, 4096);
    vial_ascii_fold(&simple, name);
    append_param_value(&b, vial_buf_cstr(&simple));
    vial_buf_puts(&b, "; filename*=UTF-8''");
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("!#$&+^`|~-._", *p)) {
            vial_buf_putc(&b, *p);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            vial_buf_append(&b, enc, 3);
        }
    }
    return vial_buf_cstr(&b);
}

/* An entity tag compares weakly when either side is W/ (RFC 9110 8.8.3.2). */
static bool etag_matches(const char *header, const char *etag) {
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        if (*p == '*') return true;
        if (strncmp(p, "W/", 2) == 0) p += 2;
        const char *start = p;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') p++;
            if (*p == '"') p++;
        } else {
            while (*p && *p != ',') p++;
        }
        size_t n = (size_t)(p - start);
        if (n == strlen(etag) && strncmp(start, etag, n) == 0) return true;
        while (*p && *p != ',') p++;
    }
    return false;
}

typedef struct byte_range {
    off_t start, end; /* inclusive */
} byte_range;

/* Parses "bytes=a-b, c-, -n" against size. Returns the count of satisfiable
 * ranges (0: none satisfiable → 416), or -1 when the header is not a valid
 * bytes range (ignored, as RFC 9110 allows). */
static int parse_ranges(const char *h, off_t size, byte_range *out, int max) {
    while (*h == ' ') h++;
    if (strncasecmp(h, "bytes=", 6) != 0) return -1;
    h += 6;
    int count = 0, seen = 0;
    while (*h) {
        while (*h == ' ' || *h == '\t') h++;
        if (*h == ',') {
            h++;
            continue;
        }
        char *end;
        long long first = -1, last = -1;
        if (*h == '-') {
            errno = 0;
            long long suffix = strtoll(h + 1, &end, 10);
            if (end == h + 1 || errno || suffix < 0) return -1;
            h = end;
            if (suffix == 0) {
                seen++;
                goto next;
            }
            first = size > suffix ? size - suffix : 0;
            last = size - 1;
        } else {
            errno = 0;
            first = strtoll(h, &end, 10);
            if (end == h || errno || first < 0 || *end != '-') return -1;
            h = end + 1;
            if (*h >= '0' && *h <= '9') {
                last = strtoll(h, &end, 10);
                if (errno || last < first) return -1;
                h = end;
            } else {
                last = size - 1;
            }
            if (last >= size) last = size - 1;
        }
        seen++;
        if (first < size && first <= last && count < max) out[count++] = (byte_range){(off_t)first, (off_t)last};
    next:
        while (*h == ' ' || *h == '\t') h++;
        if (*h && *h != ',') return -1;
    }
    return seen ? count : -1;
}

typedef struct multirange_stream {
    int fd;
    byte_range *ranges;
    int count, index;
    off_t pos; /* within the current range; -1: part head not yet sent */
    off_t size;
    const char *boundary, *content_type;
    vial_arena *arena;
    char buf[65536];
    bool done;
} multirange_stream;

static int multirange_next(void *ctx, vial_str *chunk) {
    multirange_stream *m = ctx;
    if (m->done) return 0;
    if (m->index == m->count) {
        int n = snprintf(m->buf, sizeof m->buf, "\r\n--%s--\r\n", m->boundary);
        *chunk = (vial_str){m->buf, (size_t)n};
        m->done = true;
        return 1;
    }
    byte_range *r = &m->ranges[m->index];
    if (m->pos < 0) {
        int n = snprintf(m->buf, sizeof m->buf, "%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %lld-%lld/%lld\r\n\r\n",
                         m->index ? "\r\n" : "", m->boundary, m->content_type, (long long)r->start, (long long)r->end,
                         (long long)m->size);
        m->pos = 0;
        *chunk = (vial_str){m->buf, (size_t)n};
        return 1;
    }
    off_t left = r->end - r->start + 1 - m->pos;
    size_t want = left < (off_t)sizeof m->buf ? (size_t)left : sizeof m->buf;
    ssize_t n = pread(m->fd, m->buf, want, r->start + m->pos);
    if (n <= 0) return -1;
    m->pos += n;
    if (m->pos == r->end - r->start + 1) {
        m->index++;
        m->pos = -1;
    }
    *chunk = (vial_str){m->buf, (size_t)n};
    return 1;
}

static void not_found(vial_res *rs) { vial_abort(rs->rq, 404); }

int vial_send_file_with(vial_res *rs, const char *path, const vial_file_opts *opts) {
    vial_req *rq = rs->rq;
    vial_file_opts o = opts ? *opts : (vial_file_opts){0};
    if (!path || !*path) not_found(rs);
    const char *full = path[0] == '/' ? path : vial_arena_sprintf(rq->arena, "%s/%s", rq->app->root_path, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) not_found(rs);
    vial_arena_defer(rq->arena, close_fd, (void *)(intptr_t)fd);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) not_found(rs);

    const char *name = o.download_name;
    if (!name) {
        const char *slash = strrchr(path, '/');
        name = slash ? slash + 1 : path;
    }
    const char *mimetype = o.mimetype ? o.mimetype : vial_mime_type(name);

    res_clear(rs);
    vial_status(rs, 200);
    vial_set_header(rs, "Content-Disposition", content_disposition(rq->arena, name, o.as_attachment));
    vial_content_type_set(rs, mimetype);
    char date[30];
    vial_http_date(date, st.st_mtime);
    vial_set_header(rs, "Last-Modified", date);

    long max_age = o.max_age;
    if (max_age == 0) max_age = (long)vial_config_int(rq->app, "SEND_FILE_MAX_AGE_DEFAULT", -1);
    if (max_age >= 0) {
        vial_set_header(rs, "Cache-Control", vial_arena_sprintf(rq->arena, "public, max-age=%ld", max_age));
        char expires[30];
        vial_http_date(expires, time(NULL) + max_age);
        vial_set_header(rs, "Expires", expires);
    } else {
        vial_set_header(rs, "Cache-Control", "no-cache");
    }
    char etag[128] = "";
    if (!o.no_etag) {
        char mtime[VIAL_DOUBLE_BUFSIZE];
        vial_format_double(mtime, (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec * 1e-9);
        uLong adler = adler32(0L, (const Bytef *)full, (uInt)strlen(full));
        snprintf(etag, sizeof etag, "\"%s-%lld-%lu\"", mtime, (long long)st.st_size, (unsigned long)(adler & 0xffffffffUL));
        vial_set_header(rs, "ETag", etag);
    }

    vial_http_response *h = rs->http;
    h->body_kind = VIAL_BODY_FILE;
    h->file_fd = fd;
    h->file_offset = 0;
    h->file_length = st.st_size;
    rs->body.len = 0;

    unsigned method = rq->ex->req.method_bit;
    if (o.no_conditional || !(method & (VIAL_GET | VIAL_HEAD))) return 0;

    /* 304: If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2). */
    const char *inm = vial_header(rq, "If-None-Match");
    const char *ims = vial_header(rq, "If-Modified-Since");
    bool not_modified = false;
    if (inm && etag[0])
        not_modified = etag_matches(inm, etag);
    else if (ims) {
        time_t since = vial_http_date_parse(ims, strlen(ims));
        not_modified = since != (time_t)-1 && st.st_mtime <= since;
    }
    if (not_modified) {
        vial_status(rs, 304);
        vial_remove_header(rs, "Content-Type");
        vial_remove_header(rs, "Last-Modified");
        h->body_kind = VIAL_BODY_NONE;
        rs->content_type_set = true; /* a 304 carries no Content-Type */
        return 0;
    }

    const char *range = vial_header(rq, "Range");
    if (!range) return 0;
    const char *if_range = vial_header(rq, "If-Range");
    if (if_range) {
        /* A range applies only to the representation the client has. */
        bool same = if_range[0] == '"' || strncmp(if_range, "W/", 2) == 0
                        ? (etag[0] && strcmp(if_range, etag) == 0)
                        : vial_http_date_parse(if_range, strlen(if_range)) == st.st_mtime;
        if (!same) return 0;
    }
    byte_range ranges[16];
    int count = parse_ranges(range, st.st_size, ranges, 16);
    if (count < 0) return 0;
    if (count == 0) {
        res_clear(rs);
        vial_status(rs, 416);
        vial_set_header(rs, "Content-Range", vial_arena_sprintf(rq->arena, "bytes */%lld", (long long)st.st_size));
        app_default_error_page(rs, 416, NULL);
        return 0;
    }
    vial_status(rs, 206);
    vial_set_header(rs, "Accept-Ranges", "bytes");
    if (count == 1) {
        h->file_offset = ranges[0].start;
        h->file_length = ranges[0].end - ranges[0].start + 1;
        vial_set_header(rs, "Content-Range", vial_arena_sprintf(rq->arena, "bytes %lld-%lld/%lld", (long long)ranges[0].start,
                                                                (long long)ranges[0].end, (long long)st.st_size));
        return 0;
    }
    multirange_stream *m = vial_arena_calloc(rq->arena, sizeof *m);
    m->fd = fd;
    m->ranges = vial_arena_alloc(rq->arena, (size_t)count * sizeof *m->ranges);
    memcpy(m->ranges, ranges, (size_t)count * sizeof *m->ranges);
    m->count = count;
    m->pos = -1;
    m->size = st.st_size;
    m->content_type = mimetype;
    unsigned char rnd[12];
    vial_random_bytes(rnd, sizeof rnd);
    char *boundary = vial_arena_alloc(rq->arena, 2 * sizeof rnd + 1);
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(boundary + 2 * i, 3, "%02x", rnd[i]);
    m->boundary = boundary;
    vial_stream(rs, multirange_next, m, vial_arena_sprintf(rq->arena, "multipart/byteranges; boundary=%s", boundary));
    return 0;
}

/* Werkzeug's safe_join plus a realpath check: the only way a request can name a file. */
const char *vial_safe_join(vial_arena *a, const char *directory, const char *name) {
    if (!name || !*name || name[0] == '/' || strchr(name, '\\')) return NULL;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20) return NULL;
    /* ".." as a whole segment anywhere; "." segments are harmless but refused as Werkzeug does for "..". */
    const char *seg = name;
    while (seg) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n == 2 && seg[0] == '.' && seg[1] == '.') return NULL;
        seg = slash ? slash + 1 : NULL;
    }
    char dir_real[PATH_MAX], file_real[PATH_MAX];
    if (!realpath(directory, dir_real)) return NULL;
    const char *joined = vial_arena_sprintf(a, "%s/%s", dir_real, name);
    if (!joined || !realpath(joined, file_real)) return NULL;
    size_t dl = strlen(dir_real);
    if (strncmp(file_real, dir_real, dl) != 0 || (file_real[dl] != '/' && strcmp(dir_real, "/") != 0)) return NULL;
    return joined;
}

int vial_send_from_directory_with(vial_res *rs, const char *directory, const char *name, const vial_file_opts *opts) {
    vial_req *rq = rs->rq;
    const char *dir = directory[0] == '/' ? directory : vial_arena_sprintf(rq->arena, "%s/%s", rq->app->root_path, directory);
    const char *path = vial_safe_join(rq->arena, dir, name);
    if (!path) not_found(rs);
    return vial_send_file_with(rs, path, opts);
}
