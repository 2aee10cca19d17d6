/* chars.c - the character class table behind chars.h.
 *
 * Built from the grammar's own definitions at compile time, so the table
 * cannot drift from the rules written next to it. */
#include "http/chars.h"

#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_TCHAR(c)                                                                                                 \
    (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || (c) == '&' ||            \
     (c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' || (c) == '`' || \
     (c) == '|' || (c) == '~')
#define IS_SUBDELIM(c)                                                                                              \
    ((c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || (c) == '(' || (c) == ')' || (c) == '*' || (c) == '+' || \
     (c) == ',' || (c) == ';' || (c) == '=')
#define IS_HOSTCHAR(c) \
    (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~' || IS_SUBDELIM(c) || (c) == '%')
#define IS_HEXCHAR(c) (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define CLASS(c)                                                                                          \
    ((IS_TCHAR(c) ? VIAL_C_TOKEN : 0) | (((c) == '\t' || ((c) >= 0x20 && (c) != 0x7f)) ? VIAL_C_VALUE : 0) | \
     (((c) > 0x20 && (c) < 0x7f && (c) != '#') ? VIAL_C_TARGET : 0) | (IS_HOSTCHAR(c) ? VIAL_C_HOST : 0) |  \
     (IS_HEXCHAR(c) ? VIAL_C_HEX : 0) | (IS_HOSTCHAR(c) && (c) != '%' ? VIAL_C_REGNAME : 0))
#define ROW(b)                                                                                                     \
    CLASS(b), CLASS(b + 1), CLASS(b + 2), CLASS(b + 3), CLASS(b + 4), CLASS(b + 5), CLASS(b + 6), CLASS(b + 7), \
        CLASS(b + 8), CLASS(b + 9), CLASS(b + 10), CLASS(b + 11), CLASS(b + 12), CLASS(b + 13), CLASS(b + 14),  \
        CLASS(b + 15)

const unsigned char vial_http_char_class[256] = {
    ROW(0x00), ROW(0x10), ROW(0x20), ROW(0x30), ROW(0x40), ROW(0x50), ROW(0x60), ROW(0x70),
    ROW(0x80), ROW(0x90), ROW(0xa0), ROW(0xb0), ROW(0xc0), ROW(0xd0), ROW(0xe0), ROW(0xf0),
};
