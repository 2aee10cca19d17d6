/* cookie_parse.c - the Cookie request header, read as Werkzeug 2.2's
 * parse_cookie reads it.
 *
 * Werkzeug walks the header with one regular expression per pair; this
 * follows the path it takes:
 *   key    everything up to the next '=' or ';' (then stripped of ASCII
 *          whitespace; an empty key drops the pair),
 *   value  after '=' and whitespace: a complete "quoted string" when only
 *          whitespace separates it from the next ';', otherwise the shortest
 *          run up to the whitespace before the next ';' -- which may not
 *          contain a newline: such a value ends the whole parse there.
 * A value that starts and ends with '"' is unquoted: \ooo (octal 000-377)
 * becomes that byte and \x becomes x; anything else stays as sent (percent
 * escapes too). Keys and values are then UTF-8 with errors='replace'.
 * Commas and tabs are data; duplicate keys are all kept. */
#include <string.h>

#include "app/forms.h"

static bool is_ascii_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Werkzeug's _cookie_unquote, appended to out. */
static int cookie_unquote(vial_buf *out, const char *v, size_t n) {
    if (n < 2 || v[0] != '"' || v[n - 1] != '"') return vial_buf_append(out, v, n);
    v++;
    n -= 2;
    if (vial_buf_reserve(out, n) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '\\' && i + 3 < n && v[i + 1] >= '0' && v[i + 1] <= '3' && v[i + 2] >= '0' && v[i + 2] <= '7' &&
            v[i + 3] >= '0' && v[i + 3] <= '7') {
            out->data[out->len++] = (char)((v[i + 1] - '0') * 64 + (v[i + 2] - '0') * 8 + (v[i + 3] - '0'));
            i += 3;
        } else if (c == '\\' && i + 1 < n && v[i + 1] != '\n') {
            out->data[out->len++] = v[i + 1];
            i++;
        } else {
            out->data[out->len++] = (char)c;
        }
    }
    out->data[out->len] = '\0';
    return 0;
}

static char *to_text(vial_arena *a, const char *s, size_t n, size_t *len_out) {
    vial_buf b;
    vial_buf_init(&b, a, 0);
    if (vial_utf8_replace_invalid(&b, s, n) != 0) return NULL;
    *len_out = b.len;
    return vial_buf_finish(&b);
}

int vial_parse_cookie(vial_arena *a, const char *h, size_t n, vial_multidict *out) {
    /* Werkzeug appends ';' so the last pair ends like the others. */
    size_t i = 0;
    vial_buf raw;
    vial_buf_init(&raw, NULL, 0);
    int rc = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && h[j] != '=' && h[j] != ';') j++;
        size_t key_from = i, key_to = j;
        size_t val_from = 0, val_to = 0, next;
        if (j == n || h[j] == ';') {
            next = j + 1;
        } else {
            size_t k = j + 1;
            while (k < n && is_ascii_space((unsigned char)h[k])) k++;
            bool done = false;
            if (k < n && h[k] == '"') {
                size_t q = k + 1;
                bool closed = false;
                while (q < n) {
                    if (h[q] == '"') {
                        closed = true;
                        break;
                    }
                    if (h[q] == '\\') {
                        if (q + 1 >= n || h[q + 1] == '\n') break;
                        q += 2;
                    } else {
                        q++;
                    }
                }
                if (closed) {
                    size_t t = q + 1;
                    while (t < n && is_ascii_space((unsigned char)h[t])) t++;
                    if (t == n || h[t] == ';') {
                        val_from = k, val_to = q + 1, next = t + 1;
                        done = true;
                    }
                }
            }
            if (!done) {
                const char *semi = memchr(h + k, ';', n - k);
                size_t f = semi ? (size_t)(semi - h) : n;
                size_t m = f;
                while (m > k && is_ascii_space((unsigned char)h[m - 1])) m--;
                if (memchr(h + k, '\n', m - k)) break; /* no match: Werkzeug stops parsing */
                val_from = k, val_to = m, next = f + 1;
            }
        }
        while (key_from < key_to && is_ascii_space((unsigned char)h[key_from])) key_from++;
        while (key_to > key_from && is_ascii_space((unsigned char)h[key_to - 1])) key_to--;
        i = next;
        if (key_from == key_to) continue;
        vial_buf_reset(&raw);
        size_t klen, vlen;
        char *key = to_text(a, h + key_from, key_to - key_from, &klen);
        char *value = NULL;
        if (key && cookie_unquote(&raw, h + val_from, val_to - val_from) == 0 && vial_buf_finish(&raw))
            value = to_text(a, raw.data, raw.len, &vlen);
        if (!value || vial_multidict_add_ref(out, key, klen, value, vlen) != 0) {
            rc = -1;
            break;
        }
    }
    vial_buf_free(&raw);
    return rc;
}
