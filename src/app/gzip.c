/* gzip.c - compressing response bodies for clients that accept it.
 *
 * Done once per response after every hook has run, so the bytes compressed
 * are the bytes the app meant to send. Only bodies in memory, of a textual
 * type, at least GZIP_MIN_SIZE bytes, without a Content-Encoding already,
 * and only when Accept-Encoding allows gzip (q > 0). A compressed body that
 * would not be smaller is not used. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "app/app.h"
#include "http/parser.h"

/* True when Accept-Encoding lists gzip (or *) with a non-zero q. */
static bool accepts_gzip(const char *h) {
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        const char *name = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ') p++;
        size_t n = (size_t)(p - name);
        double q = 1.0;
        while (*p == ' ') p++;
        while (*p == ';') {
            p++;
            while (*p == ' ') p++;
            if ((*p == 'q' || *p == 'Q') && p[1] == '=') q = strtod(p + 2, NULL);
            while (*p && *p != ';' && *p != ',') p++;
        }
        if (((n == 4 && strncasecmp(name, "gzip", 4) == 0) || (n == 1 && *name == '*')) && q > 0) return true;
        while (*p && *p != ',') p++;
    }
    return false;
}

static bool compressible(const char *ct) {
    if (!ct) return false;
    return strncasecmp(ct, "text/", 5) == 0 || strncasecmp(ct, "application/json", 16) == 0 ||
           strncasecmp(ct, "application/javascript", 22) == 0 || strncasecmp(ct, "application/xml", 15) == 0 ||
           strncasecmp(ct, "image/svg+xml", 13) == 0 || strcasestr(ct, "+json") || strcasestr(ct, "+xml");
}

void app_maybe_gzip(vial_req *rq, vial_res *rs) {
    vial_http_response *h = rs->http;
    if (h->body_kind != VIAL_BODY_BYTES || !vial_http_status_has_body(h->status) || h->status == 206) return;
    const app_settings *st = app_settings_get(rq->app);
    if (!st->gzip_enabled) return;
    int64_t min = st->gzip_min_size;
    if ((int64_t)rs->body.len < min || rs->body.len == 0) return;
    if (vial_get_header(rs, "Content-Encoding") || !compressible(vial_get_header(rs, "Content-Type"))) return;
    const char *ae = vial_header(rq, "Accept-Encoding");
    if (!ae || !accepts_gzip(ae)) return;

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int level = st->gzip_level;
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return;
    uLong bound = deflateBound(&zs, (uLong)rs->body.len);
    unsigned char *out = vial_arena_alloc(rq->arena, bound);
    if (!out) {
        deflateEnd(&zs);
        return;
    }
    zs.next_in = (Bytef *)rs->body.data;
    zs.avail_in = (uInt)rs->body.len;
    zs.next_out = out;
    zs.avail_out = (uInt)bound;
    int rc = deflate(&zs, Z_FINISH);
    size_t out_len = zs.total_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END || out_len >= rs->body.len) return;
    h->body.ptr = (const char *)out;
    h->body.len = out_len;
    vial_set_header(rs, "Content-Encoding", "gzip");
    const char *vary = vial_get_header(rs, "Vary");
    if (!vary)
        vial_set_header(rs, "Vary", "Accept-Encoding");
    else if (!strcasestr(vary, "Accept-Encoding"))
        vial_set_header(rs, "Vary", vial_arena_sprintf(rq->arena, "%s, Accept-Encoding", vary));
}
