
/*
 * What the unit tests share: copies of inputs that ASan watches, a
 * printer of cJSON documents, the checks of a client error, checks that
 * name a table's failing case, and an allocator for cJSON that fails on
 * demand.  Included after <cmocka.h>.
 */


#ifndef _UNIT_H_INCLUDED_
#define _UNIT_H_INCLUDED_


#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "ngx_autoscale_route.h"
#include "err_seed.h"


/* a copy with no terminating NUL, so ASan sees any overread */
static inline char *
exact(const char *s, size_t len)
{
    char  *p;

    p = malloc(len ? len : 1);
    assert_non_null(p);
    memcpy(p, s, len);

    return p;
}


/* prints doc, frees it, returns the text to free */
static inline char *
print_and_free(cJSON *doc)
{
    char  *s;

    assert_non_null(doc);
    s = cJSON_PrintUnformatted(doc);
    assert_non_null(s);
    cJSON_Delete(doc);

    return s;
}


/* valid(s, len) on an exact copy, so ASan sees any overread */
static inline void
expect_valid(int (*valid)(const char *s, size_t len), const char *name,
    const char *s, size_t len, int want)
{
    int    rc;
    char  *buf;

    buf = exact(s, len);
    rc = valid(buf, len);
    free(buf);

    if (rc != want) {
        print_error("%s(\"%.*s\") is %d\n", name, (int) len, s, rc);
    }

    assert_int_equal(rc, want);
}


static inline char *
repeat(const char *unit, size_t times)
{
    char    *p;
    size_t   i, n;

    n = strlen(unit);
    p = malloc(n * times + 1);
    assert_non_null(p);

    for (i = 0; i < times; i++) {
        memcpy(p + i * n, unit, n);
    }

    p[n * times] = '\0';

    return p;
}


#define n_cases(cases)  (sizeof(cases) / sizeof((cases)[0]))


/*
 * The checks of a table's loop: cmocka names only the line of the loop,
 * so a failure first says which case of the table broke (none if NULL).
 */

#define assert_case_int(name, a, b)                                           \
    unit_case_int(name, (LargestIntegralType) (a),                            \
                  (LargestIntegralType) (b), __FILE__, __LINE__)

#define assert_case_string(name, a, b)                                        \
    unit_case_string(name, a, b, __FILE__, __LINE__)

#define assert_err(err, status, code, text)                                   \
    assert_case_err(NULL, err, status, code, text)

#define assert_err_untouched(err)                                             \
    assert_case_err_untouched(NULL, err)


static inline void
unit_case_int(const char *name, LargestIntegralType a, LargestIntegralType b,
    const char *file, int line)
{
    if (a != b && name) {
        print_error("case %s:\n", name);
    }

    _assert_int_equal(a, b, file, line);
}


static inline void
unit_case_string(const char *name, const char *a, const char *b,
    const char *file, int line)
{
    if ((a == NULL || b == NULL || strcmp(a, b) != 0) && name) {
        print_error("case %s:\n", name);
    }

    _assert_string_equal(a, b, file, line);
}


static inline void
assert_case_err(const char *name, const ngx_autoscale_err_t *err, int status,
    const char *code, const char *text)
{
    assert_case_int(name, err->status, status);
    assert_case_int(name, err->code != NULL, 1);
    assert_case_string(name, err->code, code);
    assert_case_string(name, err->text, text);
}


static inline void
assert_case_err_untouched(const char *name, const ngx_autoscale_err_t *err)
{
    assert_case_int(name, err->status, -7);
    assert_case_string(name, err->code, "untouched");
    assert_case_string(name, err->text, "");
}


/* out of memory: cJSON's allocations fail from the n-th on */

static size_t  alloc_left;
static size_t  alloc_failed;


static inline void *
failing_malloc(size_t size)
{
    if (alloc_left == 0) {
        alloc_failed++;
        return NULL;
    }

    alloc_left--;

    return malloc(size);
}


static inline void
set_alloc_limit(size_t n)
{
    cJSON_Hooks  hooks;

    alloc_left = n;
    alloc_failed = 0;
    hooks.malloc_fn = failing_malloc;
    hooks.free_fn = free;
    cJSON_InitHooks(&hooks);
}


static inline void
reset_alloc(void)
{
    cJSON_InitHooks(NULL);
}


#endif /* _UNIT_H_INCLUDED_ */
