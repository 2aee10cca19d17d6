/* unicode_ranges.h - is a code point in a sorted table of [first, last] ranges?
 *
 * The Unicode tables generated for IDNA's nameprep (app/idna.c) and for the
 * template engine's case mapping and character classes (template/unicode.c)
 * are sorted, non-overlapping ranges; both look code points up the same way:
 * a binary search. */
#ifndef VIAL_CORE_UNICODE_RANGES_H
#define VIAL_CORE_UNICODE_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool cp_in_ranges(const uint32_t (*ranges)[2], size_t count, uint32_t cp) {
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < ranges[mid][0])
            hi = mid;
        else if (cp > ranges[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

#endif
