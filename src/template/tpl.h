/* tpl.h - internals of the Jinja2-compatible template engine.
 *
 * The pipeline is lexer.c (text -> tokens, Jinja2's whitespace rules),
 * parser.c (tokens -> a tree of nodes, Jinja2's grammar and messages),
 * compile.c (name interning, filter/test resolution, block tables, constant
 * folding), then render.c + eval.c walk the tree against a context.
 * values.c holds Python's semantics for str(), repr(), ==, <, arithmetic and
 * HTML escaping; filters.c, tests.c, methods.c, pyformat.c and builtins.c hold
 * the library; loader.c the environment, search path and cache.
 *
 * Runtime values are plain vial_value pointers. Kinds vial_value has no room
 * for (undefined, macros, the loop object, namespaces, ...) are structs that
 * begin with a vial_value of type VIAL_NULL whose string pointer is the address
 * of vial_tpl_marker and whose string length is the kind: core code that meets one
 * sees a null, and the engine tells them apart with tv_kind(). Tuples are
 * arrays tagged VIAL_TAG_TUPLE; Markup is a string flagged VIAL_FLAG_SAFE. */
#ifndef VIAL_TEMPLATE_TPL_H
#define VIAL_TEMPLATE_TPL_H

#include "vial.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------------
 * Value kinds
 * --------------------------------------------------------------------- */

enum {
    TK_NULL = VIAL_NULL,
    TK_BOOL = VIAL_BOOL,
    TK_INT = VIAL_INT,
    TK_DOUBLE = VIAL_DOUBLE,
    TK_STRING = VIAL_STRING,
    TK_ARRAY = VIAL_ARRAY,
    TK_OBJECT = VIAL_OBJECT,
    TK_UNDEF = 16,  /* tpl_undef */
    TK_MACRO,       /* tpl_macro: macros and call-block callers */
    TK_FUNC,        /* tpl_func: builtins, C functions, bound methods, blocks */
    TK_LOOP,        /* tpl_loop */
    TK_NAMESPACE,   /* tpl_ns */
    TK_CYCLER,      /* tpl_cycler */
    TK_JOINER,      /* tpl_joiner */
    TK_MODULE,      /* tpl_module: the target of {% import %} */
    TK_SELF,        /* tpl_selfref: `self` in templates */
    TK_RANGE,       /* tpl_range: range(...) without materialising it */
};

extern const char vial_tpl_marker[];

typedef struct tpl_obj {
    vial_value base; /* type VIAL_NULL, as.s.ptr == vial_tpl_marker, as.s.len == kind */
} tpl_obj;

static inline int tv_kind(const vial_value *v) {
    if (v->type != VIAL_NULL || v->as.s.ptr != vial_tpl_marker) return v->type;
    return (int)v->as.s.len;
}

/* Internal array tags: dict views print as dict_keys([...]) etc. */
#define TPL_TAG_KEYS 0x7476
#define TPL_TAG_VALUES 0x7477
#define TPL_TAG_ITEMS 0x7478
#define TPL_TAG_GROUP 0x7479 /* groupby's (grouper, list) tuples */

static inline bool tv_is_tuple(const vial_value *v) {
    return v->type == VIAL_ARRAY && (v->tag == VIAL_TAG_TUPLE || v->tag == TPL_TAG_GROUP);
}
static inline bool tv_is_safe(const vial_value *v) {
    return v->type == VIAL_STRING && (v->flags & VIAL_FLAG_SAFE);
}

/* Copies n bytes; short copies (most template pieces) without a call. The
 * caller guarantees 16 writable bytes at d when n <= 16. */
static inline void tb_copy(char *d, const char *s, size_t n) {
    if (n <= 16) {
        if (n >= 8) {
            uint64_t a, z;
            memcpy(&a, s, 8);
            memcpy(&z, s + n - 8, 8);
            memcpy(d, &a, 8);
            memcpy(d + n - 8, &z, 8);
        } else if (n >= 4) {
            uint32_t a, z;
            memcpy(&a, s, 4);
            memcpy(&z, s + n - 4, 4);
            memcpy(d, &a, 4);
            memcpy(d + n - 4, &z, 4);
        } else {
            for (size_t i = 0; i < n; i++) d[i] = s[i];
        }
        return;
    }
    memcpy(d, s, n);
}

/* memcmp(a, b, n) == 0 without a call for short strings (attribute names). */
static inline bool tb_eq(const char *a, const char *b, size_t n) {
    if (n >= 8 && n <= 16) {
        uint64_t a0, a1, b0, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t a0, a1, b0, b1;
        memcpy(&a0, a, 4);
        memcpy(&b0, b, 4);
        memcpy(&a1, a + n - 4, 4);
        memcpy(&b1, b + n - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i]) return false;
        return true;
    }
    return memcmp(a, b, n) == 0;
}

/* The value of key in object obj, or NULL: position *hint is tried first
 * (rows of one shape keep their keys in one order), then the others, which
 * update the hint. Large objects use their hash index. */
static inline vial_value *tv_object_get_hinted(const vial_value *obj, const char *key, size_t len, uint32_t *hint) {
    const vial_member *m = obj->as.obj.items;
    size_t n = obj->as.obj.len;
    uint32_t h = *hint;
    if (h < n && m[h].key_len == len && tb_eq(m[h].key, key, len)) return m[h].value;
    if (n > 16) return vial_object_getn(obj, key, len);
    for (size_t i = 0; i < n; i++)
        if (m[i].key_len == len && tb_eq(m[i].key, key, len)) {
            *hint = (uint32_t)i;
            return m[i].value;
        }
    return NULL;
}

/* Inline fast paths over vial_buf: copy in place while there is room, call
 * into the core (growth, the cap) only when there is not. */
static inline int tb_append(vial_buf *b, const void *s, size_t n) {
    if (n < b->cap - b->len) {
        if (n) memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
    }
    return vial_buf_append(b, s, n);
}

static inline int tb_putc(vial_buf *b, int c) {
    if (b->cap - b->len > 1) {
        b->data[b->len++] = (char)c;
        b->data[b->len] = 0;
        return 0;
    }
    return vial_buf_putc(b, c);
}

static inline int tb_puts(vial_buf *b, const char *s) { return tb_append(b, s, strlen(s)); }

/* str.upper()/str.lower() of ASCII text into dst (n bytes, 8 at a time);
 * false when src has a byte >= 0x80 (then dst holds garbage and the caller
 * takes the Unicode path). */
static inline bool tv_ascii_case(char *dst, const char *src, size_t len, bool upper) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t lo = upper ? 'a' : 'A', hi = upper ? 'z' : 'Z';
    uint64_t any_high = 0;
    size_t k = 0;
    for (; k + 8 <= len; k += 8) {
        uint64_t x;
        memcpy(&x, src + k, 8);
        uint64_t h7 = x & ~highs;
        uint64_t ge = (h7 + (0x80 - lo) * ones) & highs; /* byte >= lo */
        uint64_t gt = (h7 + (0x7f - hi) * ones) & highs; /* byte > hi */
        uint64_t in = ge & ~gt & ~x;                      /* ASCII letter of the other case */
        x ^= in >> 2;                                     /* flip 0x20 */
        any_high |= x;
        memcpy(dst + k, &x, 8);
    }
    unsigned char high = (any_high & highs) ? 0x80 : 0;
    for (; k < len; k++) {
        unsigned char c = (unsigned char)src[k];
        high |= c;
        dst[k] = (char)((unsigned char)(c - lo) < 26 ? c ^ 0x20 : c);
    }
    return !(high & 0x80);
}

/* "00" "01" ... "99": two decimal digits per division (values.c). */
extern const char vial_tv_digit_pairs[200];

/* Writes u's decimal digits so that they end at end; returns where they start. */
static inline char *tv_udigits(char *end, uint64_t u) {
    while (u >= 100) {
        unsigned q = (unsigned)(u % 100);
        u /= 100;
        end -= 2;
        memcpy(end, vial_tv_digit_pairs + 2 * q, 2);
    }
    if (u >= 10) {
        end -= 2;
        memcpy(end, vial_tv_digit_pairs + 2 * u, 2);
    } else {
        *--end = (char)('0' + u);
    }
    return end;
}

/* Offset of the first byte of s that HTML escaping changes (& < > " '), or n. */
size_t vial_tv_escape_scan(const char *s, size_t n);

/* ---------------------------------------------------------------------
 * Tokens (lexer.c)
 * --------------------------------------------------------------------- */

enum tok_type {
    T_EOF,
    T_ERROR, /* the lexer failed here: the parser reports it when it gets this far */
    T_DATA,
    T_BLOCK_BEGIN,
    T_BLOCK_END,
    T_VAR_BEGIN,
    T_VAR_END,
    T_NAME,
    T_STRING,
    T_INTEGER,
    T_FLOAT,
    T_ADD,
    T_SUB,
    T_DIV,
    T_FLOORDIV,
    T_MUL,
    T_MOD,
    T_POW,
    T_TILDE,
    T_LBRACKET,
    T_RBRACKET,
    T_LPAREN,
    T_RPAREN,
    T_LBRACE,
    T_RBRACE,
    T_EQ,
    T_NE,
    T_GT,
    T_GTEQ,
    T_LT,
    T_LTEQ,
    T_ASSIGN,
    T_DOT,
    T_COLON,
    T_PIPE,
    T_COMMA,
    T_SEMICOLON,
    T__COUNT
};

typedef struct tpl_token {
    uint8_t type;
    uint32_t line, col;
    const char *ptr; /* the token's text: names, data, raw operators */
    size_t len;
    union {
        int64_t i;
        double d;
        vial_str s; /* decoded string literal */
    } v;
} tpl_token;

/* Where a compile or render error happened and why. */
typedef struct tpl_err {
    int kind; /* VIAL_TPL_ERR_* */
    int line, column;
    char name[256]; /* template name and file, copied: a failed compile frees its template */
    char file[1024];
    char message[512];
} tpl_err;

struct tpl_template;
/* Copies the template's name and file into the error. */
void vial_tpl_err_where(tpl_err *e, const struct tpl_template *t);

typedef struct tpl_lex_opts {
    bool trim_blocks, lstrip_blocks, keep_trailing_newline;
} tpl_lex_opts;

/* Normalises newlines (\r\n, \r -> \n) and drops one trailing newline unless
 * keep_trailing_newline; the result is NUL-terminated arena memory. */
char *vial_tpl_normalize_source(vial_arena *a, const char *src, size_t len, bool keep_trailing_newline, size_t *out_len);
/* Tokenises normalised source into an arena array ending with T_EOF or
 * T_ERROR (then *lex_err says why). Returns NULL only when out of memory. */
tpl_token *vial_tpl_lex(vial_arena *a, const char *src, size_t len, const tpl_lex_opts *opts, size_t *count,
                   tpl_err *lex_err);
/* Jinja2's description of a token type ("end of statement block", "+", ...). */
const char *vial_tpl_token_describe(int type);

/* ---------------------------------------------------------------------
 * Syntax tree (parser.c)
 * --------------------------------------------------------------------- */

enum node_kind {
    /* expressions */
    N_CONST,
    N_NAME,
    N_GETATTR,
    N_GETITEM,
    N_SLICE,
    N_CALL,
    N_FILTER,
    N_TEST,
    N_BINOP, /* op: OP_ADD ... OP_POW */
    N_NEG,
    N_POS,
    N_NOT,
    N_AND,
    N_OR,
    N_COMPARE,
    N_CONCAT,
    N_COND,
    N_LIST,
    N_TUPLE,
    N_DICT,
    N_NSREF, /* ns.attr as an assignment target */
    /* statements */
    S_TEXT,
    S_OUTPUT,
    S_IF,
    S_FOR,
    S_SET,
    S_SETBLOCK,
    S_MACRO,
    S_CALLBLOCK,
    S_INCLUDE,
    S_IMPORT,
    S_FROMIMPORT,
    S_EXTENDS,
    S_BLOCK,
    S_WITH,
    S_FILTERBLOCK,
    S_AUTOESCAPE,
    S_MULTI, /* a run of S_TEXT / S_OUTPUT fused by the compiler (u.items) */
};

enum binop { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW };
enum cmpop { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_IN, CMP_NOTIN };

/* node flags */
#define NF_SOFT 0x01          /* filter/test inside if/condexpr: unknown names fail at runtime */
#define NF_CHECK_EXTENDS 0x02 /* output suppressed once the template has extended another */
#define NF_TOPLEVEL 0x04      /* block/extends at template top level */
#define NF_USES_LOOP 0x08     /* for: the body refers to `loop` */
#define NF_RECURSIVE 0x10     /* for ... recursive */
#define NF_IGNORE_MISSING 0x20
#define NF_WITH_CONTEXT 0x40
#define NF_SCOPED 0x80
#define NF_REQUIRED 0x100
#define NF_CONST_STR 0x200 /* N_CONST whose value is a string known at compile time */
#define NF_NOT_METHOD 0x400 /* N_GETATTR whose name is no method of dict, list or str */

/* Builtin filters with a direct output path (tpl_node.u.filter.fast) */
enum { FAST_NONE, FAST_LOWER, FAST_UPPER, FAST_JOIN, FAST_FORMAT_F };

/* N_GETATTR op: loop attributes read without a string compare (LA_NONE: any other name) */
enum { LA_NONE, LA_INDEX, LA_INDEX0, LA_FIRST, LA_LAST, LA_LENGTH, LA_REVINDEX, LA_REVINDEX0, LA_CYCLE, LA_CHANGED };

typedef struct tpl_node tpl_node;
typedef struct tpl_list {
    tpl_node **items;
    uint32_t n;
} tpl_list;

typedef struct tpl_callargs {
    tpl_node **args;
    uint32_t nargs;
    vial_str *kwnames;
    tpl_node **kwvalues;
    uint32_t nkw;
    tpl_node *dyn_args, *dyn_kwargs;
} tpl_callargs;

struct tpl_builtin;
struct tpl_userfn;

typedef struct tpl_macro_def {
    vial_str name;
    uint32_t name_id;
    uint32_t nparams;
    vial_str *params;
    uint32_t *param_ids;
    tpl_node **defaults; /* nparams entries; NULL where the parameter has none */
    tpl_list body;
    bool uses_caller, uses_varargs, uses_kwargs;
    bool explicit_caller;
    tpl_node *call; /* call blocks: the call expression */
    const tpl_node *node; /* the macro/call statement (errors in defaults point here) */
} tpl_macro_def;

typedef struct tpl_block_def {
    vial_str name;
    tpl_list body;
    bool scoped, required;
    uint32_t line;
} tpl_block_def;

typedef struct tpl_import_name {
    vial_str name, alias;
    uint32_t alias_id;
} tpl_import_name;

struct tpl_node {
    uint8_t kind;
    uint8_t op;
    uint16_t flags;
    uint32_t line, col;
    union {
        vial_value *value; /* N_CONST */
        struct {
            vial_str name;
            uint32_t id;
        } name; /* N_NAME */
        struct {
            tpl_node *obj;
            vial_str attr;
            uint32_t id;
            uint32_t hint; /* where the key was last found: rows of one shape hit first time */
        } attr; /* N_GETATTR, N_NSREF (obj is the namespace's N_NAME) */
        struct {
            tpl_node *obj, *key;
        } item; /* N_GETITEM */
        struct {
            tpl_node *obj, *start, *stop, *step;
        } slice; /* N_SLICE */
        struct {
            tpl_node *callee;
            tpl_callargs a;
        } call; /* N_CALL */
        struct {
            tpl_node *input; /* NULL for the innermost filter of a filter block */
            vial_str name;
            const struct tpl_builtin *builtin;
            const struct tpl_userfn *user;
            tpl_callargs a;
            /* set by the compiler for a builtin the output path runs without
             * building the intermediate string (FAST_*, see render.c) */
            uint8_t fast;
            uint8_t fast_prec;      /* FAST_FORMAT_F: the precision of "%.Nf" */
            uint32_t fast_spec_at;  /* FAST_FORMAT_F: offset of '%' in the format */
            uint32_t fast_spec_end; /* FAST_FORMAT_F: offset just past 'f' */
        } filter; /* N_FILTER, N_TEST */
        struct {
            tpl_node *l, *r;
        } bin; /* N_BINOP, N_AND, N_OR */
        tpl_node *operand; /* N_NEG, N_POS, N_NOT */
        struct {
            tpl_node *first;
            uint8_t *ops;
            tpl_node **rhs;
            uint32_t n;
        } cmp; /* N_COMPARE */
        tpl_list items; /* N_LIST, N_TUPLE, N_CONCAT */
        struct {
            tpl_node **keys, **values;
            uint32_t n;
        } dict; /* N_DICT */
        struct {
            tpl_node *test, *then, *otherwise;
        } cond; /* N_COND */

        vial_str text; /* S_TEXT */
        tpl_node *expr; /* S_OUTPUT, S_EXTENDS */
        struct {
            tpl_node *test;
            tpl_list body, orelse;
        } if_; /* S_IF */
        struct {
            tpl_node *target, *iter, *filter;
            tpl_list body, orelse;
        } for_; /* S_FOR */
        struct {
            tpl_node *target, *value;
        } set; /* S_SET */
        struct {
            tpl_node *target, *filter;
            tpl_list body;
        } setblock; /* S_SETBLOCK */
        tpl_macro_def *macro; /* S_MACRO, S_CALLBLOCK */
        struct {
            tpl_node *tmpl;
            vial_str target;
            uint32_t target_id;
            tpl_import_name *names;
            uint32_t nnames;
        } imp; /* S_INCLUDE, S_IMPORT, S_FROMIMPORT */
        tpl_block_def *block; /* S_BLOCK */
        struct {
            tpl_node **targets, **values;
            uint32_t n;
            tpl_list body;
        } with; /* S_WITH */
        struct {
            tpl_node *filter; /* filter chain whose innermost input is NULL */
            tpl_list body;
        } filterblock; /* S_FILTERBLOCK */
        struct {
            tpl_node *value;
            tpl_list body;
        } autoescape; /* S_AUTOESCAPE */
    } u;
};

/* A compiled template: everything lives in its own arena. */
typedef struct tpl_template {
    vial_arena *arena;
    struct vial_tpl_env *env;
    char *name;     /* loader name ("" for strings) */
    char *filename; /* path on disk, or the name */
    char *source;   /* normalised source, for excerpts */
    size_t source_len;
    tpl_list root;
    tpl_block_def **blocks;
    uint32_t nblocks;
    bool autoescape;
    bool has_extends;
    size_t output_hint; /* size of the last rendering: the next output buffer starts this big */
    /* loader bookkeeping */
    struct timespec mtime;
    long long size;
    bool from_memory;
} tpl_template;

typedef struct tpl_parse_opts {
    tpl_lex_opts lex;
} tpl_parse_opts;

/* Parses and compiles source into t (arena, env, name and autoescape already set); -1 with *err filled. */
int vial_tpl_parse(tpl_template *t, const char *src, size_t len, tpl_err *err);
/* The checks and preparation Jinja2 does while generating code (compile.c). */
int vial_tpl_compile(struct vial_tpl_env *env, tpl_template *t, tpl_err *err);

/* ---------------------------------------------------------------------
 * Library tables (filters.c, tests.c)
 * --------------------------------------------------------------------- */

struct tpl_render;
typedef struct tpl_args {
    vial_value **pos;
    size_t npos;
    vial_str *kwnames;
    vial_value **kwvals;
    size_t nkw;
} tpl_args;

typedef vial_value *(*tpl_filter_fn)(struct tpl_render *r, const tpl_node *site, vial_value *in, vial_value **p,
                                     tpl_args *raw);
typedef int (*tpl_test_fn)(struct tpl_render *r, const tpl_node *site, vial_value *in, vial_value **p, tpl_args *raw);

#define BF_VARARGS 0x01 /* receives the raw arguments (format, map, select...) */
#define BF_PURE 0x02    /* result depends only on arguments: may be folded */
#define BF_MAXP 6

typedef struct tpl_builtin {
    const char *name;
    const char *pyname; /* Python function name for argument errors */
    union {
        tpl_filter_fn filter;
        tpl_test_fn test;
    } fn;
    uint8_t flags;
    uint8_t nrequired; /* parameters after the input that must be given */
    uint8_t nparams;
    const char *params[BF_MAXP];
} tpl_builtin;

const tpl_builtin *vial_tpl_find_filter(const char *name, size_t len);
const tpl_builtin *vial_tpl_find_test(const char *name, size_t len);

/* A C callable registered on the environment. */
typedef struct tpl_userfn {
    char *name;
    vial_tpl_fn fn;
    void *data;
} tpl_userfn;

/* ---------------------------------------------------------------------
 * Environment (loader.c)
 * --------------------------------------------------------------------- */

typedef struct tpl_name_table {
    vial_str *names;
    uint32_t n, cap;
    uint32_t *index; /* open addressing, id + 1 */
    uint32_t slots;
} tpl_name_table;

typedef struct tpl_cache_entry {
    char *name;
    size_t name_len;
    tpl_template *tmpl;
} tpl_cache_entry;

typedef struct tpl_source_entry {
    char *name;
    char *source;
    size_t len;
} tpl_source_entry;

struct vial_tpl_env {
    vial_tpl_options opt;
    vial_arena *arena; /* long-lived: names, registrations, globals */
    char **paths;
    size_t npaths;
    tpl_source_entry *sources;
    size_t nsources;
    tpl_name_table names;
    tpl_userfn **filters, **tests, **functions;
    size_t nfilters, ntests, nfunctions;
    vial_value *globals; /* object */
    tpl_cache_entry *cache;
    size_t ncache, cache_cap;
    uint32_t *cache_index; /* open addressing, entry + 1 */
    size_t cache_slots;
    uint32_t id_loop, id_super, id_caller, id_varargs, id_kwargs;
    tpl_template **retired; /* replaced while a render may still use them */
    size_t nretired;
    int active_renders;
};

/* Interns a name; its id is stable for the environment's life (UINT32_MAX when out of memory). */
uint32_t vial_tpl_intern(struct vial_tpl_env *env, const char *name, size_t len);
const tpl_userfn *vial_tpl_env_find(tpl_userfn *const *list, size_t n, const char *name, size_t len);
/* Loads (or returns the cached) template; NULL with err set. */
tpl_template *vial_tpl_env_load(struct vial_tpl_env *env, const char *name, size_t len, tpl_err *err);
/* Whether a template name switches autoescape on under VIAL_TPL_AUTOESCAPE_BY_NAME. */
bool vial_tpl_autoescape_for(const struct vial_tpl_env *env, const char *name);

/* ---------------------------------------------------------------------
 * Render state (render.c, eval.c)
 * --------------------------------------------------------------------- */

typedef struct tpl_frame tpl_frame;
typedef struct tpl_context tpl_context;

#define FRAME_INLINE 6
struct tpl_frame {
    tpl_frame *parent; /* enclosing scope; NULL at the top of a body */
    tpl_context *ctx;
    uint32_t n, cap;
    uint32_t *ids;
    vial_value **vals;
    uint8_t *exported; /* context vars only: which names an import sees */
    uint32_t inline_ids[FRAME_INLINE];
    vial_value *inline_vals[FRAME_INLINE];
};

typedef struct tpl_block_stack {
    vial_str name;
    uint32_t n, cap;
    const tpl_block_def **defs;
    const tpl_template **tmpls;
} tpl_block_stack;

struct tpl_context {
    tpl_frame vars;          /* top-level assignments (Jinja2's context.vars) */
    tpl_frame *outer;        /* include/import with context: the includer's scope */
    bool has_user;           /* the render's context object is visible */
    tpl_block_stack *blocks; /* name -> [child's, parent's, ...] */
    uint32_t nblocks, blocks_cap;
    const tpl_template *parent_tmpl; /* set by {% extends %} */
    const tpl_template *tmpl;        /* template whose root runs in this context */
};

typedef struct tpl_render {
    struct vial_tpl_env *env;
    vial_arena *arena;
    const vial_value *user_ctx; /* object or NULL */
    const vial_value *extra;    /* per-render globals (object) or NULL */
    vial_value *(*resolve)(void *user, vial_arena *arena, const char *name, size_t len); /* lazy globals */
    void *user;
    vial_buf *out;
    size_t max_output;
    bool autoescape;
    bool strict;
    int depth, max_depth;
    uint64_t steps, max_steps;
    const tpl_node *stmt; /* statement being run: where errors without a better node point */
    const tpl_template *tmpl; /* template whose code is running (for error locations) */
    tpl_err *err;
    bool failed;
} tpl_render;

/* Records an error at a node of the running template; returns -1. */
int vial_tpl_raise(tpl_render *r, const tpl_node *site, const char *fmt, ...) VIAL_PRINTF(3, 4);
/* Same, returning NULL for value-producing paths. */
vial_value *vial_tpl_failv(tpl_render *r, const tpl_node *site, const char *fmt, ...) VIAL_PRINTF(3, 4);
/* Records "out of memory". */
vial_value *vial_tpl_oom(tpl_render *r, const tpl_node *site);

/* Evaluates an expression; NULL on error (r->err set). */
vial_value *vial_tpl_eval(tpl_render *r, tpl_frame *f, const tpl_node *n);
/* Runs a list of statements, writing to r->out. */
int vial_tpl_exec(tpl_render *r, tpl_frame *f, const tpl_list *body);
/* Runs a body into a fresh buffer and returns it as a string value (Markup when safe). */
vial_value *vial_tpl_capture(tpl_render *r, tpl_frame *f, const tpl_list *body, bool safe);
/* Runs a whole template (root + extends chain) in a context. */
int vial_tpl_run_template(tpl_render *r, tpl_context *ctx, const tpl_template *t);
/* Calls any callable value. */
vial_value *vial_tpl_call_value(tpl_render *r, const tpl_node *site, vial_value *callee, tpl_args *a);
/* Applies filter node n (no keyword arguments) to an input and positional
 * arguments its caller has already evaluated. */
vial_value *vial_tpl_apply_filter_node(tpl_render *r, const tpl_node *n, vial_value *in, vial_value **pos, size_t npos);
/* Calls a filter by name (map, select...). */
vial_value *vial_tpl_call_filter_named(tpl_render *r, const tpl_node *site, const vial_value *name, vial_value *in,
                                  tpl_args *a);
/* Calls a test by name; 1/0, -1 on error. */
int vial_tpl_call_test_named(tpl_render *r, const tpl_node *site, const vial_value *name, vial_value *in, tpl_args *a);
/* Applies an already-resolved filter. */
vial_value *vial_tpl_apply_filter(tpl_render *r, const tpl_node *site, const tpl_builtin *b, const tpl_userfn *u,
                             vial_value *in, tpl_args *a);
int vial_tpl_apply_test(tpl_render *r, const tpl_node *site, const tpl_builtin *b, const tpl_userfn *u, vial_value *in,
                   tpl_args *a);
/* Binds positional + keyword arguments to a builtin's parameters (p[] gets NULL for absent). */
int vial_tpl_bind(tpl_render *r, const tpl_node *site, const tpl_builtin *b, tpl_args *a, vial_value **p);

/* frames */
void vial_tpl_frame_init(tpl_frame *f, tpl_frame *parent, tpl_context *ctx);
int vial_tpl_frame_set(tpl_render *r, tpl_frame *f, uint32_t id, vial_value *v);
vial_value *vial_tpl_lookup(tpl_render *r, tpl_frame *f, uint32_t id, const vial_str *name);

/* The innermost frame is where loop variables and macro parameters live: check it inline. */
static inline vial_value *tpl_lookup_fast(tpl_render *r, tpl_frame *f, uint32_t id, const vial_str *name) {
    if (f)
        for (uint32_t i = 0; i < f->n; i++)
            if (f->ids[i] == id) return f->vals[i];
    return vial_tpl_lookup(r, f, id, name);
}
tpl_context *vial_tpl_context_new(tpl_render *r, const tpl_template *t, tpl_frame *outer, bool has_user);
/* Appends t's blocks to the context's block stacks. */
int vial_tpl_context_add_blocks(tpl_render *r, tpl_context *ctx, const tpl_template *t);

/* getattr/getitem with Jinja2's rules (attribute first / item first). */
vial_value *vial_tpl_getattr(tpl_render *r, const tpl_node *site, vial_value *obj, const char *name, size_t len);
vial_value *vial_tpl_getitem(tpl_render *r, const tpl_node *site, vial_value *obj, vial_value *key);
/* Method call obj.name(args) on builtin types: returns NULL without error when obj has no such method. */
vial_value *vial_tpl_call_method(tpl_render *r, const tpl_node *site, vial_value *obj, const char *name, size_t len,
                            tpl_args *a, bool *found);
bool vial_tpl_has_method(const vial_value *obj, const char *name, size_t len);

/* ---------------------------------------------------------------------
 * Special values
 * --------------------------------------------------------------------- */

typedef struct tpl_undef {
    tpl_obj h;
    const char *hint;      /* full message, or NULL */
    const vial_value *obj; /* NULL: a missing name */
    vial_str name;
    bool has_index;
    vial_value *index; /* non-string key */
} tpl_undef;

struct tpl_render;
typedef struct tpl_macro {
    tpl_obj h;
    const tpl_macro_def *def;
    tpl_frame *closure;
    const tpl_template *tmpl;
    bool autoescape; /* eval context where it was defined */
} tpl_macro;

enum func_kind {
    FN_BUILTIN,  /* range, dict, lipsum, cycler, joiner, namespace */
    FN_USER,     /* C function registered on the environment */
    FN_METHOD,   /* bound method of a builtin type */
    FN_BLOCK,    /* super() / self.name(): render a block */
    FN_LOOPCALL, /* loop.cycle / loop.changed */
    FN_CYCLER,   /* cycler.next / cycler.reset */
};

typedef struct tpl_func {
    tpl_obj h;
    uint8_t fkind;
    uint8_t which;
    const char *name;
    const tpl_userfn *user;
    vial_value *self;
    tpl_context *ctx;             /* FN_BLOCK */
    const tpl_block_stack *stack; /* FN_BLOCK */
    uint32_t depth;               /* FN_BLOCK */
} tpl_func;

typedef struct tpl_loop {
    tpl_obj h;
    vial_value *iterable;   /* the array being iterated */
    vial_value **items;
    size_t len, index0;
    int depth0;
    vial_value *last_changed;
    const tpl_node *node; /* the for statement (recursive loops) */
    tpl_frame *frame;     /* where the for statement runs */
} tpl_loop;

typedef struct tpl_ns {
    tpl_obj h;
    vial_value *attrs; /* object */
} tpl_ns;

typedef struct tpl_cycler {
    tpl_obj h;
    vial_value **items;
    size_t n, pos;
} tpl_cycler;

typedef struct tpl_joiner {
    tpl_obj h;
    vial_value *sep;
    bool used;
} tpl_joiner;

typedef struct tpl_module {
    tpl_obj h;
    vial_value *exports; /* object */
    vial_value *body;    /* output of the module's top level */
    const char *name;
} tpl_module;

typedef struct tpl_selfref {
    tpl_obj h;
    tpl_context *ctx;
} tpl_selfref;

typedef struct tpl_range {
    tpl_obj h;
    int64_t start, stop, step;
} tpl_range;

void *vial_tpl_obj_new(vial_arena *a, size_t size, int kind);
vial_value *vial_tpl_undefined(tpl_render *r, const char *hint, const vial_value *obj, const char *name, size_t len);
vial_value *vial_tpl_undefined_index(tpl_render *r, const vial_value *obj, vial_value *index);
/* The message an undefined value raises with. */
const char *vial_tpl_undef_message(tpl_render *r, const vial_value *u);
/* Raises the undefined's error (UndefinedError). */
int vial_tpl_undef_fail(tpl_render *r, const tpl_node *site, const vial_value *u);
int64_t vial_tpl_range_len(const tpl_range *rg);

/* ---------------------------------------------------------------------
 * Python semantics (values.c)
 * --------------------------------------------------------------------- */

/* Python's str(v) appended to b (escaping nothing). -1 on error/limit. */
int vial_tv_str(tpl_render *r, vial_buf *b, const vial_value *v);
/* Python's repr(v). */
int vial_tv_repr(tpl_render *r, vial_buf *b, const vial_value *v);
/* str(v) as a value (strings are returned as they are, Markup included). */
vial_value *vial_tv_to_str(tpl_render *r, const tpl_node *site, vial_value *v);
/* str(v) as a plain (unsafe) string value. */
vial_value *vial_tv_to_plain_str(tpl_render *r, const tpl_node *site, vial_value *v);
/* markupsafe.escape(v): Markup. */
vial_value *vial_tv_escape(tpl_render *r, const tpl_node *site, vial_value *v);
/* Appends s with & < > " ' escaped. */
int vial_tv_escape_into(vial_buf *b, const char *s, size_t n);
/* Python truthiness; -1 when StrictUndefined refuses. */
int vial_tv_truthy(tpl_render *r, const tpl_node *site, const vial_value *v);
/* Python ==. */
bool vial_tv_equal(const vial_value *a, const vial_value *b);
/* Python <, <=, >, >= : 1/0, -1 with a TypeError recorded. */
int vial_tv_order(tpl_render *r, const tpl_node *site, int op, const vial_value *a, const vial_value *b);
/* Three-way comparison for sorting: -1/0/1, or -2 on TypeError (recorded). */
int vial_tv_cmp(tpl_render *r, const tpl_node *site, const vial_value *a, const vial_value *b);
/* `a in b`: 1/0, -1 on error. */
int vial_tv_contains(tpl_render *r, const tpl_node *site, const vial_value *container, const vial_value *item);
/* Binary arithmetic with Python's rules. */
vial_value *vial_tv_binop(tpl_render *r, const tpl_node *site, int op, vial_value *a, vial_value *b);
vial_value *vial_tv_neg(tpl_render *r, const tpl_node *site, vial_value *a, bool positive);
/* Python type name: "int", "str", "dict", "NoneType", "Markup"... */
const char *vial_tv_type_name(const vial_value *v);
/* "dict object", "'None'" forms used by Undefined messages. */
const char *vial_tv_object_type_repr(const vial_value *v);
/* len(); -1 with an error when the value has none. */
int64_t vial_tv_len(tpl_render *r, const tpl_node *site, const vial_value *v);
/* Materialises an iterable into an array of items (arrays are returned as is). */
vial_value *vial_tv_list(tpl_render *r, const tpl_node *site, vial_value *v);
/* Number of code points in a UTF-8 string. */
size_t vial_tv_cp_len(const char *s, size_t n);
/* Byte offset of code point index i (clamped to n). */
size_t vial_tv_cp_offset(const char *s, size_t n, size_t i);
/* New values */
vial_value *vial_tv_int(tpl_render *r, int64_t i);
vial_value *vial_tv_double(tpl_render *r, double d);
vial_value *vial_tv_strn(tpl_render *r, const char *s, size_t n, bool safe);
vial_value *vial_tv_buf_value(tpl_render *r, vial_buf *b, bool safe);
/* A string value and room for its n bytes (NUL-terminated) in one allocation. */
vial_value *vial_tv_new_str(tpl_render *r, size_t n, char **bytes);
vial_value *vial_tv_tuple(tpl_render *r, size_t n, vial_value **items);
vial_value *vial_tv_bool(bool b);
/* Numeric views */
bool vial_tv_is_number(const vial_value *v); /* int, float or bool */
double vial_tv_as_double(const vial_value *v);
/* Unicode: Python 3.11's character classes and case mappings (unicode.c) */
bool vial_tv_isspace_cp(uint32_t cp);
bool vial_tv_isalnum_cp(uint32_t cp);     /* str.isalnum; regex \w is this or '_' */
bool vial_tv_isalpha_cp(uint32_t cp);
bool vial_tv_isdigit_cp(uint32_t cp);     /* str.isdecimal (regex \d) */
bool vial_tv_isdigit_py_cp(uint32_t cp);  /* str.isdigit */
bool vial_tv_isnumeric_cp(uint32_t cp);
bool vial_tv_isupper_cp(uint32_t cp);     /* one character: Lu and Other_Uppercase */
bool vial_tv_islower_cp(uint32_t cp);
bool vial_tv_istitle_cp(uint32_t cp);     /* titlecase letters (Lt) */
bool vial_tv_iscased_cp(uint32_t cp);
bool vial_tv_iscase_ignorable_cp(uint32_t cp);
bool vial_tv_isprintable_cp(uint32_t cp);
bool vial_tv_isname_cp(uint32_t cp);      /* a character of Jinja2's name token */
bool vial_tv_isid_start_cp(uint32_t cp);
bool vial_tv_isid_continue_cp(uint32_t cp);
enum { TV_UPPER, TV_LOWER, TV_TITLE, TV_FOLD, TV_SWAP, TV_CAPITALIZE, TV_TITLE_WORDS, TV_UPPER_FIRST };
/* Full mapping of one code point (TV_UPPER/LOWER/TITLE/FOLD): 1 to 3 code points. */
size_t vial_tv_case_full(uint32_t cp, int which, uint32_t out[3]);
/* Simple (one code point) mappings. */
uint32_t vial_tv_upper_cp(uint32_t cp);
uint32_t vial_tv_lower_cp(uint32_t cp);
/* Appends s mapped like str.upper/lower/casefold/swapcase/capitalize/title, or
 * TV_UPPER_FIRST (first upper, rest lower: Jinja2's title filter per word). */
int vial_tv_case_into(vial_buf *b, const char *s, size_t n, int mode);
/* Decodes one code point (invalid bytes decode as themselves, length 1). */
size_t vial_tv_next_cp(const char *s, size_t n, uint32_t *cp);
int vial_tv_put_cp(vial_buf *b, uint32_t cp);
/* A fresh buffer drawing from the render arena, capped like the output. */
void vial_tv_buf(tpl_render *r, vial_buf *b);
/* Parses Python int()/float() text; false when invalid. */
bool vial_tv_parse_int(const char *s, size_t n, int base, int64_t *out, bool *overflow);
bool vial_tv_parse_float(const char *s, size_t n, double *out);

/* methods.c helpers shared with filters */
vial_value *vial_tpl_str_splitlines(tpl_render *r, const tpl_node *site, vial_value *self, bool keepends);

/* pyformat.c */
vial_value *vial_tpl_percent_format(tpl_render *r, const tpl_node *site, vial_value *fmt, vial_value *args);
/* fmt % (argv...) (tuple) or fmt % argv[0] (with mapping when it is a dict). */
vial_value *vial_tpl_percent_format_argv(tpl_render *r, const tpl_node *site, vial_value *fmt, vial_value **argv,
                                    size_t argc, bool tuple, const vial_value *mapping);
vial_value *vial_tpl_str_format(tpl_render *r, const tpl_node *site, vial_value *fmt, tpl_args *a);
int vial_tpl_pformat(tpl_render *r, vial_buf *b, const vial_value *v);
/* Digits of printf("%.*f", prec, ax) for ax >= 0 into out (NUL-terminated); length or -1. */
int vial_tpl_fixed_digits(char *out, size_t cap, double ax, int prec);
/* Python's '%.*f' style formatting of a double with a format-spec type. */
int vial_tpl_format_double_spec(vial_buf *b, double d, char type, int precision, bool alt);

/* builtins.c */
vial_value *vial_tpl_builtin_global(tpl_render *r, const char *name, size_t len);
vial_value *vial_tpl_call_builtin(tpl_render *r, const tpl_node *site, tpl_func *fn, tpl_args *a);
vial_value *vial_tpl_lipsum(tpl_render *r, const tpl_node *site, int64_t n, bool html, int64_t min, int64_t max);

/* html.c */
int vial_tpl_html_unescape(vial_buf *b, const char *s, size_t n);

#endif
