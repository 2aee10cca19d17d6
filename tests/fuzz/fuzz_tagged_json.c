/* libFuzzer target: Flask's tagged JSON reader (Python's json dialect plus
 * the tag hook). Whatever it accepts must write back (unless it holds a date
 * outside Python's range), and what it writes must read back to the same
 * value and write again to the same ASCII bytes. */
#include <stdint.h>
#include <string.h>

#include "../unit/session_typed.h"

/* Python's own reading changes years 1..99 (two-digit years): no fixed point there. */
static bool has_early_datetime(const vial_value *v) {
    if (v->tag == VIAL_TAG_DATETIME) return v->as.i < -59011459200LL;
    if (v->type == VIAL_ARRAY)
        for (size_t i = 0; i < v->as.arr.len; i++)
            if (has_early_datetime(v->as.arr.items[i])) return true;
    if (v->type == VIAL_OBJECT)
        for (size_t i = 0; i < v->as.obj.len; i++)
            if (has_early_datetime(v->as.obj.items[i].value)) return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vial_arena *a = vial_arena_new(1 << 14);
    vial_json_error err;
    vial_value *v = vial_tagged_json_loads(a, (const char *)data, size, &err);
    if (!v) {
        if (!err.message[0] || err.offset > size) __builtin_trap();
    } else {
        size_t len;
        char *out = vial_tagged_json_dumps(a, v, &len, &err);
        if (out) {
            for (size_t i = 0; i < len; i++)
                if ((unsigned char)out[i] >= 0x80) __builtin_trap(); /* ensure_ascii */
            vial_value *back = vial_tagged_json_loads(a, out, len, &err);
            if (!back) __builtin_trap();
            if (!has_early_datetime(v)) {
                if (!typed_equal(v, back)) __builtin_trap();
                size_t len2;
                char *out2 = vial_tagged_json_dumps(a, back, &len2, &err);
                if (!out2 || len2 != len || memcmp(out, out2, len) != 0) __builtin_trap();
            }
        } else if (!err.message[0]) {
            __builtin_trap();
        }
    }
    vial_arena_free(a);
    return 0;
}
