/* sql.c - reading SQL text just enough to bind values safely.
 *
 * vial's SQL uses ? placeholders on both backends; PostgreSQL wants $1, $2...
 * A ? only counts outside string literals ('it''s', E'a\'b', $tag$...$tag$),
 * quoted identifiers ("a?b") and comments (-- and nested block comments), so
 * the scanner below walks those the way PostgreSQL's lexer does. Statements
 * that already use $N numbering are refused: mixing the two would bind values
 * to the wrong slots. The same walk tells whether text is blank (nothing left
 * after a statement) and whether a statement only reads (safe to retry on a
 * fresh connection). Identifiers and literals we generate are quoted here. */
#include "db/db.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool ident_char(unsigned char c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

/* Length of the token starting at p that the placeholder scanner must copy
 * verbatim (a literal, identifier or comment), or 0 when p starts none. An
 * unterminated one runs to the end: the server will report it. */
static size_t skip_opaque(const char *sql, const char *p) {
    const char *s = p;
    if (*p == '\'' || ((*p == 'E' || *p == 'e') && p[1] == '\'' && (p == sql || !ident_char((unsigned char)p[-1])))) {
        bool backslash = *p != '\'';
        if (backslash) p++;
        p++;
        for (;;) {
            if (!*p) return (size_t)(p - s);
            if (backslash && *p == '\\' && p[1]) {
                p += 2;
                continue;
            }
            if (*p == '\'') {
                if (p[1] == '\'') {
                    p += 2;
                    continue;
                }
                return (size_t)(p + 1 - s);
            }
            p++;
        }
    }
    if (*p == '"') {
        p++;
        for (;;) {
            if (!*p) return (size_t)(p - s);
            if (*p == '"') {
                if (p[1] == '"') {
                    p += 2;
                    continue;
                }
                return (size_t)(p + 1 - s);
            }
            p++;
        }
    }
    if (p[0] == '-' && p[1] == '-') {
        while (*p && *p != '\n') p++;
        return (size_t)(p - s);
    }
    if (p[0] == '/' && p[1] == '*') {
        int depth = 0;
        while (*p) {
            if (p[0] == '/' && p[1] == '*') {
                depth++;
                p += 2;
            } else if (p[0] == '*' && p[1] == '/') {
                depth--;
                p += 2;
                if (depth == 0) return (size_t)(p - s);
            } else {
                p++;
            }
        }
        return (size_t)(p - s);
    }
    if (p[0] == '$' && (p == sql || !ident_char((unsigned char)p[-1]))) {
        /* $tag$ ... $tag$ where tag is empty or an identifier not starting with a digit */
        const char *t = p + 1;
        if (isdigit((unsigned char)*t)) return 0;
        while (ident_char((unsigned char)*t) && *t != '$') t++;
        if (*t != '$') return 0;
        size_t tag_len = (size_t)(t + 1 - p);
        const char *body = t + 1;
        for (const char *q = body; *q; q++)
            if (*q == '$' && strncmp(q, p, tag_len) == 0) return (size_t)(q + tag_len - s);
        return strlen(s);
    }
    return 0;
}

int vial_db_sql_translate(const char *sql, vial_buf *out, int *nparams, char *err, size_t errlen) {
    int n = 0;
    const char *p = sql;
    while (*p) {
        size_t skip = skip_opaque(sql, p);
        if (skip) {
            if (out && vial_buf_append(out, p, skip) != 0) goto toolong;
            p += skip;
            continue;
        }
        if (*p == '?') {
            n++;
            if (out && vial_buf_printf(out, "$%d", n) != 0) goto toolong;
            p++;
            continue;
        }
        if (*p == ';' && !vial_db_sql_blank(p + 1)) {
            if (err && errlen) snprintf(err, errlen, "only one statement per call (use vial_db_script for several)");
            return -1;
        }
        if (*p == '$' && isdigit((unsigned char)p[1]) && (p == sql || !ident_char((unsigned char)p[-1]))) {
            if (err && errlen)
                snprintf(err, errlen, "use ? placeholders, not $%c (at offset %zu)", p[1], (size_t)(p - sql));
            return -1;
        }
        if (out && vial_buf_putc(out, *p) != 0) goto toolong;
        p++;
    }
    if (nparams) *nparams = n;
    return 0;
toolong:
    if (err && errlen) snprintf(err, errlen, "SQL statement too long");
    return -1;
}

/* The first keyword of the statement, skipping blanks, comments and ( . */
static const char *first_word(const char *sql, size_t *len) {
    const char *p = sql;
    for (;;) {
        while (isspace((unsigned char)*p) || *p == '(') p++;
        if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')) {
            p += skip_opaque(sql, p);
            continue;
        }
        break;
    }
    const char *w = p;
    while (isalpha((unsigned char)*p)) p++;
    *len = (size_t)(p - w);
    return w;
}

bool vial_db_sql_blank(const char *sql) {
    const char *p = sql;
    for (;;) {
        while (isspace((unsigned char)*p) || *p == ';') p++;
        if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')) {
            p += skip_opaque(sql, p);
            continue;
        }
        return *p == '\0';
    }
}

bool vial_db_sql_readonly(const char *sql) {
    size_t len;
    const char *w = first_word(sql, &len);
    if (!((len == 6 && strncasecmp(w, "select", 6) == 0) || (len == 6 && strncasecmp(w, "values", 6) == 0) ||
          (len == 4 && strncasecmp(w, "show", 4) == 0)))
        return false;
    /* SELECT ... FOR UPDATE and functions with side effects are rare; a locking read
     * retried outside a transaction is still only a read. Reject data-modifying
     * forms that can hide behind SELECT: SELECT ... INTO creates a table. */
    const char *p = w;
    while (*p) {
        size_t skip = skip_opaque(sql, p);
        if (skip) {
            p += skip;
            continue;
        }
        if ((p == sql || !ident_char((unsigned char)p[-1])) && strncasecmp(p, "into", 4) == 0 &&
            !ident_char((unsigned char)p[4]))
            return false;
        p++;
    }
    return true;
}

bool vial_db_sql_sessionless(const char *sql) {
    size_t len;
    const char *w = first_word(sql, &len);
    if ((len == 6 && strncasecmp(w, "update", 6) == 0) || (len == 6 && strncasecmp(w, "delete", 6) == 0)) return true;
    return vial_db_sql_readonly(sql);
}

int vial_db_quote_ident(vial_buf *b, const char *name, size_t n) {
    if (vial_buf_putc(b, '"') != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"' && vial_buf_putc(b, '"') != 0) return -1;
        if (vial_buf_putc(b, name[i]) != 0) return -1;
    }
    return vial_buf_putc(b, '"');
}

int vial_db_quote_literal(vial_buf *b, const char *s, size_t n) {
    if (vial_buf_putc(b, '\'') != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' && vial_buf_putc(b, '\'') != 0) return -1;
        if (vial_buf_putc(b, s[i]) != 0) return -1;
    }
    return vial_buf_putc(b, '\'');
}
