
/*
 * What the fuzz targets share: invariants that abort (libFuzzer keeps the
 * input that broke one), the check of a client error, exact copies for
 * ASan, and a comparison of two cJSON trees in document order.
 */


#ifndef _FUZZ_H_INCLUDED_
#define _FUZZ_H_INCLUDED_


#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "ngx_autoscale_route.h"
#include "err_seed.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define fuzz_assert(cond)                                                     \
    ((cond) ? (void) 0 : fuzz_fail(#cond, __FILE__, __LINE__))


static inline void
fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}


/* a copy with no terminating NUL, so ASan sees any overread */
static inline char *
fuzz_exact(const void *s, size_t len)
{
    char  *p;

    p = malloc(len ? len : 1);
    fuzz_assert(p != NULL);
    if (len) {
        memcpy(p, s, len);
    }

    return p;
}


/* the same copy, NUL-terminated */
static inline char *
fuzz_string(const void *s, size_t len)
{
    char  *p;

    p = malloc(len + 1);
    fuzz_assert(p != NULL);
    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


/* a refusal is set whole: one of the statuses, a code and a sentence */
static inline void
fuzz_assert_err(const ngx_autoscale_err_t *err, int s1, int s2, int s3)
{
    fuzz_assert(err->status == s1 || err->status == s2
                || err->status == s3);
    fuzz_assert(err->code != NULL && err->code[0] != '\0');
    fuzz_assert(strcmp(err->code, "untouched") != 0);
    fuzz_assert(memchr(err->text, '\0', sizeof(err->text)) != NULL);
    fuzz_assert(err->text[0] != '\0');
}


/* what fuzz_same() lets differ */
#define FUZZ_NONFINITE_NULL  1    /* a's infinity is b's null */
#define FUZZ_CJSON_DIGITS    2    /* b is a as cJSON prints it */


/* a and b hold the same values in the same order (their own names aside) */
static inline int
fuzz_same(const cJSON *a, const cJSON *b, int flags)
{
    double  x, y;

    if (cJSON_IsNumber(a) && !isfinite(a->valuedouble)
        && (flags & FUZZ_NONFINITE_NULL))
    {
        return cJSON_IsNull(b);
    }

    if ((a->type & 0xff) != (b->type & 0xff)) {
        return 0;
    }

    if (cJSON_IsNumber(a)) {
        x = a->valuedouble;
        y = b->valuedouble;

        /*
         * cJSON prints 15 digits when they read back within its epsilon;
         * those of a number near DBL_MAX read back as an infinity
         */
        return x == y
               || ((flags & FUZZ_CJSON_DIGITS)
                   && (fabs(x - y) <= fabs(x) * 4 * 2.2204460492503131e-16
                       || (isinf(y) && fabs(x) > 1.7976931348623e308)));
    }

    if (cJSON_IsString(a) || cJSON_IsRaw(a)) {
        return strcmp(a->valuestring, b->valuestring) == 0;
    }

    /* the members of an object by name, those of an array by place */
    for (a = a->child, b = b->child; a && b; a = a->next, b = b->next) {
        if ((a->string == NULL) != (b->string == NULL)
            || (a->string && strcmp(a->string, b->string) != 0)
            || !fuzz_same(a, b, flags))
        {
            return 0;
        }
    }

    return a == NULL && b == NULL;
}


#endif /* _FUZZ_H_INCLUDED_ */
