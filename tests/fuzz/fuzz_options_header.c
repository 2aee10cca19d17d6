/* libFuzzer target: Content-Type / Content-Disposition parameters
 * (parse_options_header, as UTF-8 and as latin-1), and the other text
 * transformations of the forms code: secure_filename, iri_to_uri and IDNA
 * host encoding. Results must be well-formed: UTF-8 parameters, a filename
 * of [A-Za-z0-9_.-] only, an ASCII URI. */
#include <stdint.h>
#include <string.h>

#include "app/forms.h"
#include "vial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    vial_arena *a = vial_arena_new(4096);
    vial_form_error err;
    for (int flags = 0; flags <= VIAL_OPTIONS_LATIN1; flags += VIAL_OPTIONS_LATIN1) {
        vial_options_header h;
        if (vial_parse_options_header(a, s, size, flags, &h, &err) == 0) {
            if (!vial_utf8_valid(h.value, strlen(h.value))) __builtin_trap();
            for (size_t i = 0; i < h.param_count; i++) {
                if (!vial_utf8_valid(h.params[i].name, strlen(h.params[i].name))) __builtin_trap();
                if (h.params[i].value && !vial_utf8_valid(h.params[i].value, strlen(h.params[i].value)))
                    __builtin_trap();
            }
        } else if (!err.status || !err.message[0]) {
            __builtin_trap();
        }
    }
    char *name = vial_secure_filename_in(a, s, size, size & 1 ? VIAL_SECURE_FILENAME_WINDOWS : 0);
    if (!name) __builtin_trap();
    for (const char *c = name; *c; c++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-", *c)) __builtin_trap();
    char *uri = vial_iri_to_uri(a, s, size, size & 2, &err);
    if (uri)
        for (const char *c = uri; *c; c++)
            if ((unsigned char)*c >= 0x80) __builtin_trap(); /* a URI is ASCII */
    size_t len;
    char *host = vial_idna_encode_host(a, s, size, &len, &err);
    if (host && !vial_utf8_valid(host, len)) __builtin_trap();
    vial_arena_free(a);
    return 0;
}
