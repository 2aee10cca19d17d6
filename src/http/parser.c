/* parser.c - the HTTP/1.1 request head parser (RFC 9112 sections 2-3, 5-7).
 *
 * A first call (no earlier bytes of this head) parses at once, up to the
 * last LF in the buffer: every loop stops at the CR or LF that ends its line,
 * so no loop needs a bounds check, and a head that arrived in one read - the
 * common case - is read exactly once. When the head goes on past that LF, or
 * on later calls (prev_len), a scan looks only at the bytes not seen before
 * (from prev_len - 3, so a CRLFCRLF split across reads is still found) for the
 * end of the head, rejecting a bare CR or LF on sight, and the head is parsed
 * when it is complete. While it is incomplete, the limits the bytes already
 * prove broken (request line, head size, field count) are answered at once,
 * so a slow or hostile client cannot make us wait for the rest.
 *
 * Strictness, decided here and tested in tests/unit/test_http_parser.c:
 *  - Up to max_request_line bytes of empty lines (CRLF) before the request
 *    line are skipped (RFC 9112 2.2 robustness); more is 400.
 *  - The request-target is visible ASCII except '#' (no fragment, no raw
 *    UTF-8: clients percent-encode). Forms: origin ("/..."), asterisk ("*",
 *    OPTIONS only), authority ("host:port", CONNECT only) and absolute
 *    ("scheme://authority/path?query", userinfo rejected, RFC 9110 4.2.4);
 *    for absolute-form host is the target's authority and path "/" when empty.
 *  - "HTTP/1.0" and "HTTP/1.1" are served; any other well-formed HTTP/d.d is
 *    505; anything else in the version slot (HTTP/0.9 requests without one,
 *    RTSP, lower case, more digits) is 400.
 *  - Transfer-Encoding: the codings (over all its lines) must end with
 *    chunked, once, else 400 (RFC 9112 6.3); an empty list element is 400; a
 *    coding before chunked (gzip, chunked) is 501 (we decode none, RFC 9112
 *    6.1); with Content-Length, or on HTTP/1.0, 400.
 *  - Content-Length: 1*DIGIT within int64, exactly one field line (even two
 *    equal values are 400).
 *  - Host: exactly one on HTTP/1.1, value uri-host [":" port] (RFC 9112 3.2).
 *  - Expect: 100-continue (HTTP/1.1 only; ignored on 1.0, RFC 9110 10.1.1),
 *    any other expectation is 417. */
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "http/chars.h"
#include "http/parser.h"

#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define CLS(p) VIAL_HTTP_CLS(*(p))
#define C_TOKEN VIAL_C_TOKEN
#define C_VALUE VIAL_C_VALUE
#define C_TARGET VIAL_C_TARGET
#define C_HOST VIAL_C_HOST
#define C_HEX VIAL_C_HEX
#define C_REGNAME VIAL_C_REGNAME

/* The first CR or LF in [p, end), or end. */
static const char *find_line_char(const char *p, const char *end) {
#ifdef __SSE2__
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
        if (mask) return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    while (p < end && *p != '\r' && *p != '\n') p++;
    return p;
}

/* The first byte at or after p that may not appear in a field value. The
 * head ends in CRLF, so a CR always stops the scan before end. */
static const char *skip_value(const char *p, const char *end) {
#ifdef __SSE2__
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), tab = _mm_set1_epi8('\t');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compares: bytes >= 0x80 are negative, so "below SP and not
         * negative" is exactly the C0 controls. */
        __m128i ctl = _mm_andnot_si128(_mm_cmplt_epi8(v, _mm_setzero_si128()), _mm_cmplt_epi8(v, space));
        ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), ctl);
        int mask = _mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(v, del)));
        if (mask) return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#else
    (void)end;
#endif
    while (CLS(p) & C_VALUE) p++;
    return p;
}

/* The first byte at or after p that may not appear in a request-target. */
static const char *skip_target(const char *p, const char *end) {
#ifdef __SSE2__
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), hash = _mm_set1_epi8('#');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed: "greater than SP" excludes controls, SP and bytes >= 0x80. */
        __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmpeq_epi8(v, hash));
        int mask = _mm_movemask_epi8(_mm_or_si128(bad, _mm_cmpeq_epi8(_mm_cmpgt_epi8(v, space), _mm_setzero_si128())));
        if (mask) return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#else
    (void)end;
#endif
    while (CLS(p) & C_TARGET) p++;
    return p;
}

static inline uint64_t load8(const char *s) {
    uint64_t v;
    memcpy(&v, s, 8);
    return v;
}

static inline uint32_t load4(const char *s) {
    uint32_t v;
    memcpy(&v, s, 4);
    return v;
}

/* Case-insensitive compare of n >= 4 bytes with a literal of lower-case
 * letters, digits and '-', by (overlapping) word loads inside s[0..n).
 * OR-ing 0x20 folds only 'A'-'Z' onto letters; what else it could fold onto
 * '-' or a digit is a control character, which neither a token nor a field
 * value may contain, so the compare is exact. */
static inline bool eq_fold(const char *s, const char *lower, size_t n) {
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            if ((load8(s + i) | 0x2020202020202020ull) != load8(lower + i)) return false;
        return (load8(s + n - 8) | 0x2020202020202020ull) == load8(lower + n - 8);
    }
    return (load4(s) | 0x20202020u) == load4(lower) && (load4(s + n - 4) | 0x20202020u) == load4(lower + n - 4);
}

static bool ows(char c) { return c == ' ' || c == '\t'; }

/* Calls each(element, len, ctx) for every element of a comma-separated list
 * (RFC 9110 5.6.1), OWS trimmed; empty elements are passed too (len 0).
 * Returns the first non-zero result of each(). */
static int for_each_element(const char *s, size_t n, int (*each)(const char *, size_t, void *), void *ctx) {
    const char *end = s + n, *p = s;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        const char *a = p, *b = e;
        while (a < b && ows(*a)) a++;
        while (b > a && ows(b[-1])) b--;
        int rc = each(a, (size_t)(b - a), ctx);
        if (rc) return rc;
        if (!comma) return 0;
        p = comma + 1;
    }
}

/* uri-host [":" port] (RFC 3986 3.2.2-3.2.3); IP-literals are checked for
 * their character set, not their address syntax. require_port: 1*DIGIT port
 * required (CONNECT). s[n] must exist and be none of the characters a host
 * may contain (a field value is followed by OWS or CR, a target's authority
 * by '/', '?' or SP), so the loops stop there by themselves. */
static bool host_ok(const char *s, size_t n, bool require_port) {
    const char *p = s, *end = s + n;
    if (*p == '[' && n) {
        p++;
        while ((CLS(p) & (C_HOST | C_HEX)) || *p == ':') p++;
        if (p >= end || *p != ']' || p == s + 1) return false;
        p++;
    } else {
        for (;;) {
            while (CLS(p) & C_REGNAME) p++;
            if (*p != '%' || p >= end) break;
            if (end - p < 3 || !(CLS(p + 1) & C_HEX) || !(CLS(p + 2) & C_HEX)) return false;
            p += 3;
        }
    }
    if (p == end) return !require_port;
    if (p > end || *p != ':') return false;
    p++;
    if (require_port && p == end) return false;
    while (IS_DIGIT(*p)) p++;
    return p == end;
}

static unsigned method_bit(const char *m, size_t n) {
    switch (n) {
    case 3:
        if (memcmp(m, "GET", 3) == 0) return VIAL_GET;
        if (memcmp(m, "PUT", 3) == 0) return VIAL_PUT;
        return 0;
    case 4:
        if (memcmp(m, "POST", 4) == 0) return VIAL_POST;
        if (memcmp(m, "HEAD", 4) == 0) return VIAL_HEAD;
        return 0;
    case 5:
        if (memcmp(m, "PATCH", 5) == 0) return VIAL_PATCH;
        if (memcmp(m, "TRACE", 5) == 0) return VIAL_TRACE;
        return 0;
    case 6:
        return memcmp(m, "DELETE", 6) == 0 ? VIAL_DELETE : 0;
    case 7:
        if (memcmp(m, "OPTIONS", 7) == 0) return VIAL_OPTIONS;
        if (memcmp(m, "CONNECT", 7) == 0) return VIAL_CONNECT;
        return 0;
    default:
        return 0;
    }
}

/* What the framing and connection headers said, gathered while parsing. */
typedef struct head_state {
    bool host_seen, length_seen;
    bool te_seen, te_last_chunked, te_other; /* Transfer-Encoding codings so far */
    bool conn_close, conn_keep_alive;
    bool expect_continue, expect_other;
} head_state;

static int te_element(const char *e, size_t n, void *ctx) {
    head_state *st = ctx;
    if (n == 0) return -400;               /* ", chunked": ambiguous, reject */
    if (st->te_last_chunked) return -400;  /* chunked must be the final coding, once */
    if (n == 7 && eq_fold(e, "chunked", 7))
        st->te_last_chunked = true;
    else
        st->te_other = true;
    return 0;
}

static int connection_element(const char *e, size_t n, void *ctx) {
    head_state *st = ctx;
    if (n == 5 && eq_fold(e, "close", 5)) st->conn_close = true;
    if (n == 10 && eq_fold(e, "keep-alive", 10)) st->conn_keep_alive = true;
    return 0;
}

static int expect_element(const char *e, size_t n, void *ctx) {
    head_state *st = ctx;
    if (n == 0) return 0;
    if (n == 12 && eq_fold(e, "100-continue", 12))
        st->expect_continue = true;
    else
        st->expect_other = true;
    return 0;
}

/* 1*DIGIT within int64; anything else (sign, space, list, empty) is -1. */
static int64_t parse_content_length(const char *s, size_t n) {
    if (n == 0) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!IS_DIGIT(s[i])) return -1;
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    return v;
}

/* A field the parser acts on. name_len has been matched by the caller's
 * switch, so most fields cost one length compare. */
static int special_field(head_state *st, vial_http_request *req, const char *name, size_t name_len,
                         const char *value, size_t value_len) {
    switch (name_len) {
    case 4:
        if (!eq_fold(name, "host", 4)) return 0;
        if (st->host_seen || !host_ok(value, value_len, false)) return -400;
        st->host_seen = true;
        req->host = (vial_str){value, value_len};
        return 0;
    case 6:
        if (!eq_fold(name, "expect", 6)) return 0;
        return for_each_element(value, value_len, expect_element, st);
    case 10:
        if (!eq_fold(name, "connection", 10)) return 0;
        /* the usual single values first, then the list */
        if (value_len == 10 && eq_fold(value, "keep-alive", 10))
            st->conn_keep_alive = true;
        else if (value_len == 5 && eq_fold(value, "close", 5))
            st->conn_close = true;
        else
            return for_each_element(value, value_len, connection_element, st);
        return 0;
    case 14:
        if (!eq_fold(name, "content-length", 14)) return 0;
        if (st->length_seen) return -400;
        st->length_seen = true;
        req->content_length = parse_content_length(value, value_len);
        return req->content_length < 0 ? -400 : 0;
    case 17:
        if (!eq_fold(name, "transfer-encoding", 17)) return 0;
        st->te_seen = true;
        return for_each_element(value, value_len, te_element, st);
    default:
        return 0;
    }
}

/* Splits an origin-form path?query. */
static void split_query(vial_http_request *req, const char *p, size_t n) {
    const char *q = memchr(p, '?', n);
    if (q) {
        req->path = (vial_str){p, (size_t)(q - p)};
        req->query = (vial_str){q + 1, n - (size_t)(q - p) - 1};
    } else {
        req->path = (vial_str){p, n};
        req->query = (vial_str){p + n, 0};
    }
}

/* Classifies the request-target (RFC 9112 3.2) and fills path, query and,
 * for absolute-form, the authority (returned in *authority). */
static int parse_target(vial_http_request *req, vial_str *authority) {
    const char *t = req->target.ptr;
    size_t n = req->target.len;
    authority->len = 0;
    if (t[0] == '/') {
        if (req->method_bit == VIAL_CONNECT) return -400;
        split_query(req, t, n);
        return 0;
    }
    if (n == 1 && t[0] == '*') {
        if (req->method_bit != VIAL_OPTIONS) return -400;
        req->path = req->target;
        req->query = (vial_str){t + 1, 0};
        return 0;
    }
    if (req->method_bit == VIAL_CONNECT) {
        if (!host_ok(t, n, true) || n == 0 || t[0] == ':') return -400;
        req->path = req->target;
        req->query = (vial_str){t + n, 0};
        return 0;
    }
    /* absolute-form: scheme "://" authority path-abempty ["?" query] */
    size_t i = 0;
    if (!IS_ALPHA(t[0])) return -400;
    while (i < n && (IS_ALPHA(t[i]) || IS_DIGIT(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.')) i++;
    if (n - i < 3 || memcmp(t + i, "://", 3) != 0) return -400;
    i += 3;
    size_t a = i;
    while (i < n && t[i] != '/' && t[i] != '?') i++;
    if (i == a || !host_ok(t + a, i - a, false) || t[a] == ':') return -400;
    *authority = (vial_str){t + a, i - a};
    if (i < n && t[i] == '/') {
        split_query(req, t + i, n - i);
    } else {
        req->path = VIAL_STR("/"); /* RFC 9110 4.2.3: an empty path is "/" */
        req->query = i < n ? (vial_str){t + i + 1, n - i - 1} : (vial_str){t + n, 0};
    }
    return 0;
}

/* Parses the head from buf[start], reading no further than limit, which
 * is just past an LF (so every loop meets a CR or LF before it). Returns the
 * head's length (> 0), -status, or 0 when the head goes on past limit. */
static ssize_t parse_head(const char *buf, size_t start, size_t limit, const vial_http_limits *lim,
                          vial_http_request *req, vial_http_header *headers, size_t max_fields) {
    const char *p = buf + start, *head = buf + start, *end = buf + limit;

    /* request-line = method SP request-target SP HTTP-version CRLF */
    const char *method = p;
    while (CLS(p) & C_TOKEN) p++;
    if (p == method || *p != ' ') return -400;
    req->method = (vial_str){method, (size_t)(p - method)};
    req->method_bit = method_bit(method, req->method.len);
    const char *target = ++p;
    p = skip_target(p, end);
    if (p == target || *p != ' ') return -400;
    req->target = (vial_str){target, (size_t)(p - target)};
    p++;
    if ((size_t)(p + 8 - method) > lim->max_request_line) return -414;
    if (end - p < 10 || memcmp(p, "HTTP/", 5) != 0 || !IS_DIGIT(p[5]) || p[6] != '.' || !IS_DIGIT(p[7]) ||
        p[8] != '\r' || p[9] != '\n')
        return -400;
    if (p[5] != '1' || (p[7] != '0' && p[7] != '1')) return -505;
    req->version_minor = p[7] - '0';
    p += 10;

    vial_str authority;
    int rc = parse_target(req, &authority);
    if (rc) return rc;

    /* field-line = field-name ":" OWS field-value OWS CRLF */
    head_state st = {0};
    req->host = (vial_str){"", 0};
    req->content_length = -1;
    size_t count = 0;
    for (;;) {
        if (p == end) return 0; /* the caller checks the size of an incomplete head */
        if (*p == '\r') {
            if (p[1] != '\n') return -400;
            p += 2;
            break;
        }
        const char *name = p;
        while (CLS(p) & C_TOKEN) p++; /* a leading SP/HTAB (obs-fold) stops here too */
        if (p == name || *p != ':') return -400;
        size_t name_len = (size_t)(p - name);
        p++;
        p += *p == ' '; /* the usual single SP */
        while (ows(*p)) p++;
        const char *value = p;
        p = skip_value(p, end);
        if (*p != '\r' || p[1] != '\n') return -400;
        const char *value_end = p;
        while (value_end > value && ows(value_end[-1])) value_end--;
        p += 2;
        if (count == max_fields) return -431;
        size_t value_len = (size_t)(value_end - value);
        headers[count].name = (vial_str){name, name_len};
        headers[count].value = (vial_str){value, value_len};
        count++;
        if (name_len >= 4 && name_len <= 17) {
            rc = special_field(&st, req, name, name_len, value, value_len);
            if (rc) return rc;
        }
    }
    if ((size_t)(p - head) > lim->max_header_bytes) return -431;
    req->headers = headers;
    req->header_count = count;

    if (req->version_minor == 1 && !st.host_seen) return -400;
    if (authority.len) req->host = authority; /* RFC 9112 3.2.2: the target's authority wins */
    if (st.te_seen) {
        if (!st.te_last_chunked || st.length_seen || req->version_minor == 0) return -400;
        if (st.te_other) return -501;
    }
    req->chunked = st.te_seen;
    if (req->version_minor == 1) {
        req->keep_alive = !st.conn_close;
        if (st.expect_other) return -417;
        req->expect_continue = st.expect_continue;
    } else {
        req->keep_alive = st.conn_keep_alive && !st.conn_close;
        req->expect_continue = false;
    }
    return (ssize_t)(p - buf);
}

/* Limits the bytes of an incomplete head already break, and a bare CR in
 * its unfinished last line (where the parse did not look). */
static ssize_t check_partial(const char *buf, size_t start, size_t len, const vial_http_limits *lim,
                             size_t max_fields) {
    size_t have = len - start;
    size_t window = have < lim->max_request_line + 1 ? have : lim->max_request_line + 1;
    if (have > lim->max_request_line && !memchr(buf + start, '\r', window)) return -414;
    if (have >= lim->max_header_bytes) return -431;
    /* Count complete lines; the request line is the first. */
    size_t lines = 0;
    const char *p = buf + start, *end = buf + len, *last = buf + start;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        last = ++p;
        if (++lines > max_fields + 1) return -431;
    }
    /* A field line has begun after the last allowed one. */
    if (lines == max_fields + 1 && last < end && *last != '\r') return -431;
    /* The unfinished line holds no LF; a CR there may only be its last byte. */
    const char *cr = memchr(last, '\r', (size_t)(end - last));
    if (cr && cr + 1 < end) return -400;
    return 0;
}

static const char *last_lf(const char *s, size_t n) {
    return memrchr(s, '\n', n);
}

ssize_t vial_http_parse_request(const char *buf, size_t len, size_t prev_len, const vial_http_limits *lim,
                                vial_http_request *req, vial_http_header *headers, size_t headers_cap) {
    size_t max_fields = lim->max_headers < headers_cap ? lim->max_headers : headers_cap;
    if (max_fields == SIZE_MAX) max_fields--; /* check_partial counts to max_fields + 1 */
    if (prev_len > len) prev_len = 0;

    /* Empty lines before the request line (RFC 9112 2.2). */
    size_t start = 0;
    while (start + 1 < len && buf[start] == '\r' && buf[start + 1] == '\n') {
        start += 2;
        if (start > lim->max_request_line) return -400;
    }
    if (len == start) return 0;

    if (prev_len <= start) {
        /* Nothing of this head seen before: parse what has arrived. */
        const char *lf = last_lf(buf + start, len - start);
        if (lf) {
            ssize_t rc = parse_head(buf, start, (size_t)(lf + 1 - buf), lim, req, headers, max_fields);
            if (rc != 0) return rc;
        }
        return check_partial(buf, start, len, lim, max_fields);
    }

    /* Earlier bytes were seen: look for CRLFCRLF in the new ones only. */
    size_t from = prev_len > 3 ? prev_len - 3 : 0;
    if (from < start) from = start;
    const char *p = buf + from, *end = buf + len;
    for (;;) {
        p = find_line_char(p, end);
        if (p == end) break;
        if (*p == '\r') {
            if (p + 1 < end && p[1] != '\n') return -400; /* bare CR */
            p++;
            continue;
        }
        size_t i = (size_t)(p - buf);
        if (i == start || p[-1] != '\r') return -400; /* bare LF */
        if (i >= start + 3 && p[-2] == '\n') {
            ssize_t rc = parse_head(buf, start, i + 1, lim, req, headers, max_fields);
            return rc != 0 ? rc : -400; /* 0 cannot happen: the empty line is there */
        }
        p++;
    }
    return check_partial(buf, start, len, lim, max_fields);
}
