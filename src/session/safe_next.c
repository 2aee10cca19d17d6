/* safe_next.c - is a ?next= target on this site?
 *
 * After a login the app redirects to the page that sent the user there; an
 * attacker who can make that target another site has an open redirect
 * behind a trusted login page. A target is followed only when it is a path
 * on this site, or an http(s) or scheme-relative ("//host/...") URL whose
 * host is this request's Host.
 * Browsers read URLs loosely, so the spellings that look like a path but
 * lead elsewhere are refused: scheme-relative "//evil.com", backslashes
 * ("/\evil.com", "\\evil.com": browsers take '\' for '/'), other schemes
 * ("javascript:", "data:"), a scheme with no host ("https:evil.com"),
 * user info ("http://site@evil.com") and control characters or spaces,
 * which browsers strip before parsing (" //evil", "/\t/evil"). */
#include <string.h>
#include <strings.h>

#include "session/session_req.h"

bool vial_is_safe_redirect(vial_req *rq, const char *target) {
    if (!target || !*target) return false;
    for (const unsigned char *p = (const unsigned char *)target; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '\\') return false;
    /* scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" before any '/', '?' or '#' */
    size_t scheme_len = 0;
    if ((target[0] | 0x20) >= 'a' && (target[0] | 0x20) <= 'z') {
        size_t i = 1;
        while (target[i] && (strchr("+-.", target[i]) || (target[i] >= '0' && target[i] <= '9') ||
                             ((target[i] | 0x20) >= 'a' && (target[i] | 0x20) <= 'z')))
            i++;
        if (target[i] == ':') scheme_len = i;
    }
    const char *rest = target;
    if (scheme_len) {
        bool http = (scheme_len == 4 && strncasecmp(target, "http", 4) == 0) ||
                    (scheme_len == 5 && strncasecmp(target, "https", 5) == 0);
        if (!http) return false;
        rest = target + scheme_len + 1;
        if (strncmp(rest, "//", 2) != 0) return false; /* "https:evil.com" is absolute to a browser */
    }
    if (strncmp(rest, "//", 2) == 0) {
        /* an authority: it must be exactly this request's host (no user info, same port) */
        const char *authority = rest + 2;
        size_t n = strcspn(authority, "/?#");
        const char *host = vial_host(rq);
        if (!host || memchr(authority, '@', n)) return false;
        return n == strlen(host) && n > 0 && strncasecmp(authority, host, n) == 0;
    }
    return true; /* a path (absolute or relative), a query or a fragment on this site */
}

const char *vial_safe_next(vial_req *rq) {
    const char *next = vial_arg(rq, "next");
    if (!next) next = vial_form(rq, "next");
    return vial_is_safe_redirect(rq, next) ? next : NULL;
}
