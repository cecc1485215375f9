/* fuzz_connstr: lb_connstr_parse on the raw input. On success:
 *   - formatting every pair with lb_connstr_append (plain, then with force_braces) and
 *     parsing the result gives back exactly the same keys and values, in order;
 *   - lb_build_output_connstr gives exactly the non-secret pairs (re-parsed), and it does
 *     not depend on the secret values at all: replacing every secret value with a marker
 *     gives the same output, which never contains the marker.
 * On failure the list is empty and the error record is well formed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lb_buf.h"
#include "lb_connect.h"
#include "lb_connstr.h"
#include "lb_settings.h"

/* Printable so that it never changes whether a value needs braces. */
#define MARKER "LbFuzzSecretMarker7f3a"

static void check_same(const lb_kvlist *a, const lb_kvlist *b)
{
    LBF_CHECK(a->count == b->count);
    for (size_t i = 0; i < a->count; i++) {
        LBF_CHECK(strcmp(a->items[i].key, b->items[i].key) == 0);
        LBF_CHECK(strcmp(a->items[i].value, b->items[i].value) == 0);
    }
}

/* Parses text (which must fit the length limit) and checks it gives back want. */
static void check_reparse(const char *text, size_t len, const lb_kvlist *want)
{
    if (len > LB_CONNSTR_MAX)
        return; /* escaping can grow a near-limit string past the limit */
    lb_kvlist again;
    lb_error err;
    lb_error_init(&err);
    lb_result rc = lb_connstr_parse(text, len, &again, &err);
    if (rc != LB_OK)
        fprintf(stderr, "re-parse of \"%s\" failed: %s\n", text, err.message);
    LBF_CHECK(rc == LB_OK);
    check_same(&again, want);
    lb_kvlist_free(&again);
}

static void round_trip(const lb_kvlist *list, int force_braces)
{
    lb_buf b;
    lb_buf_init(&b, 0);
    for (size_t i = 0; i < list->count; i++)
        LBF_CHECK(lb_connstr_append(&b, list->items[i].key, list->items[i].value, force_braces) == 0);
    check_reparse(b.data ? b.data : "", b.len, list);
    lb_buf_free(&b);
}

static void check_output_connstr(const lb_kvlist *list, const uint8_t *data, size_t size)
{
    char *out = lb_build_output_connstr(list);
    LBF_CHECK(out != NULL);

    /* Exactly the non-secret pairs, in order. */
    lb_kvlist want, masked;
    lb_kvlist_init(&want);
    lb_kvlist_init(&masked);
    int secrets = 0;
    for (size_t i = 0; i < list->count; i++) {
        const lb_kv *kv = &list->items[i];
        if (lb_key_is_secret(kv->key)) {
            secrets++;
            LBF_CHECK(lb_kvlist_add(&masked, kv->key, MARKER) == 0);
        } else {
            LBF_CHECK(lb_kvlist_add(&want, kv->key, kv->value) == 0);
            LBF_CHECK(lb_kvlist_add(&masked, kv->key, kv->value) == 0);
        }
    }
    check_reparse(out, strlen(out), &want);

    /* No secret key survives, and the secret values have no influence on the output. */
    if (secrets) {
        char *out2 = lb_build_output_connstr(&masked);
        LBF_CHECK(out2 != NULL);
        LBF_CHECK(strcmp(out, out2) == 0);
        if (memmem(data, size, MARKER, strlen(MARKER)) == NULL)
            LBF_CHECK(strstr(out2, MARKER) == NULL);
        free(out2);
    }
    free(out);
    lb_kvlist_free(&want);
    lb_kvlist_free(&masked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lb_kvlist list;
    lb_error err;
    lb_error_init(&err);
    lb_result rc = lb_connstr_parse((const char *)data, size, &list, &err);
    if (lbf_verbose())
        fprintf(stderr, "connstr: %s\n", rc == LB_OK ? "parsed" : err.message);
    if (rc != LB_OK) {
        LBF_CHECK(list.count == 0 && list.items == NULL);
        lbf_check_error(&err);
        if (lbf_strict_utf8() && lbf_utf8_valid(data, size))
            LBF_CHECK(lbf_utf8_valid((const unsigned char *)err.message, strlen(err.message)));
        return 0;
    }
    LBF_CHECK(!lb_error_isset(&err));
    for (size_t i = 0; i < list.count; i++) {
        const char *k = list.items[i].key;
        if (lbf_verbose())
            fprintf(stderr, "  [%s] = [%s]\n", k, list.items[i].value);
        LBF_CHECK(k[0] != '\0');
        /* Keys come back trimmed; a lookup by the key itself finds a pair with that key. */
        LBF_CHECK(k[0] != ' ' && k[strlen(k) - 1] != ' ');
        LBF_CHECK(lb_kvlist_get(&list, k) != NULL);
    }
    round_trip(&list, 0);
    round_trip(&list, 1);
    check_output_connstr(&list, data, size);
    lb_kvlist_free(&list);
    return 0;
}
