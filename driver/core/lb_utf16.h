/* UTF-8 <-> UTF-16 for the W entry points (unixODBC's SQLWCHAR is 16 bits). Invalid
 * input (lone surrogates, bad UTF-8) is refused, never passed on half-converted. */
#ifndef LB_UTF16_H
#define LB_UTF16_H

#include <stddef.h>
#include <stdint.h>

/* Converts n UTF-16 units to a malloc'd NUL-terminated UTF-8 string. Returns NULL
 * (and *bad = 1 when the input was invalid, 0 when out of memory). */
char *lb_utf16_to_utf8(const uint16_t *s, size_t n, size_t *out_len, int *bad);
/* Converts NUL-terminated UTF-8 to malloc'd NUL-terminated UTF-16; *out_units gets
 * the length without the terminator. NULL on invalid input or out of memory. */
uint16_t *lb_utf8_to_utf16(const char *s, size_t *out_units);
/* Length of a NUL-terminated UTF-16 string, stopping after max units. */
size_t lb_utf16_len(const uint16_t *s, size_t max);

#endif
