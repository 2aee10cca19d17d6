/* ascii_fold.c - the ASCII fallback of a UTF-8 name.
 *
 * Interim: keeps the ASCII bytes and drops the rest; the NFKD table that
 * turns "é" into "e" comes with secure_filename. */
#include "vial.h"

int vial_ascii_fold(vial_buf *out, const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x80 && vial_buf_putc(out, *p) != 0) return -1;
    return 0;
}
