/* uri.c - Werkzeug 2.2's iri_to_uri: an IRI (text that may hold non-ASCII)
 * made into an ASCII URI. Werkzeug applies it to a cookie's Path and, with
 * safe_conversion, to redirect Locations.
 *
 * The IRI is split like werkzeug.urls.url_parse (scheme only when the part
 * before ':' looks like one and the rest is not a port number; netloc after
 * "//"; fragment after the first '#'; query after the first '?'), the host
 * goes through IDNA (characters IDNA rejects are dropped), user and password
 * are quoted keeping "/:%", path, query and fragment are UTF-8
 * percent-encoded except for RFC 3986's reserved characters and '%', and
 * the parts are joined back as url_unparse does (which drops an empty query
 * or fragment and an empty "//" authority). */
#include <string.h>

#include "app/forms.h"

static bool always_safe(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~$!'()*+,;", c);
}

/* url_quote: every byte outside always_safe and extra becomes %XX. */
static int quote(vial_buf *out, const char *s, size_t n, const char *extra) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c && (always_safe(c) || strchr(extra, c))) {
            if (vial_buf_putc(out, c) != 0) return -1;
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (vial_buf_append(out, esc, 3) != 0) return -1;
        }
    }
    return 0;
}

static const char *find_in(const char *s, size_t n, char c) { return n ? memchr(s, c, n) : NULL; }

/* Python's int() on an ASCII port string, accepted when 0 <= port <= 65535. */
static long parse_port(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && vial_py_isspace((unsigned char)s[i])) i++;
    while (n > i && vial_py_isspace((unsigned char)s[n - 1])) n--;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i >= n) return -1;
    long v = 0;
    bool prev_digit = false;
    for (; i < n; i++) {
        if (s[i] == '_' && prev_digit && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
            prev_digit = false;
            continue;
        }
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
        if (v > 1000000) return -1;
        prev_digit = true;
    }
    if (neg) v = -v;
    return v >= 0 && v <= 65535 ? v : -1;
}

/* BaseURL.encode_netloc */
static int encode_netloc(vial_arena *a, vial_buf *out, const char *netloc, size_t n) {
    const char *at = find_in(netloc, n, '@');
    const char *auth = NULL, *host_part = netloc;
    size_t auth_len = 0, host_len = n;
    if (at) {
        auth = netloc;
        auth_len = (size_t)(at - netloc);
        host_part = at + 1;
        host_len = n - auth_len - 1;
    }
    const char *host = NULL, *port = NULL;
    size_t hlen = 0, plen = 0;
    if (host_len) {
        if (host_part[0] != '[') {
            const char *colon = find_in(host_part, host_len, ':');
            host = host_part;
            hlen = colon ? (size_t)(colon - host_part) : host_len;
            if (colon) port = colon + 1, plen = host_len - hlen - 1;
        } else {
            const char *close = find_in(host_part, host_len, ']');
            if (!close) {
                host = host_part, hlen = host_len;
            } else {
                host = host_part + 1, hlen = (size_t)(close - host_part) - 1;
                size_t rest = host_len - (size_t)(close - host_part) - 1;
                if (rest && close[1] == ':') port = close + 2, plen = rest - 1;
            }
        }
    }
    vial_buf hostbuf;
    vial_buf_init(&hostbuf, a, 0);
    if (host) {
        vial_form_error ignored = {0};
        size_t enc_len;
        char *enc = vial_idna_encode_host(a, host, hlen, &enc_len, &ignored);
        if (enc) {
            if (vial_buf_append(&hostbuf, enc, enc_len) != 0) return -1;
        } else {
            for (size_t i = 0; i < hlen; i++) /* rv.encode("ascii", "ignore") */
                if ((unsigned char)host[i] < 0x80 && vial_buf_putc(&hostbuf, host[i]) != 0) return -1;
        }
    }
    vial_buf user, pass;
    vial_buf_init(&user, a, 0);
    vial_buf_init(&pass, a, 0);
    if (auth_len) {
        const char *colon = find_in(auth, auth_len, ':');
        size_t ulen = colon ? (size_t)(colon - auth) : auth_len;
        if (quote(&user, auth, ulen, "/:%") != 0) return -1;
        if (colon && quote(&pass, colon + 1, auth_len - ulen - 1, "/:%") != 0) return -1;
    }
    if (user.len || pass.len) {
        if (user.len && vial_buf_append(out, user.data, user.len) != 0) return -1;
        if (user.len && pass.len && vial_buf_putc(out, ':') != 0) return -1;
        if (pass.len && vial_buf_append(out, pass.data, pass.len) != 0) return -1;
        if (vial_buf_putc(out, '@') != 0) return -1;
    }
    bool bracket = hostbuf.len && memchr(hostbuf.data, ':', hostbuf.len);
    if (bracket && vial_buf_putc(out, '[') != 0) return -1;
    if (hostbuf.len && vial_buf_append(out, hostbuf.data, hostbuf.len) != 0) return -1;
    if (bracket && vial_buf_putc(out, ']') != 0) return -1;
    long p = port ? parse_port(port, plen) : -1;
    if (p >= 0 && vial_buf_printf(out, ":%ld", p) != 0) return -1;
    return 0;
}

static bool is_scheme_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c >= '+' && c <= '.');
}

char *vial_iri_to_uri(vial_arena *a, const char *iri, size_t n, bool safe_conversion, vial_form_error *err) {
    if (err) err->status = 0;
    if (safe_conversion) {
        bool ascii = true, word = false, space_between = false, seen_word_end = false;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)iri[i];
            if (c >= 0x80) ascii = false;
            bool ws = c == ' ' || (c >= '\t' && c <= '\r');
            if (!ws && seen_word_end) space_between = true;
            if (!ws) word = true;
            if (ws && word) seen_word_end = true;
        }
        /* len(iri.encode("ascii").split()) == 1 */
        if (ascii && word && !space_between) return vial_arena_strndup(a, iri, n);
    }
    const char *url = iri;
    size_t len = n;
    const char *scheme = NULL;
    size_t scheme_len = 0;
    const char *colon = find_in(url, len, ':');
    if (colon && colon > url) {
        size_t i = (size_t)(colon - url);
        bool ok = true;
        for (size_t k = 0; k < i; k++) ok &= is_scheme_char((unsigned char)url[k]);
        if (ok) {
            bool port_like = len - i - 1 > 0;
            for (size_t k = i + 1; k < len; k++) port_like &= url[k] >= '0' && url[k] <= '9';
            if (!port_like) {
                scheme = url, scheme_len = i;
                url += i + 1, len -= i + 1;
            }
        }
    }
    const char *netloc = NULL;
    size_t netloc_len = 0;
    if (len >= 2 && url[0] == '/' && url[1] == '/') {
        size_t delim = len;
        for (size_t k = 2; k < len; k++)
            if (url[k] == '/' || url[k] == '?' || url[k] == '#') {
                delim = k;
                break;
            }
        netloc = url + 2, netloc_len = delim - 2;
        url += delim, len -= delim;
        bool open = find_in(netloc, netloc_len, '['), close = find_in(netloc, netloc_len, ']');
        if (open != close) {
            vial_form_fail(err, 500, "invalid IPv6 URL");
            return NULL;
        }
    }
    const char *fragment = NULL, *query = NULL;
    size_t fragment_len = 0, query_len = 0;
    const char *hash = find_in(url, len, '#');
    if (hash) {
        fragment = hash + 1, fragment_len = len - (size_t)(hash - url) - 1;
        len = (size_t)(hash - url);
    }
    const char *qm = find_in(url, len, '?');
    if (qm) {
        query = qm + 1, query_len = len - (size_t)(qm - url) - 1;
        len = (size_t)(qm - url);
    }
    static const char uri_safe[] = ":/?#[]@!$&'()*+,;=%";
    vial_buf net, out;
    vial_buf_init(&net, a, 0);
    vial_buf_init(&out, a, 0);
    if (vial_buf_reserve(&out, n * 3 + 16) != 0 || vial_buf_reserve(&net, 0) != 0 ||
        (netloc && encode_netloc(a, &net, netloc, netloc_len) != 0)) {
        vial_form_fail(err, 500, "out of memory");
        return NULL;
    }
    int rc = 0;
    if (scheme) {
        for (size_t k = 0; k < scheme_len && rc == 0; k++) {
            char c = scheme[k];
            rc = vial_buf_putc(&out, (c >= 'A' && c <= 'Z') ? c + 32 : c);
        }
        if (rc == 0) rc = vial_buf_putc(&out, ':');
    }
    if (rc == 0 && (net.len || (scheme && len && url[0] == '/'))) {
        rc = vial_buf_puts(&out, "//");
        if (rc == 0 && net.len) rc = vial_buf_append(&out, net.data, net.len);
        if (rc == 0 && len && url[0] != '/') rc = vial_buf_putc(&out, '/');
    }
    if (rc == 0) rc = quote(&out, url, len, uri_safe);
    if (rc == 0 && query_len) rc = vial_buf_putc(&out, '?') || quote(&out, query, query_len, uri_safe);
    if (rc == 0 && fragment_len) rc = vial_buf_putc(&out, '#') || quote(&out, fragment, fragment_len, uri_safe);
    char *result = rc == 0 ? vial_buf_finish(&out) : NULL;
    if (!result) vial_form_fail(err, 500, "out of memory");
    return result;
}
