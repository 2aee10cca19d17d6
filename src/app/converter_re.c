/* converter_re.c - regular expressions for routing, on PCRE2 with JIT.
 *
 * Werkzeug compiles converter regexes with Python's re module, so rule
 * authors write Python syntax: \d and \w are Unicode-aware, \Z is the very
 * end of the string, \uXXXX is a code point, {,n} means {0,n}. We translate
 * those few differences and compile with UTF + UCP, LF newlines, and the JIT.
 * The JIT's stack and the match data live per thread and are reused, so a
 * lookup allocates nothing and never puts PCRE2's 32 KiB default JIT stack on
 * a (small) coroutine stack.
 *
 * This file also holds the built-in `re` converter: the RegexConverter of
 * the Flask tutorials (<re('1[3-9]\d{9}'):mobile>), registered like any user
 * converter through the public vial_converter interface. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/router.h"

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int router_regex_translate(vial_buf *out, const char *re, size_t n) {
    bool in_class = false;
    for (size_t i = 0; i < n; i++) {
        char c = re[i];
        if (c == '\\' && i + 1 < n) {
            char e = re[i + 1];
            if (e == 'Z' && !in_class) {
                if (vial_buf_puts(out, "\\z") != 0) return -1;
                i++;
                continue;
            }
            size_t digits = e == 'u' ? 4 : e == 'U' ? 8 : 0;
            if (digits && i + 2 + digits <= n) {
                bool ok = true;
                for (size_t k = 0; k < digits; k++) ok = ok && is_hex(re[i + 2 + k]);
                if (ok) {
                    if (vial_buf_puts(out, "\\x{") != 0 || vial_buf_append(out, re + i + 2, digits) != 0 ||
                        vial_buf_putc(out, '}') != 0)
                        return -1;
                    i += 1 + digits;
                    continue;
                }
            }
            if (vial_buf_append(out, re + i, 2) != 0) return -1;
            i++;
            continue;
        }
        if (in_class) {
            if (c == ']') in_class = false;
            if (vial_buf_putc(out, c) != 0) return -1;
            continue;
        }
        if (c == '[') {
            in_class = true;
            if (vial_buf_putc(out, c) != 0) return -1;
            /* a ']' right after '[' or '[^' is a literal */
            if (i + 1 < n && re[i + 1] == '^') {
                if (vial_buf_putc(out, '^') != 0) return -1;
                i++;
            }
            if (i + 1 < n && re[i + 1] == ']') {
                if (vial_buf_putc(out, ']') != 0) return -1;
                i++;
            }
            continue;
        }
        if (c == '{' && i + 1 < n && re[i + 1] == ',') {
            /* Python's {,n} is {0,n}; PCRE2 10.42 would read it literally */
            size_t k = i + 2;
            while (k < n && re[k] >= '0' && re[k] <= '9') k++;
            if (k > i + 2 && k < n && re[k] == '}') {
                if (vial_buf_puts(out, "{0") != 0) return -1;
                continue;
            }
        }
        if (vial_buf_putc(out, c) != 0) return -1;
    }
    return 0;
}

pcre2_code *router_regex_compile(const char *py_regex, size_t len, bool anchored, size_t *err_offset, char *msg,
                                 size_t msglen) {
    vial_buf pat;
    vial_buf_init(&pat, NULL, 0);
    *err_offset = 0;
    if (router_regex_translate(&pat, py_regex, len) != 0) {
        vial_buf_free(&pat);
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!cc) {
        vial_buf_free(&pat);
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    int errcode;
    PCRE2_SIZE erroff;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | (anchored ? PCRE2_ANCHORED : 0);
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)(pat.data ? pat.data : ""), pat.len, opts, &errcode, &erroff, cc);
    pcre2_compile_context_free(cc);
    vial_buf_free(&pat);
    if (!code) {
        PCRE2_UCHAR text[160];
        pcre2_get_error_message(errcode, text, sizeof text);
        *err_offset = erroff < len ? erroff : len;
        snprintf(msg, msglen, "%s", (const char *)text);
        return NULL;
    }
    /* Without JIT support pcre2_match interprets the pattern: slower, same answers. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return code;
}

/* ---- per-thread match resources ---- */

typedef struct regex_thread {
    pcre2_jit_stack *stack;
    pcre2_match_context *mctx;
    pcre2_match_data *md;
    uint32_t md_pairs;
} regex_thread;

static pthread_key_t regex_key;
static pthread_once_t regex_once = PTHREAD_ONCE_INIT;

static void regex_thread_free(void *p) {
    regex_thread *t = p;
    if (!t) return;
    pcre2_match_data_free(t->md);
    pcre2_match_context_free(t->mctx);
    pcre2_jit_stack_free(t->stack);
    free(t);
}

static void regex_key_make(void) { (void)pthread_key_create(&regex_key, regex_thread_free); }

int router_regex_resources(uint32_t pairs, pcre2_match_data **md, pcre2_match_context **mctx) {
    pthread_once(&regex_once, regex_key_make);
    regex_thread *t = pthread_getspecific(regex_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t) return -1;
        t->mctx = pcre2_match_context_create(NULL);
        t->stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
        if (!t->mctx || !t->stack || pthread_setspecific(regex_key, t) != 0) {
            regex_thread_free(t);
            return -1;
        }
        pcre2_jit_stack_assign(t->mctx, NULL, t->stack);
    }
    if (pairs < 1) pairs = 1;
    if (t->md_pairs < pairs) {
        pcre2_match_data *nmd = pcre2_match_data_create(pairs, NULL);
        if (!nmd) return -1;
        pcre2_match_data_free(t->md);
        t->md = nmd;
        t->md_pairs = pairs;
    }
    *md = t->md;
    *mctx = t->mctx;
    return 0;
}

/* ---- the built-in `re` converter ---- */

static int re_setup(vial_converter_setup *s) {
    if (vial_len(s->kwargs)) {
        snprintf(s->error, sizeof s->error, "re() got an unexpected keyword argument '%s'",
                 s->kwargs->as.obj.items[0].key);
        return -1;
    }
    size_t n = vial_len(s->args);
    if (n != 1) {
        snprintf(s->error, sizeof s->error, "re() takes exactly one argument, the regex (%zu given)", n);
        return -1;
    }
    /* Werkzeug's RegexConverter uses args[0] as given: a number becomes its str(). */
    vial_buf b;
    vial_buf_init(&b, s->arena, 0);
    if (router_py_str(&b, vial_array_get(s->args, 0)) != 0) return -1;
    if (b.len == 0) {
        snprintf(s->error, sizeof s->error, "re(): the regex is empty");
        return -1;
    }
    s->regex = b.data;
    return 0;
}

const vial_converter router_re_converter = {
    .regex = "[^/]+",
    .setup = re_setup,
};
