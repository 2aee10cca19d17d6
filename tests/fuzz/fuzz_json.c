/* libFuzzer target: JSON parse, and for accepted input, emit + re-parse. */
#include <stdint.h>
#include <string.h>

#include "vial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vial_arena *a = vial_arena_new(4096);
    vial_json_error err;
    vial_value *v = vial_json_parse(a, (const char *)data, size, 64, &err);
    if (v) {
        size_t len;
        char *out = vial_json_encode(a, v, VIAL_JSON_SORT_KEYS, &len);
        if (!out || !vial_utf8_valid(out, len)) __builtin_trap();
        vial_value *back = vial_json_parse(a, out, len, 64, &err);
        if (!back) __builtin_trap();
        vial_json_encode(a, v, VIAL_JSON_INDENT(2) | VIAL_JSON_ASCII | VIAL_JSON_HTML_SAFE, &len);
    } else if (err.offset > size) {
        __builtin_trap();
    }
    vial_arena_free(a);
    return 0;
}
