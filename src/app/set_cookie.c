/* set_cookie.c - Set-Cookie header values, byte for byte as Werkzeug 2.2's
 * dump_cookie (behind Response.set_cookie and delete_cookie) writes them.
 *
 * Layout: key=value, then only the attributes that are set, always in this
 * order: Domain, Expires, Max-Age, Secure, HttpOnly, Path, SameSite, joined
 * by "; ". Werkzeug 2.2 has no Partitioned; like Werkzeug 3.1 we append it
 * last and let it imply Secure. The value is written raw when every byte is
 * in RFC 6265's friendly set, otherwise in double quotes with ',' ';' '"'
 * '\' and non-printable bytes escaped (\054, \073, \", \\, \ooo). Path goes
 * through iri_to_uri (so "/路径 x" is percent-encoded), Domain through IDNA
 * with the port cut off and must contain a dot, SameSite is matched
 * case-insensitively and written title-cased. max_age without expires sets
 * Expires to now + max_age. Where Werkzeug raises, we return NULL and say
 * why; unlike Werkzeug we also refuse a key or a verbatim Expires holding CR
 * or LF, which would split the header. */
#include <string.h>
#include <time.h>

#include "app/forms.h"
#include "http/parser.h"

static bool legal_cookie_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("/=!#$%&'*+-.^_`|~:", c));
}

int vial_cookie_quote(vial_buf *out, const char *s, size_t n) {
    bool all_legal = true;
    for (size_t i = 0; i < n && all_legal; i++) all_legal = legal_cookie_char((unsigned char)s[i]);
    if (all_legal) return vial_buf_append(out, s, n);
    if (vial_buf_putc(out, '"') != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (legal_cookie_char(c))
            rc = vial_buf_putc(out, c);
        else if (c == '"' || c == '\\')
            rc = vial_buf_putc(out, '\\') || vial_buf_putc(out, c);
        else if (c == ',' || c == ';' || c < 0x20 || c >= 0x7f)
            rc = vial_buf_printf(out, "\\%03o", c);
        else
            rc = vial_buf_putc(out, c); /* space ( ) < > ? @ [ ] { } stay raw inside the quotes */
        if (rc != 0) return -1;
    }
    return vial_buf_putc(out, '"');
}

/* Python's datetime accepts years 1..9999 only. */
#define MIN_HTTP_TIME (-62135596800LL)
#define MAX_HTTP_TIME 253402300799LL

/* samesite.title() in {"Strict", "Lax", "None"}: the canonical spelling or NULL. */
static const char *samesite_title(const char *s) {
    static const char *const names[] = {"Strict", "Lax", "None"};
    /* str.title() also turns a leading U+017F (long s) and the ligatures
     * U+FB05/U+FB06 ("st") into "S"/"St": Werkzeug accepts those spellings. */
    const char *rest = s;
    const char *prefix = "";
    if (strncmp(s, "\xc5\xbf", 2) == 0) prefix = "s", rest = s + 2;
    if (strncmp(s, "\xef\xac\x85", 3) == 0 || strncmp(s, "\xef\xac\x86", 3) == 0) prefix = "st", rest = s + 3;
    for (size_t i = 0; i < 3; i++) {
        const char *name = names[i];
        size_t plen = strlen(prefix);
        if (strncasecmp(name, prefix, plen) != 0) continue;
        if (strcasecmp(name + plen, rest) == 0) return name;
    }
    return NULL;
}

static bool has_crlf(const char *s) { return strpbrk(s, "\r\n") != NULL; }

char *vial_dump_cookie(vial_arena *a, const char *key, const char *value, size_t value_len,
                       const vial_cookie_opts *opts, size_t *len_out, vial_form_error *err) {
    static const vial_cookie_opts defaults = {0};
    if (err) err->status = 0;
    if (!opts) opts = &defaults;
    if (!key) key = "";
    if (!value) value = "", value_len = 0;
    if (has_crlf(key)) {
        vial_form_fail(err, 500, "cookie name contains CR or LF");
        return NULL;
    }
    vial_buf out;
    vial_buf_init(&out, a, 0);
    if (vial_buf_reserve(&out, strlen(key) + value_len + 64) != 0) goto oom;
    const char *path = NULL;
    if (!opts->no_path) {
        const char *p = opts->path ? opts->path : "/";
        path = vial_iri_to_uri(a, p, strlen(p), false, err);
        if (!path) return NULL;
    }
    vial_buf domain;
    vial_buf_init(&domain, a, 0);
    if (opts->domain) {
        size_t dlen;
        char *d = vial_idna_encode_host(a, opts->domain, strlen(opts->domain), &dlen, err);
        if (!d) {
            if (err) {
                char why[sizeof err->message];
                memcpy(why, err->message, sizeof why);
                vial_form_fail(err, 500, "cookie domain '%.60s': %.120s", opts->domain, why);
            }
            return NULL;
        }
        char *colon = memchr(d, ':', dlen);
        if (colon) dlen = (size_t)(colon - d);
        if (!memchr(d, '.', dlen)) {
            /* Werkzeug's ValueError, word for word */
            vial_form_fail(err, 500, "%s",
                           "Setting 'domain' for a cookie on a server running locally (ex: localhost) is not "
                           "supported by complying browsers. You should have something like: '127.0.0.1 "
                           "localhost dev.localhost' on your hosts file and then point your server to run on "
                           "'dev.localhost' and also set 'domain' for 'dev.localhost'");
            return NULL;
        }
        if (vial_cookie_quote(&domain, d, dlen) != 0 || !vial_buf_finish(&domain)) goto oom;
    }
    char expires[64] = "";
    const char *expires_value = NULL;
    if (opts->expires_str) {
        if (has_crlf(opts->expires_str)) {
            vial_form_fail(err, 500, "cookie expires contains CR or LF");
            return NULL;
        }
        expires_value = opts->expires_str;
    } else if (opts->has_expires || opts->has_max_age) {
        int64_t when;
        if (opts->has_expires) {
            when = opts->expires;
        } else {
            int64_t now = opts->now ? opts->now : (int64_t)time(NULL);
            if (__builtin_add_overflow(now, opts->max_age, &when)) when = INT64_MAX;
        }
        if (when < MIN_HTTP_TIME || when > MAX_HTTP_TIME) {
            vial_form_fail(err, 500, "cookie expiry %lld is out of range (years 1 to 9999)", (long long)when);
            return NULL;
        }
        vial_http_date(expires, (time_t)when);
        expires_value = expires;
    }
    const char *samesite = NULL;
    if (opts->samesite) {
        samesite = samesite_title(opts->samesite);
        if (!samesite) {
            vial_form_fail(err, 500, "SameSite must be 'Strict', 'Lax', or 'None'.");
            return NULL;
        }
    }
    bool secure = opts->secure || opts->partitioned;

    if (vial_buf_puts(&out, key) != 0 || vial_buf_putc(&out, '=') != 0 ||
        vial_cookie_quote(&out, value, value_len) != 0)
        goto oom;
    int rc = 0;
    if (opts->domain) rc |= vial_buf_puts(&out, "; Domain=") | vial_buf_append(&out, domain.data, domain.len);
    if (expires_value) rc |= vial_buf_puts(&out, "; Expires=") | vial_buf_puts(&out, expires_value);
    if (opts->has_max_age) rc |= vial_buf_printf(&out, "; Max-Age=%lld", (long long)opts->max_age);
    if (secure) rc |= vial_buf_puts(&out, "; Secure");
    if (opts->httponly) rc |= vial_buf_puts(&out, "; HttpOnly");
    if (path) rc |= vial_buf_puts(&out, "; Path=") | vial_buf_puts(&out, path);
    if (samesite) rc |= vial_buf_puts(&out, "; SameSite=") | vial_buf_puts(&out, samesite);
    if (opts->partitioned) rc |= vial_buf_puts(&out, "; Partitioned");
    if (rc) goto oom;

    size_t max_size = opts->max_size ? opts->max_size : 4093;
    if (out.len > max_size)
        vial_log(VIAL_LOG_WARNING,
                 "The '%s' cookie is too large: the value was %zu bytes but the header required %zu extra bytes. "
                 "The final size was %zu bytes but the limit is %zu bytes. Browsers may silently ignore cookies "
                 "larger than this.",
                 key, value_len, out.len - value_len, out.len, max_size);
    if (len_out) *len_out = out.len;
    return out.data;
oom:
    vial_form_fail(err, 500, "out of memory while formatting a cookie");
    return NULL;
}

char *vial_dump_delete_cookie(vial_arena *a, const char *key, const vial_cookie_opts *opts, size_t *len_out,
                              vial_form_error *err) {
    vial_cookie_opts o = opts ? *opts : (vial_cookie_opts){0};
    o.expires_str = NULL;
    o.has_expires = true;
    o.expires = 0;
    o.has_max_age = true;
    o.max_age = 0;
    return vial_dump_cookie(a, key, "", 0, &o, len_out, err);
}
