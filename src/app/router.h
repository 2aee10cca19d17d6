/* router.h - internals of the URL router (src/app/router*.c, converter*.c,
 * urlbuild.c, urlquote.c). The public face is the routing section of vial.h.
 *
 * A rule ("/goods/<float:cid>/<uuid:gid>") is parsed into parts, one per
 * '/'-separated segment, as Werkzeug 2.2 does: a part is either static text
 * compared for equality, or one anchored regex for the whole segment (a
 * `path` converter makes its part final: it swallows the rest of the path).
 * Parts are inserted into a tree of states; identical parts share a state.
 * Each state keeps its static children in a hash table and its dynamic
 * children sorted by Werkzeug's weight, so a lookup costs a hash probe per
 * static segment whatever the number of rules; rules made only of static
 * segments are also in one table keyed by the whole path. Everything here
 * lives in the router's arena and is released with it. */
#ifndef VIAL_APP_ROUTER_H
#define VIAL_APP_ROUTER_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "vial.h"

/* ---- converters ---- */

typedef enum conv_kind {
    CONV_STRING, /* Werkzeug's UnicodeConverter ("default" and "string") */
    CONV_INT,
    CONV_FLOAT,
    CONV_PATH,
    CONV_UUID,
    CONV_ANY,
    CONV_USER, /* a vial_converter, including the built-in "re" */
} conv_kind;

/* A converter registered under a name. */
typedef struct conv_entry {
    char *name;
    conv_kind kind;
    const vial_converter *user; /* CONV_USER: the router's copy */
} conv_entry;

/* An int or float bound (min/max) as Python would compare it. */
typedef struct route_num {
    bool set;
    bool is_int;
    int64_t i;
    double d;
} route_num;

/* One placeholder of a rule, with its converter configured by the rule's arguments. */
typedef struct conv_inst {
    const char *var; /* variable name */
    conv_kind kind;
    const char *regex; /* Python-syntax regex as Werkzeug would use it */
    int weight;
    bool part_isolating;
    /* string */
    long minlen, maxlen; /* code points; maxlen -1 = unbounded */
    /* int, float */
    long fixed_digits;
    route_num min, max;
    bool is_signed;
    /* any */
    const char **items;
    size_t nitems;
    /* user */
    const vial_converter *conv;
    void *state;
} conv_inst;

/* Reads the arguments of a placeholder; fills inst (kind and name already set).
 * Returns 0 or -1 with msg filled. */
int router_conv_setup(vial_arena *a, conv_inst *inst, const conv_entry *entry, const vial_value *args,
                      const vial_value *kwargs, char *msg, size_t msglen);
/* to_python: matched text -> value. Returns the value, NULL for a validation
 * failure (no match), and sets *oom when the arena is exhausted. */
vial_value *router_conv_to_value(vial_arena *a, const conv_inst *inst, const char *text, size_t len, bool *oom);
/* to_url: appends the URL form of v. 0, -1 with a ValueError-like message, -2 out of memory. */
int router_conv_to_url(vial_buf *out, const conv_inst *inst, const vial_value *v, char *msg, size_t msglen);

/* The built-in "re" converter (Flask tutorials' RegexConverter). */
extern const vial_converter router_re_converter;

/* Unicode decimal digits (category Nd, what Python's \d and int() accept):
 * the digit's value, or -1. */
int router_nd_value(uint32_t cp);
/* Python's str.isspace() for a code point. */
bool router_py_space(uint32_t cp);

/* ---- rule arguments ---- */

/* Parses a converter argument list ("min=1, max=10", "'1[3-9]\d{9}'") the way
 * Werkzeug's parse_converter_args does, into an array and an object of
 * Python-like literals. Text Werkzeug would silently skip is an error here.
 * Returns 0, or -1 with msg filled and *bad_offset set (relative to s). */
int router_parse_args(vial_arena *a, const char *s, size_t n, vial_value **args, vial_value **kwargs,
                      size_t *bad_offset, char *msg, size_t msglen);

/* ---- regex (PCRE2) ---- */

/* Compiles a Python-style regex for PCRE2 (UTF + UCP, \Z as Python's end of
 * string). NULL with msg filled (and *err_offset into the Python text). */
pcre2_code *router_regex_compile(const char *py_regex, size_t len, bool anchored, size_t *err_offset, char *msg,
                                 size_t msglen);
/* Translates a Python-syntax regex to PCRE2 syntax into out. */
int router_regex_translate(vial_buf *out, const char *py_regex, size_t len);

/* ---- the tree ---- */

typedef enum part_matcher {
    PM_REGEX,  /* PCRE2 on the composed segment regex */
    PM_STRING, /* [^/]{min,max} */
    PM_INT,    /* -?\d+ */
    PM_FLOAT,  /* -?\d+\.\d+ */
    PM_UUID,
    PM_ANY,
    PM_PATH, /* [^/].*? alone in a final part */
} part_matcher;

typedef struct route_weight {
    int nstatic;       /* minus the number of static pieces */
    int (*statics)[2]; /* (index, -length) of each */
    int nargs;         /* minus the number of converters */
    int *args;         /* converter weights */
    size_t nstatics_len, nargs_len;
} route_weight;

typedef struct route_part {
    char *content; /* static text, or the Python-syntax regex (for identity, like Werkzeug) */
    size_t content_len;
    bool is_static;
    bool final;
    route_weight weight;
    /* dynamic parts */
    part_matcher matcher;
    int ngroups; /* capture groups pushed as values */
    pcre2_code *re;
    bool jit;    /* re was JIT-compiled: pcre2_jit_match may be used */
    /* native matchers: literal text around the one converter of the segment */
    const char *prefix, *suffix;
    size_t prefix_len, suffix_len;
    long minlen, maxlen;
    bool is_signed;
    const char **items;
    size_t nitems;
} route_part;

typedef struct route_state route_state;
typedef struct route_rule route_rule;

typedef struct static_slot {
    const char *key;
    size_t len;
    uint64_t hash;
    route_state *next;
} static_slot;

typedef struct route_edge {
    route_part *part;
    route_state *next;
} route_edge;

struct route_state {
    route_state *slash; /* the static child "" (a trailing or leading slash), without hashing */
    static_slot *slots; /* open addressing, power-of-two size */
    size_t nslots, nstatic;
    route_edge *dyn; /* by weight, then registration */
    size_t ndyn, capdyn;
    route_rule **rules; /* registration order */
    size_t nrules, caprules;
};

/* A piece of the rule for building: literal (already quoted) or a converter. */
typedef struct build_piece {
    const char *text; /* literal, quoted */
    size_t len;
    long conv; /* converter index, or -1 for literal */
} build_piece;

typedef struct route_endpoint route_endpoint;

struct route_rule {
    vial_rule_info info; /* the public view */
    conv_inst *convs;
    size_t nconv;
    build_piece *pieces;
    size_t npieces;
    const char **arguments; /* converter names and defaults keys, each once */
    size_t narguments;
    size_t ndefaults;
    unsigned match_methods; /* methods compared when matching (with HEAD and OPTIONS) */
    unsigned own_methods;   /* without automatic OPTIONS: for duplicate detection */
    bool any_method;
    route_endpoint *ep;
    size_t nvalues; /* values the tree pushes on the way to this rule */
};

struct route_endpoint {
    char *name;
    void *handler;
    route_rule **rules; /* build order */
    size_t nrules, caprules;
    size_t order; /* first registration */
    route_endpoint *hnext;
};

struct vial_router {
    vial_arena *arena;
    bool strict_slashes, merge_slashes, redirect_defaults;
    conv_entry *convs;
    size_t nconvs, capconvs;
    route_state *root;
    route_rule **rules;
    size_t nrules, caprules;
    route_endpoint **endpoints; /* first-registration order */
    size_t nendpoints, capendpoints;
    route_endpoint **ep_table; /* hash by name */
    size_t ep_slots;
    static_slot *flat; /* whole static paths ("/api/v1/users") -> their state */
    size_t flat_slots, nflat;
    uint64_t flat_lengths; /* bit (len & 63) set for each flat path: skips most dynamic paths unhashed */
    size_t max_values;  /* most values any rule collects */
    uint32_t max_ovector; /* largest ovector any part regex needs */
};

/* Grows an arena array to hold at least need items. */
int router_grow(vial_arena *a, void **items, size_t *cap, size_t need, size_t item_size);
/* The hash of static segments (8 bytes at a time). */
uint64_t router_hash(const char *s, size_t n);
/* The endpoint record, or NULL. */
route_endpoint *router_endpoint_find(const vial_router *r, const char *name, size_t len);

/* Parses rule text into converters, build pieces and tree parts. */
typedef struct parsed_rule {
    conv_inst *convs;
    size_t nconv;
    build_piece *pieces;
    size_t npieces;
    route_part **parts;
    size_t nparts;
} parsed_rule;
int router_parse_rule(vial_router *r, const char *text, parsed_rule *out, vial_route_error *err);

/* Inserts a rule's parts into the tree (sharing identical parts). A rule
 * made only of static parts is also entered in the flat table of whole paths. */
int router_tree_insert(vial_router *r, route_rule *rule, route_part **parts, size_t nparts);
/* The state reached by a path made only of static segments, or NULL. */
const route_state *router_flat_find(const vial_router *r, const char *path, size_t len);

/* The tree search, Werkzeug's StateMachineMatcher.match on one path. */
typedef enum tree_result { TREE_NONE, TREE_FOUND, TREE_SLASH } tree_result;
typedef struct tree_search {
    const vial_router *router;
    vial_arena *arena;
    const char *path; /* "/a/b" (leading slashes already reduced to one) */
    size_t len;
    unsigned method;
    unsigned allowed;       /* Werkzeug's have_match_for */
    vial_str *values;
    size_t nvalues, capvalues;
    route_rule *rule;
    bool oom;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
} tree_search;
tree_result router_tree_search(tree_search *s);

/* ---- building and quoting ---- */

/* Werkzeug's _always_safe set plus the bytes of extra. */
int router_quote(vial_buf *out, const char *s, size_t n, const char *extra_safe);
/* Python's str(value) as UTF-8. */
int router_py_str(vial_buf *out, const vial_value *v);
/* Python's repr() of a string. */
int router_py_repr_str(vial_buf *out, const char *s, size_t n);
/* Builds the path of one rule ("/user/x", no script root) and its query. 0 ok,
 * -1 value error (msg), -2 out of memory. */
int router_build_rule(vial_buf *out, const route_rule *rule, const vial_value *values, bool append_unknown,
                      char *msg, size_t msglen);
/* Does rule accept these values and method for building (Werkzeug's suitable_for)?
 * method_given false = any method; method 0 with method_given = a method no rule names. */
bool router_rule_suitable(const route_rule *rule, const vial_value *values, unsigned method, bool method_given);
/* Appends the members of values not named in skip as a query string (no '?'). */
int router_encode_query(vial_buf *out, const vial_value *values, const char *const *skip, size_t nskip);
/* Python's int(str) and float(str) (Unicode digits, underscores, whitespace); 0 or -1. */
int router_py_int(const char *s, size_t n, int64_t *out, bool *overflow);
int router_py_float(const char *s, size_t n, double *out);
/* Appends the decimal text of Python's int(str), unbounded; 0, -1 not a number, -2 memory. */
int router_py_int_text(const char *s, size_t n, vial_buf *out);
/* Per-thread PCRE2 match data (at least pairs) and match context with a JIT stack. */
int router_regex_resources(uint32_t pairs, pcre2_match_data **md, pcre2_match_context **mctx);
/* difflib.SequenceMatcher(None, a, b).ratio() over code points. */
double router_seq_ratio(const char *a, const char *b);

#endif
