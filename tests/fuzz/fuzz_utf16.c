/* fuzz_utf16: the conversions of the W entry points, checked against an independent
 * validator and against each other.
 *   - the input as little-endian 16-bit units (an odd last byte is dropped):
 *     lb_utf16_to_utf8 refuses exactly the inputs with an unpaired surrogate (*bad set);
 *     on success the output is valid UTF-8 of out_len bytes (at most 3 per unit), and
 *     lb_utf8_to_utf16 of it gives back the same units up to the first U+0000 (the
 *     UTF-8 side is a C string; an embedded NUL ends it);
 *   - the input as a NUL-terminated string: lb_utf8_to_utf16 accepts exactly valid
 *     UTF-8, gives at most one unit per byte, and lb_utf16_to_utf8 of the result gives
 *     back the same bytes;
 *   - lb_utf16_len stops at the first 0 or at max. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lb_utf16.h"

static int utf16_valid(const uint16_t *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (u[i] >= 0xD800 && u[i] <= 0xDBFF) {
            if (i + 1 == n || u[i + 1] < 0xDC00 || u[i + 1] > 0xDFFF)
                return 0;
            i++;
        } else if (u[i] >= 0xDC00 && u[i] <= 0xDFFF) {
            return 0;
        }
    }
    return 1;
}

static void units_to_utf8(const uint8_t *data, size_t size)
{
    size_t n = size / 2;
    /* Exactly n units (malloc(0) still gives a distinct pointer ASan tracks). */
    uint16_t *u = malloc(n * sizeof(uint16_t) + (n == 0));
    LBF_CHECK(u != NULL);
    for (size_t i = 0; i < n; i++)
        u[i] = (uint16_t)(data[2 * i] | (data[2 * i + 1] << 8));

    size_t z = 0; /* units before the first U+0000 */
    while (z < n && u[z] != 0)
        z++;
    LBF_CHECK(lb_utf16_len(u, n) == z);
    LBF_CHECK(lb_utf16_len(u, z / 2) == z / 2);

    size_t out_len = (size_t)-1;
    int bad = -1;
    char *s = lb_utf16_to_utf8(u, n, &out_len, &bad);
    if (lbf_verbose())
        fprintf(stderr, "utf16->utf8: %zu units -> %s\n", n, s ? "ok" : "refused");
    if (s == NULL) {
        LBF_CHECK(bad == 1);
        LBF_CHECK(!utf16_valid(u, n));
        free(u);
        return;
    }
    LBF_CHECK(bad == 0);
    LBF_CHECK(utf16_valid(u, n));
    LBF_CHECK(out_len <= 3 * n && s[out_len] == '\0');
    LBF_CHECK(lbf_utf8_valid((const unsigned char *)s, out_len));
    LBF_CHECK(strlen(s) <= out_len);
    LBF_CHECK((strlen(s) == out_len) == (z == n));

    size_t back_n = (size_t)-1;
    uint16_t *back = lb_utf8_to_utf16(s, &back_n);
    LBF_CHECK(back != NULL);
    LBF_CHECK(back_n == z && back[back_n] == 0);
    LBF_CHECK(z == 0 || memcmp(back, u, z * sizeof(uint16_t)) == 0);
    free(back);
    free(s);
    free(u);
}

static void utf8_to_units(const uint8_t *data, size_t size)
{
    char *s = lbf_strndup(data, size);
    size_t len = strlen(s);
    size_t n = (size_t)-1;
    uint16_t *u = lb_utf8_to_utf16(s, &n);
    int valid = lbf_utf8_valid((const unsigned char *)s, len);
    if (lbf_verbose())
        fprintf(stderr, "utf8->utf16: %zu bytes -> %s\n", len, u ? "ok" : "refused");
    if (u == NULL) {
        LBF_CHECK(!valid);
        free(s);
        return;
    }
    LBF_CHECK(valid);
    LBF_CHECK(n <= len && u[n] == 0);
    LBF_CHECK(lb_utf16_len(u, n + 1) == n);

    size_t blen = (size_t)-1;
    int bad = -1;
    char *back = lb_utf16_to_utf8(u, n, &blen, &bad);
    LBF_CHECK(back != NULL && bad == 0);
    LBF_CHECK(blen == len && memcmp(back, s, len) == 0 && back[len] == '\0');
    free(back);
    free(u);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    units_to_utf8(data, size);
    utf8_to_units(data, size);
    return 0;
}
