/* router_suggest.c - "Did you mean 'files_edit' instead?"
 *
 * Werkzeug's BuildError suggests the rule whose endpoint is most similar to
 * the one asked for, scored with difflib.SequenceMatcher(None, a, b).ratio():
 * 2 * M / (len(a) + len(b)) where M is the size of the matching blocks found
 * by repeatedly taking the longest common substring (earliest on ties) and
 * recursing on both sides. Reproduced here over code points, including the
 * "autojunk" rule that ignores very common characters of b when b has 200 or
 * more of them, so the same rule is suggested. Only error paths use this. */
#include <stdlib.h>
#include <string.h>

#include "app/router.h"

static uint32_t *code_points(const char *s, size_t *n) {
    size_t len = strlen(s);
    uint32_t *out = malloc((len + 1) * sizeof *out);
    if (!out) return NULL;
    size_t count = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = vial_utf8_decode(s + i, len - i, &cp);
        if (!k) cp = (unsigned char)s[i], k = 1;
        out[count++] = cp;
        i += k;
    }
    *n = count;
    return out;
}

typedef struct matcher {
    const uint32_t *a, *b;
    size_t la, lb;
    bool *popular; /* per position of b: its character is ignored (autojunk) */
    size_t *j2len, *newj2len; /* indexed by j + 1 */
} matcher;

/* find_longest_match(alo, ahi, blo, bhi) without junk, with popular characters dropped from b2j. */
static void longest(matcher *m, size_t alo, size_t ahi, size_t blo, size_t bhi, size_t *bi, size_t *bj,
                    size_t *bsize) {
    size_t besti = alo, bestj = blo, bestsize = 0;
    /* j2len[j+1] = length of the match ending at a[i-1], b[j] */
    memset(m->j2len, 0, (m->lb + 1) * sizeof *m->j2len);
    for (size_t i = alo; i < ahi; i++) {
        memset(m->newj2len, 0, (m->lb + 1) * sizeof *m->newj2len);
        for (size_t j = blo; j < bhi; j++) {
            if (m->popular[j] || m->b[j] != m->a[i]) continue;
            size_t k = m->j2len[j] + 1; /* j2len.get(j - 1, 0) + 1 */
            m->newj2len[j + 1] = k;
            if (k > bestsize) {
                besti = i + 1 - k;
                bestj = j + 1 - k;
                bestsize = k;
            }
        }
        size_t *t = m->j2len;
        m->j2len = m->newj2len;
        m->newj2len = t;
    }
    /* extend with non-junk equal elements (popular ones are not junk) */
    while (besti > alo && bestj > blo && m->a[besti - 1] == m->b[bestj - 1]) besti--, bestj--, bestsize++;
    while (besti + bestsize < ahi && bestj + bestsize < bhi && m->a[besti + bestsize] == m->b[bestj + bestsize])
        bestsize++;
    *bi = besti;
    *bj = bestj;
    *bsize = bestsize;
}

static size_t matched(matcher *m, size_t alo, size_t ahi, size_t blo, size_t bhi, int depth) {
    if (alo >= ahi || blo >= bhi || depth > 4096) return 0;
    size_t i, j, k;
    longest(m, alo, ahi, blo, bhi, &i, &j, &k);
    if (!k) return 0;
    return k + matched(m, alo, i, blo, j, depth + 1) + matched(m, i + k, ahi, j + k, bhi, depth + 1);
}

double router_seq_ratio(const char *sa, const char *sb) {
    size_t la, lb;
    uint32_t *a = code_points(sa, &la), *b = code_points(sb, &lb);
    double ratio = 0;
    matcher m = {a, b, la, lb, NULL, NULL, NULL};
    if (!a || !b) goto done;
    if (la + lb == 0) {
        ratio = 1.0;
        goto done;
    }
    m.popular = calloc(lb + 1, sizeof *m.popular);
    m.j2len = calloc(lb + 1, sizeof *m.j2len);
    m.newj2len = calloc(lb + 1, sizeof *m.newj2len);
    if (!m.popular || !m.j2len || !m.newj2len) goto done;
    if (lb >= 200) {
        size_t ntest = lb / 100 + 1;
        for (size_t j = 0; j < lb; j++) {
            size_t count = 0;
            for (size_t k = 0; k < lb; k++) count += b[k] == b[j];
            m.popular[j] = count > ntest;
        }
    }
    ratio = 2.0 * (double)matched(&m, 0, la, 0, lb, 0) / (double)(la + lb);
done:
    free(a);
    free(b);
    free(m.popular);
    free(m.j2len);
    free(m.newj2len);
    return ratio;
}
