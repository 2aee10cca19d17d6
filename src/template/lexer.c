/* lexer.c - template text to tokens, with Jinja2's whitespace rules.
 *
 * Jinja2's lexer is a stack of regular expressions; this is the same machine
 * written out by hand so that every edge of it behaves alike: `{%-`/`-%}`
 * strip all whitespace on their side, `+` disables lstrip/trim, lstrip_blocks
 * removes the spaces before a block or comment tag that starts a line,
 * trim_blocks eats one newline after a block or comment tag (not after `}}`
 * or `{% raw %}`), and inside a tag `%}`/`}}` only close it while brackets are
 * balanced. Whitespace means Python's str.isspace(), Unicode included.
 *
 * The whole template is tokenised up front. A lexical error does not stop the
 * array: it ends it with a T_ERROR token, and the parser reports it only when
 * it gets that far -- Jinja2's lexer is lazy, so a parse error earlier in the
 * text wins over a lexical error later. Data tokens and names point into the
 * normalised source; string literals are decoded into the arena. */
#include "template/tpl.h"

#include <stdio.h>
#include <string.h>

typedef struct lexer {
    vial_arena *arena;
    const char *src;
    size_t len;
    size_t pos;
    tpl_lex_opts opt;
    tpl_token *toks;
    size_t ntoks, cap;
    char *balance; /* expected closing brackets */
    size_t nbalance, balance_cap;
    bool line_starting;
    /* line/column cursor, moving forward only */
    size_t cur_off, cur_line_start;
    uint32_t cur_line;
    tpl_err *err;
    bool failed, oom;
} lexer;

enum state { ST_ROOT, ST_BLOCK, ST_VAR, ST_COMMENT, ST_RAW };

/* ---- helpers ---- */

static void locate(lexer *lx, size_t off, uint32_t *line, uint32_t *col) {
    if (off < lx->cur_off) { /* never happens in order, but stay correct */
        lx->cur_off = 0;
        lx->cur_line = 1;
        lx->cur_line_start = 0;
    }
    for (size_t i = lx->cur_off; i < off; i++) {
        if (lx->src[i] == '\n') {
            lx->cur_line++;
            lx->cur_line_start = i + 1;
        }
    }
    lx->cur_off = off;
    *line = lx->cur_line;
    *col = (uint32_t)vial_tv_cp_len(lx->src + lx->cur_line_start, off - lx->cur_line_start) + 1;
}

static tpl_token *push(lexer *lx, int type, size_t off, size_t len) {
    if (lx->ntoks == lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 64;
        tpl_token *t = vial_arena_grow(lx->arena, lx->toks, lx->cap * sizeof *t, cap * sizeof *t);
        if (!t) {
            lx->oom = true;
            return NULL;
        }
        lx->toks = t;
        lx->cap = cap;
    }
    tpl_token *t = &lx->toks[lx->ntoks++];
    memset(t, 0, sizeof *t);
    t->type = (uint8_t)type;
    t->ptr = lx->src + off;
    t->len = len;
    locate(lx, off, &t->line, &t->col);
    return t;
}

static void fail_at(lexer *lx, size_t off, const char *fmt, ...) VIAL_PRINTF(3, 4);
static void fail_at(lexer *lx, size_t off, const char *fmt, ...) {
    tpl_token *t = push(lx, T_ERROR, off, 0);
    lx->failed = true;
    if (!t) return;
    lx->err->kind = VIAL_TPL_ERR_SYNTAX;
    lx->err->line = (int)t->line;
    lx->err->column = (int)t->col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err->message, sizeof lx->err->message, fmt, ap);
    va_end(ap);
}

/* Length of the whitespace run at p (Python's \s*). */
static size_t space_run(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) {
                i++;
                continue;
            }
            break;
        }
        uint32_t cp;
        size_t k = vial_tv_next_cp(s + i, n - i, &cp);
        if (!vial_tv_isspace_cp(cp)) break;
        i += k;
    }
    return i;
}

/* Length of s without trailing whitespace (Python's str.rstrip()). */
static size_t rstrip_len(const char *s, size_t n) {
    size_t keep = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = vial_tv_next_cp(s + i, n - i, &cp);
        i += k;
        if (!vial_tv_isspace_cp(cp)) keep = i;
    }
    return keep;
}

static bool all_space(const char *s, size_t n) { return n > 0 && space_run(s, n) == n; }

/* Jinja2's OptionalLStrip: the text before a tag loses its trailing
 * whitespace with `-`, or its last line's indentation with lstrip_blocks. */
static size_t strip_text(lexer *lx, const char *text, size_t n, char sign, bool is_var) {
    if (sign == '-') return rstrip_len(text, n);
    if (sign != '+' && lx->opt.lstrip_blocks && !is_var) {
        size_t l_pos = 0;
        for (size_t i = n; i > 0; i--) {
            if (text[i - 1] == '\n') {
                l_pos = i;
                break;
            }
        }
        if ((l_pos > 0 || lx->line_starting) && all_space(text + l_pos, n - l_pos)) return l_pos;
    }
    return n;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* (\d+_)*\d+ at s: its length, 0 if none. */
static size_t digit_groups(const char *s, size_t n) {
    size_t i = 0, end = 0;
    while (i < n && is_digit(s[i])) {
        while (i < n && is_digit(s[i])) i++;
        end = i;
        if (i + 1 < n && s[i] == '_' && is_digit(s[i + 1]))
            i++;
        else
            break;
    }
    return end;
}

static size_t match_float(lexer *lx, size_t pos) {
    const char *s = lx->src + pos;
    size_t n = lx->len - pos;
    if (pos > 0 && lx->src[pos - 1] == '.') return 0;
    size_t i = digit_groups(s, n);
    if (!i) return 0;
    /* alternative 1: optional fraction, then a required exponent */
    size_t j = i;
    if (j < n && s[j] == '.') {
        size_t f = digit_groups(s + j + 1, n - j - 1);
        if (f) j += 1 + f;
    }
    for (int pass = 0; pass < 2; pass++) {
        size_t k = pass == 0 ? j : i;
        if (k < n && (s[k] == 'e' || s[k] == 'E')) {
            size_t e = k + 1;
            if (e < n && (s[e] == '+' || s[e] == '-')) e++;
            size_t d = digit_groups(s + e, n - e);
            if (d) return e + d;
        }
        if (j == i) break;
    }
    /* alternative 2: a required fraction */
    if (i < n && s[i] == '.') {
        size_t f = digit_groups(s + i + 1, n - i - 1);
        if (f) return i + 1 + f;
    }
    return 0;
}

static bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* prefix(_?[digits])+ */
static size_t prefixed_digits(const char *s, size_t n, int base) {
    size_t i = 2, end = 0;
    for (;;) {
        size_t k = i;
        if (k < n && s[k] == '_') k++;
        if (k >= n) break;
        char c = s[k];
        bool ok = base == 2 ? (c == '0' || c == '1') : base == 8 ? (c >= '0' && c <= '7') : is_hex(c);
        if (!ok) break;
        i = k + 1;
        end = i;
    }
    return end;
}

static size_t match_integer(const char *s, size_t n) {
    if (n >= 2 && s[0] == '0') {
        char p = (char)(s[1] | 0x20);
        size_t m = 0;
        if (p == 'b') m = prefixed_digits(s, n, 2);
        else if (p == 'o') m = prefixed_digits(s, n, 8);
        else if (p == 'x') m = prefixed_digits(s, n, 16);
        if (m) return m;
    }
    if (n && s[0] >= '1' && s[0] <= '9') {
        size_t i = 1;
        for (;;) {
            size_t k = i;
            if (k < n && s[k] == '_') k++;
            if (k < n && is_digit(s[k]))
                i = k + 1;
            else
                break;
        }
        return i;
    }
    if (n && s[0] == '0') {
        size_t i = 1;
        for (;;) {
            size_t k = i;
            if (k < n && s[k] == '_') k++;
            if (k < n && s[k] == '0')
                i = k + 1;
            else
                break;
        }
        return i;
    }
    return 0;
}

static bool name_cp(uint32_t cp) {
    if (cp < 0x80) return cp == '_' || (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    return vial_tv_isname_cp(cp);
}

/* str.isidentifier() of a name token */
static bool is_identifier(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = vial_tv_next_cp(s + i, n - i, &cp);
        bool ok = cp < 0x80 ? (cp == '_' || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') || (i > 0 && cp >= '0' && cp <= '9'))
                            : (i == 0 ? vial_tv_isid_start_cp(cp) : vial_tv_isid_continue_cp(cp));
        if (!ok) return false;
        i += k;
    }
    return true;
}

static size_t match_name(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = vial_tv_next_cp(s + i, n - i, &cp);
        if (!name_cp(cp)) break;
        i += k;
    }
    return i;
}

static size_t match_string(const char *s, size_t n) {
    if (!n || (s[0] != '\'' && s[0] != '"')) return 0;
    char q = s[0];
    for (size_t i = 1; i < n; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == q) return i + 1;
    }
    return 0;
}

static const struct {
    const char *op;
    uint8_t type;
} operators[] = {
    {"//", T_FLOORDIV}, {"**", T_POW}, {"==", T_EQ},    {"!=", T_NE},       {">=", T_GTEQ},     {"<=", T_LTEQ},
    {"+", T_ADD},       {"-", T_SUB},  {"/", T_DIV},    {"*", T_MUL},       {"%", T_MOD},       {"~", T_TILDE},
    {"[", T_LBRACKET},  {"]", T_RBRACKET}, {"(", T_LPAREN}, {")", T_RPAREN}, {"{", T_LBRACE},  {"}", T_RBRACE},
    {">", T_GT},        {"<", T_LT},   {"=", T_ASSIGN}, {".", T_DOT},       {":", T_COLON},     {"|", T_PIPE},
    {",", T_COMMA},     {";", T_SEMICOLON},
};

const char *vial_tpl_token_describe(int type) {
    switch (type) {
    case T_EOF: return "end of template";
    case T_ERROR: return "error";
    case T_DATA: return "template data / text";
    case T_BLOCK_BEGIN: return "begin of statement block";
    case T_BLOCK_END: return "end of statement block";
    case T_VAR_BEGIN: return "begin of print statement";
    case T_VAR_END: return "end of print statement";
    case T_NAME: return "name";
    case T_STRING: return "string";
    case T_INTEGER: return "integer";
    case T_FLOAT: return "float";
    default: break;
    }
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++)
        if (operators[i].type == type) return operators[i].op;
    return "?";
}

/* Decodes a string literal body with Python's unicode-escape rules. */
static int decode_string(lexer *lx, size_t off, const char *s, size_t n, vial_str *out) {
    vial_buf b;
    vial_buf_init(&b, lx->arena, 0);
    if (vial_buf_reserve(&b, n) != 0) goto oom;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\' || i + 1 >= n) {
            if (tb_putc(&b, c) != 0) goto oom;
            continue;
        }
        char e = s[++i];
        uint32_t cp = 0;
        int hexdigits = 0;
        const char *trunc = NULL;
        switch (e) {
        case '\n': continue;
        case '\\': cp = '\\'; break;
        case '\'': cp = '\''; break;
        case '"': cp = '"'; break;
        case 'a': cp = 7; break;
        case 'b': cp = 8; break;
        case 'f': cp = 12; break;
        case 'n': cp = 10; break;
        case 'r': cp = 13; break;
        case 't': cp = 9; break;
        case 'v': cp = 11; break;
        case 'x': hexdigits = 2, trunc = "truncated \\xXX escape"; break;
        case 'u': hexdigits = 4, trunc = "truncated \\uXXXX escape"; break;
        case 'U': hexdigits = 8, trunc = "truncated \\UXXXXXXXX escape"; break;
        case 'N':
            fail_at(lx, off, "%s",
                    i + 1 < n && s[i + 1] == '{' ? "unknown Unicode character name" : "malformed \\N character escape");
            return -1;
        default:
            if (e >= '0' && e <= '7') {
                cp = (uint32_t)(e - '0');
                for (int k = 0; k < 2 && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7'; k++)
                    cp = cp * 8 + (uint32_t)(s[++i] - '0');
                break;
            }
            if (tb_putc(&b, '\\') != 0 || tb_putc(&b, e) != 0) goto oom;
            continue;
        }
        if (hexdigits) {
            for (int k = 0; k < hexdigits; k++) {
                if (i + 1 >= n || !is_hex(s[i + 1])) {
                    fail_at(lx, off, "%s", trunc);
                    return -1;
                }
                char h = s[++i];
                cp = cp * 16 + (uint32_t)(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            if (cp > 0x10FFFF) {
                fail_at(lx, off, "illegal Unicode character");
                return -1;
            }
            /* a surrogate pair written as two escapes becomes one character */
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u') {
                uint32_t lo = 0;
                bool ok = true;
                for (int k = 0; k < 4; k++) {
                    char h = s[i + 3 + k];
                    if (!is_hex(h)) ok = false;
                    else lo = lo * 16 + (uint32_t)(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        }
        if (vial_tv_put_cp(&b, cp) != 0) goto oom;
    }
    out->ptr = vial_buf_cstr(&b);
    out->len = b.len;
    return 0;
oom:
    lx->oom = true;
    return -1;
}

static int int_value(lexer *lx, size_t off, const char *s, size_t n, int64_t *out) {
    char digits[128];
    size_t k = 0;
    int base = 10;
    size_t i = 0;
    if (n >= 2 && s[0] == '0' && ((s[1] | 0x20) == 'b' || (s[1] | 0x20) == 'o' || (s[1] | 0x20) == 'x')) {
        base = (s[1] | 0x20) == 'b' ? 2 : (s[1] | 0x20) == 'o' ? 8 : 16;
        i = 2;
    }
    for (; i < n; i++) {
        if (s[i] == '_') continue;
        if (k + 1 >= sizeof digits) goto big;
        digits[k++] = s[i];
    }
    digits[k] = 0;
    bool overflow = false;
    if (!vial_tv_parse_int(digits, k, base, out, &overflow) || overflow) goto big;
    return 0;
big:
    fail_at(lx, off, "integer literal too large (vial templates use 64-bit integers)");
    return -1;
}

/* One token inside {% %} or {{ }}; returns 1 when the tag ended, 0 to go on, -1 on error/EOF. */
static int lex_tag(lexer *lx, bool is_var) {
    const char *s = lx->src + lx->pos;
    size_t n = lx->len - lx->pos;
    if (n == 0) return -1;
    size_t m;
    if (lx->nbalance == 0) {
        /* the end of the tag */
        size_t end = 0;
        if (!is_var) {
            if (n >= 3 && s[0] == '+' && s[1] == '%' && s[2] == '}')
                end = 3;
            else if (n >= 3 && s[0] == '-' && s[1] == '%' && s[2] == '}')
                end = 3 + space_run(s + 3, n - 3);
            else if (n >= 2 && s[0] == '%' && s[1] == '}')
                end = 2 + (lx->opt.trim_blocks && n > 2 && s[2] == '\n');
        } else {
            if (n >= 3 && s[0] == '-' && s[1] == '}' && s[2] == '}')
                end = 3 + space_run(s + 3, n - 3);
            else if (n >= 2 && s[0] == '}' && s[1] == '}')
                end = 2;
        }
        if (end) {
            if (!push(lx, is_var ? T_VAR_END : T_BLOCK_END, lx->pos, end)) return -1;
            lx->line_starting = s[end - 1] == '\n';
            lx->pos += end;
            return 1;
        }
    }
    if ((m = space_run(s, n)) > 0) {
        lx->line_starting = s[m - 1] == '\n';
        lx->pos += m;
        return 0;
    }
    if ((m = match_float(lx, lx->pos)) > 0) {
        tpl_token *t = push(lx, T_FLOAT, lx->pos, m);
        if (!t) return -1;
        char tmp[512];
        size_t k = 0;
        for (size_t i = 0; i < m && k + 1 < sizeof tmp; i++)
            if (s[i] != '_') tmp[k++] = s[i];
        tmp[k] = 0;
        if (!vial_tv_parse_float(tmp, k, &t->v.d)) t->v.d = 0;
        lx->line_starting = false;
        lx->pos += m;
        return 0;
    }
    if ((m = match_integer(s, n)) > 0) {
        tpl_token *t = push(lx, T_INTEGER, lx->pos, m);
        if (!t) return -1;
        if (int_value(lx, lx->pos, s, m, &t->v.i) != 0) return -1;
        lx->line_starting = false;
        lx->pos += m;
        return 0;
    }
    if ((m = match_name(s, n)) > 0) {
        if (!is_identifier(s, m)) {
            fail_at(lx, lx->pos, "Invalid character in identifier");
            return -1;
        }
        if (!push(lx, T_NAME, lx->pos, m)) return -1;
        lx->line_starting = false;
        lx->pos += m;
        return 0;
    }
    if ((m = match_string(s, n)) > 0) {
        tpl_token *t = push(lx, T_STRING, lx->pos, m);
        if (!t) return -1;
        if (decode_string(lx, lx->pos, s + 1, m - 2, &t->v.s) != 0) return -1;
        lx->line_starting = s[m - 1] == '\n';
        lx->pos += m;
        return 0;
    }
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++) {
        size_t ol = strlen(operators[i].op);
        if (ol > n || memcmp(s, operators[i].op, ol) != 0) continue;
        char c = s[0];
        if (ol == 1 && (c == '(' || c == '[' || c == '{')) {
            if (lx->nbalance == lx->balance_cap) {
                size_t cap = lx->balance_cap ? lx->balance_cap * 2 : 16;
                char *nb = vial_arena_grow(lx->arena, lx->balance, lx->balance_cap, cap);
                if (!nb) {
                    lx->oom = true;
                    return -1;
                }
                lx->balance = nb;
                lx->balance_cap = cap;
            }
            lx->balance[lx->nbalance++] = c == '(' ? ')' : c == '[' ? ']' : '}';
        } else if (ol == 1 && (c == ')' || c == ']' || c == '}')) {
            if (lx->nbalance == 0) {
                fail_at(lx, lx->pos, "unexpected '%c'", c);
                return -1;
            }
            char expected = lx->balance[--lx->nbalance];
            if (expected != c) {
                fail_at(lx, lx->pos, "unexpected '%c', expected '%c'", c, expected);
                return -1;
            }
        }
        if (!push(lx, operators[i].type, lx->pos, ol)) return -1;
        lx->line_starting = false;
        lx->pos += ol;
        return 0;
    }
    /* Python's message gives the character's repr and its index in code points */
    vial_buf rb;
    vial_buf_init(&rb, lx->arena, 64);
    uint32_t cp;
    size_t cl = vial_tv_next_cp(s, n, &cp);
    vial_value ch = {.type = VIAL_STRING};
    ch.as.s.ptr = s;
    ch.as.s.len = cl;
    vial_tv_repr(NULL, &rb, &ch);
    fail_at(lx, lx->pos, "unexpected char %s at %zu", vial_buf_cstr(&rb), vial_tv_cp_len(lx->src, lx->pos));
    return -1;
}

/* Matches `{%(-|+|)\s*raw\s*(-%}\s*|%})` at p; returns its length or 0. */
static size_t match_raw_begin(const char *s, size_t n) {
    if (n < 2 || s[0] != '{' || s[1] != '%') return 0;
    size_t i = 2;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    i += space_run(s + i, n - i);
    if (n - i < 3 || memcmp(s + i, "raw", 3) != 0) return 0;
    i += 3;
    i += space_run(s + i, n - i);
    if (n - i >= 3 && s[i] == '-' && s[i + 1] == '%' && s[i + 2] == '}') return i + 3 + space_run(s + i + 3, n - i - 3);
    if (n - i >= 2 && s[i] == '%' && s[i + 1] == '}') return i + 2;
    return 0;
}

/* Looks for `{%(-|+|)\s*endraw\s*(+%}|-%}\s*|%}\n?)` from p: start offset, end offset, sign. */
static bool find_endraw(lexer *lx, size_t from, size_t *start, size_t *end, char *sign) {
    const char *s = lx->src;
    size_t n = lx->len;
    for (size_t p = from; p + 1 < n; p++) {
        if (s[p] != '{' || s[p + 1] != '%') continue;
        size_t i = p + 2;
        char sg = 0;
        if (i < n && (s[i] == '-' || s[i] == '+')) sg = s[i++];
        i += space_run(s + i, n - i);
        if (n - i < 6 || memcmp(s + i, "endraw", 6) != 0) continue;
        i += 6;
        i += space_run(s + i, n - i);
        size_t e = 0;
        if (n - i >= 3 && s[i] == '+' && s[i + 1] == '%' && s[i + 2] == '}')
            e = i + 3;
        else if (n - i >= 3 && s[i] == '-' && s[i + 1] == '%' && s[i + 2] == '}')
            e = i + 3 + space_run(s + i + 3, n - i - 3);
        else if (n - i >= 2 && s[i] == '%' && s[i + 1] == '}')
            e = i + 2 + (lx->opt.trim_blocks && i + 2 < n && s[i + 2] == '\n');
        if (!e) continue;
        *start = p;
        *end = e;
        *sign = sg;
        return true;
    }
    return false;
}

char *vial_tpl_normalize_source(vial_arena *a, const char *src, size_t len, bool keep_trailing_newline, size_t *out_len) {
    char *out = vial_arena_alloc(a, len + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            out[k++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n') i++;
        } else {
            out[k++] = src[i];
        }
    }
    if (!keep_trailing_newline && k > 0 && out[k - 1] == '\n') k--;
    out[k] = '\0';
    *out_len = k;
    return out;
}

tpl_token *vial_tpl_lex(vial_arena *a, const char *src, size_t len, const tpl_lex_opts *opts, size_t *count,
                   tpl_err *lex_err) {
    lexer lx = {.arena = a, .src = src, .len = len, .opt = *opts, .line_starting = true, .cur_line = 1,
                .err = lex_err};
    int state = ST_ROOT;
    while (!lx.failed && !lx.oom) {
        if (state == ST_ROOT) {
            if (lx.pos >= len) break;
            const char *s = src + lx.pos;
            size_t n = len - lx.pos;
            size_t tag = SIZE_MAX;
            for (const char *p = s; (p = memchr(p, '{', (size_t)(s + n - p))) != NULL; p++) {
                if (p + 1 < s + n && (p[1] == '{' || p[1] == '%' || p[1] == '#')) {
                    tag = (size_t)(p - s);
                    break;
                }
            }
            if (tag == SIZE_MAX) {
                if (!push(&lx, T_DATA, lx.pos, n)) break;
                lx.pos = len;
                break;
            }
            char kind = s[tag + 1];
            size_t raw = kind == '%' ? match_raw_begin(s + tag, n - tag) : 0;
            char sign = 0;
            size_t tag_len = 2;
            if (raw) {
                char c = s[tag + 2];
                if (c == '-' || c == '+') sign = c;
                tag_len = raw;
            } else if (tag + 2 < n && (s[tag + 2] == '-' || s[tag + 2] == '+')) {
                sign = s[tag + 2];
                tag_len = 3;
            }
            size_t text_len = strip_text(&lx, s, tag, sign, kind == '{');
            if (text_len && !push(&lx, T_DATA, lx.pos, text_len)) break;
            size_t tag_off = lx.pos + tag;
            lx.line_starting = s[tag + tag_len - 1] == '\n';
            lx.pos = tag_off + tag_len;
            if (raw) {
                state = ST_RAW;
            } else if (kind == '#') {
                state = ST_COMMENT;
            } else {
                if (!push(&lx, kind == '%' ? T_BLOCK_BEGIN : T_VAR_BEGIN, tag_off, tag_len)) break;
                state = kind == '%' ? ST_BLOCK : ST_VAR;
            }
        } else if (state == ST_COMMENT) {
            const char *s = src + lx.pos;
            size_t n = len - lx.pos;
            size_t end = 0;
            for (size_t p = 0; p < n && !end; p++) {
                if (p + 2 < n && (s[p] == '+' || s[p] == '-') && s[p + 1] == '#' && s[p + 2] == '}')
                    end = s[p] == '+' ? p + 3 : p + 3 + space_run(s + p + 3, n - p - 3);
                else if (p + 1 < n && s[p] == '#' && s[p + 1] == '}')
                    end = p + 2 + (lx.opt.trim_blocks && p + 2 < n && s[p + 2] == '\n');
            }
            if (!end) {
                if (n) fail_at(&lx, lx.pos, "Missing end of comment tag");
                break;
            }
            lx.line_starting = s[end - 1] == '\n';
            lx.pos += end;
            state = ST_ROOT;
        } else if (state == ST_RAW) {
            size_t start, end;
            char sign;
            if (!find_endraw(&lx, lx.pos, &start, &end, &sign)) {
                if (lx.pos < len) fail_at(&lx, lx.pos, "Missing end of raw directive");
                break;
            }
            size_t text_len = strip_text(&lx, src + lx.pos, start - lx.pos, sign, false);
            if (text_len && !push(&lx, T_DATA, lx.pos, text_len)) break;
            lx.line_starting = src[end - 1] == '\n';
            lx.pos = end;
            state = ST_ROOT;
        } else {
            int rc = lex_tag(&lx, state == ST_VAR);
            if (rc < 0) break;
            if (rc == 1) state = ST_ROOT;
        }
    }
    if (lx.oom) return NULL;
    if (!lx.failed && !push(&lx, T_EOF, len, 0)) return NULL;
    *count = lx.ntoks;
    return lx.toks;
}
