/*
 * Unit tests of src/ngx_autoscale_json.c: rows to JSON, errors, RFC 3339.
 */

#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_autoscale_json.h"


#define T_TEXT   NGX_AUTOSCALE_COL_TEXT
#define T_INT    NGX_AUTOSCALE_COL_INT
#define T_FLOAT  NGX_AUTOSCALE_COL_FLOAT
#define T_BOOL   NGX_AUTOSCALE_COL_BOOL
#define T_TIME   NGX_AUTOSCALE_COL_TIME
#define T_JSON   NGX_AUTOSCALE_COL_JSON


/* doc printed into got and freed, so that a failing check leaks nothing */
static void
doc_text(cJSON *doc, char *got, size_t size)
{
    char  *s;

    s = print_and_free(doc);
    snprintf(got, size, "%s", s);
    free(s);
}


static void
expect_doc(cJSON *doc, const char *expected)
{
    char  got[1024];

    doc_text(doc, got, sizeof(got));
    assert_string_equal(got, expected);
}


/* a column "v" of type holding value, and the JSON it gives */
typedef struct {
    ngx_autoscale_col_type_e   type;
    const char                *value;
    const char                *expected;
} col_case_t;


static void
expect_col(ngx_autoscale_col_type_e type, const char *value,
    const char *expected)
{
    char                 buf[512], got[1024];
    const char          *values[1];
    ngx_autoscale_col_t  cols[1];

    cols[0].name = "v";
    cols[0].type = type;
    values[0] = value;

    snprintf(buf, sizeof(buf), "{\"v\":%s}", expected);
    doc_text(ngx_autoscale_json_row(cols, 1, values), got, sizeof(got));
    assert_case_string(value ? value : "(NULL)", got, buf);
}


static void
expect_cols(const col_case_t *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        expect_col(cases[i].type, cases[i].value, cases[i].expected);
    }
}


static void
test_row_empty(void **state)
{
    const char  *values[1] = { "unused" };

    (void) state;

    expect_doc(ngx_autoscale_json_row(NULL, 0, values), "{}");
}


static void
test_row_text(void **state)
{
    static const col_case_t  cases[] = {
        { T_TEXT, "hello", "\"hello\"" },
        { T_TEXT, "", "\"\"" },
        { T_TEXT, "42", "\"42\"" },
        { T_TEXT, "null", "\"null\"" },
        { T_TEXT, "{\"a\":1}", "\"{\\\"a\\\":1}\"" },
        { T_TEXT, "a\"b\\c\n\t\x01/", "\"a\\\"b\\\\c\\n\\t\\u0001/\"" },
        { T_TEXT, "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
        { T_TEXT, NULL, "null" }
    };

    (void) state;

    expect_cols(cases, n_cases(cases));
}


static void
test_row_int(void **state)
{
    static const col_case_t  cases[] = {
        { T_INT, "0", "0" },
        { T_INT, "42", "42" },
        { T_INT, "-7", "-7" },
        { T_INT, "2147483647", "2147483647" },
        { T_INT, "2147483648", "2147483648" },
        { T_INT, "-2147483649", "-2147483649" },
        { T_INT, "123456789012345", "123456789012345" },
        /* bigints past 2^53 stay exact */
        { T_INT, "9007199254740993", "9007199254740993" },
        { T_INT, "-9223372036854775808", "-9223372036854775808" },
        { T_INT, "9999999999999999999", "9999999999999999999" },
        { T_INT, "-0", "-0" },
        { T_INT, "-1", "-1" },

        /* 20 digits, leading zeros, signs, spaces */
        { T_INT, "10000000000000000000", "null" },
        { T_INT, "-10000000000000000000", "null" },
        { T_INT, "007", "null" },
        { T_INT, "00", "null" },
        { T_INT, "-01", "null" },
        { T_INT, "+5", "null" },
        { T_INT, " 5", "null" },
        { T_INT, "--5", "null" },
        { T_INT, "5-", "null" },
        { T_INT, "1.0", "null" },
        { T_INT, "1e3", "null" },
        { T_INT, "0x10", "null" },

        /* not a number: null, never a string */
        { T_INT, "", "null" },
        { T_INT, "abc", "null" },
        { T_INT, "12abc", "null" },
        { T_INT, "12 ", "null" },
        { T_INT, "-", "null" },
        { T_INT, "NaN", "null" },
        { T_INT, NULL, "null" }
    };

    (void) state;

    expect_cols(cases, n_cases(cases));
}


static void
test_row_float(void **state)
{
    static const col_case_t  cases[] = {
        /* PostgreSQL's text, kept as it is */
        { T_FLOAT, "0.5", "0.5" },
        { T_FLOAT, "0.1", "0.1" },
        { T_FLOAT, "-1.25", "-1.25" },
        { T_FLOAT, "100", "100" },
        { T_FLOAT, "0", "0" },
        { T_FLOAT, "-0", "-0" },
        { T_FLOAT, "1e3", "1e3" },
        { T_FLOAT, "1e+20", "1e+20" },
        { T_FLOAT, "1E-05", "1E-05" },
        { T_FLOAT, "1.5e-7", "1.5e-7" },
        { T_FLOAT, "123456789.125", "123456789.125" },
        { T_FLOAT, "0.30000000000000004", "0.30000000000000004" },
        { T_FLOAT, "1.7976931348623157e+308",
          "1.7976931348623157e+308" },
        { T_FLOAT, "5e-324", "5e-324" },
        { T_FLOAT, "12345678901234567890123",
          "12345678901234567890123" },

        /* grammatical, so raw, though no float8 prints it */
        { T_FLOAT, "1e-400", "1e-400" },
        { T_FLOAT, "1e400", "1e400" },
        { T_FLOAT, "-1e400", "-1e400" },

        /* no JSON form */
        { T_FLOAT, "NaN", "null" },
        { T_FLOAT, "nan", "null" },
        { T_FLOAT, "-NaN", "null" },
        { T_FLOAT, "Infinity", "null" },
        { T_FLOAT, "-Infinity", "null" },
        { T_FLOAT, "inf", "null" },
        { T_FLOAT, "-inf", "null" },

        /* outside the JSON number grammar */
        { T_FLOAT, "", "null" },
        { T_FLOAT, "-", "null" },
        { T_FLOAT, "+1", "null" },
        { T_FLOAT, "01", "null" },
        { T_FLOAT, "-01.5", "null" },
        { T_FLOAT, "00", "null" },
        { T_FLOAT, ".5", "null" },
        { T_FLOAT, "-.5", "null" },
        { T_FLOAT, "1.", "null" },
        { T_FLOAT, "1.e3", "null" },
        { T_FLOAT, "1e", "null" },
        { T_FLOAT, "1e+", "null" },
        { T_FLOAT, "1e-", "null" },
        { T_FLOAT, "1e++3", "null" },
        { T_FLOAT, "1e3.5", "null" },
        { T_FLOAT, "1.5.5", "null" },
        { T_FLOAT, "e3", "null" },
        { T_FLOAT, "0x10", "null" },
        { T_FLOAT, " 1", "null" },
        { T_FLOAT, "1 ", "null" },
        { T_FLOAT, "0.5x", "null" },
        { T_FLOAT, "1,5", "null" },
        { T_FLOAT, ".", "null" },
        { T_FLOAT, "--1", "null" },
        { T_FLOAT, NULL, "null" },

        /* raw text must not break out of the document */
        { T_FLOAT, "1,\"x\":2", "null" },
        { T_FLOAT, "1}", "null" },
        { T_INT, "1,\"x\":2", "null" },
        { T_INT, "1]", "null" }
    };

    (void) state;

    expect_cols(cases, n_cases(cases));
}


/* a column "v" of type holding value */
typedef struct {
    ngx_autoscale_col_type_e   type;
    const char                *value;
} item_case_t;


/* the row of that one column, and its item "v" */
static cJSON *
col_item(const item_case_t *c, cJSON **item)
{
    cJSON                *doc;
    const char           *values[1];
    ngx_autoscale_col_t   cols[1];

    cols[0].name = "v";
    cols[0].type = c->type;
    values[0] = c->value;

    doc = ngx_autoscale_json_row(cols, 1, values);
    assert_non_null(doc);
    *item = cJSON_GetObjectItemCaseSensitive(doc, "v");

    return doc;
}


/* a real JSON null, not a number cJSON happens to print as null */
static void
expect_null_items(const item_case_t *cases, size_t n)
{
    size_t   i;
    cJSON   *doc, *item;

    for (i = 0; i < n; i++) {
        doc = col_item(&cases[i], &item);
        assert_non_null(item);
        assert_case_int(cases[i].value ? cases[i].value : "(NULL)",
                        cJSON_IsNull(item), 1);
        cJSON_Delete(doc);
    }
}


static void
test_row_nonfinite_type(void **state)
{
    static const item_case_t  cases[] = {
        { T_FLOAT, "NaN" },
        { T_FLOAT, "-NaN" },
        { T_FLOAT, "Infinity" },
        { T_FLOAT, "-Infinity" },
        { T_INT, "NaN" },
        { T_INT, "Infinity" },
        { T_FLOAT, NULL },
        { T_JSON, "{" },
        { T_TIME, "infinity" }
    };

    (void) state;

    expect_null_items(cases, n_cases(cases));
}


/* numbers are raw items, printed as given */
static void
expect_raw_items(const item_case_t *cases, size_t n)
{
    int      raw;
    char     text[64];
    size_t   i;
    cJSON   *doc, *item;

    for (i = 0; i < n; i++) {
        doc = col_item(&cases[i], &item);
        raw = cJSON_IsRaw(item);
        snprintf(text, sizeof(text), "%s", raw ? item->valuestring : "");
        cJSON_Delete(doc);

        assert_case_int(cases[i].value, raw, 1);
        assert_case_string(cases[i].value, text, cases[i].value);
    }
}


static void
test_row_raw_type(void **state)
{
    static const item_case_t  cases[] = {
        { T_FLOAT, "1e400" },
        { T_FLOAT, "1e3" },
        { T_FLOAT, "0.1" },
        { T_INT, "9007199254740993" },
        { T_INT, "0" }
    };

    (void) state;

    expect_raw_items(cases, n_cases(cases));
}


static void
test_row_bool(void **state)
{
    static const col_case_t  cases[] = {
        { T_BOOL, "t", "true" },
        { T_BOOL, "f", "false" },
        { T_BOOL, NULL, "null" }
    };

    (void) state;

    expect_cols(cases, n_cases(cases));
}


static void
test_row_time(void **state)
{
    static const col_case_t  cases[] = {
        { T_TIME, "2026-02-18 21:50:00.123456",
          "\"2026-02-18T21:50:00.123456Z\"" },
        { T_TIME, "2026-02-18 21:50:00", "\"2026-02-18T21:50:00Z\"" },
        { T_TIME, "1999-12-31 23:59:59.5",
          "\"1999-12-31T23:59:59.5Z\"" },

        /* 46 bytes fit the 48-byte buffer with 'Z' and NUL, 47 do not */
        { T_TIME, "2026-02-18 21:50:00.12345678901234567890123456",
          "\"2026-02-18T21:50:00.12345678901234567890123456Z\"" },
        { T_TIME, "2026-02-18 21:50:00.123456789012345678901234567",
          "null" },

        /* the session zone is UTC: "+00" is "Z", even past 46 bytes */
        { T_TIME, "2026-02-18 21:50:00+00", "\"2026-02-18T21:50:00Z\"" },
        { T_TIME, "2026-02-18 21:50:00.5+00",
          "\"2026-02-18T21:50:00.5Z\"" },
        { T_TIME, "2026-02-18 21:50:00.12345678901234567890123456+00",
          "\"2026-02-18T21:50:00.12345678901234567890123456Z\"" },
        { T_TIME, "2026-02-18 21:50:00.123456789012345678901234567+00",
          "null" },
        { T_TIME, "2026-02-18 21:50:00+05", "null" },
        { T_TIME, "2026-02-18 21:50:00+00:00", "null" },

        /* what PostgreSQL prints that RFC 3339 cannot hold */
        { T_TIME, "infinity", "null" },
        { T_TIME, "-infinity", "null" },
        { T_TIME, "0044-03-15 12:00:00 BC", "null" },
        { T_TIME, "10000-01-01 00:00:00", "null" },
        { T_TIME, "0044-03-15 12:00:00+00 BC", "null" },

        { T_TIME, "", "null" },
        { T_TIME, "garbage", "null" },
        { T_TIME, NULL, "null" }
    };

    (void) state;

    expect_cols(cases, n_cases(cases));
}


static void
test_row_json(void **state)
{
    static const col_case_t  cases[] = {
        { T_JSON, "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}",
          "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}" },
        { T_JSON, "{ \"a\" : [ 1 , true ] }", "{\"a\":[1,true]}" },
        { T_JSON, "[]", "[]" },
        { T_JSON, "{}", "{}" },
        { T_JSON, "\"s\"", "\"s\"" },
        { T_JSON, "3.5", "3.5" },
        { T_JSON, "true", "true" },
        { T_JSON, "false", "false" },
        { T_JSON, "null", "null" },
        { T_JSON, "[\"caf\\u00e9\"]", "[\"caf\xc3\xa9\"]" },

        /* invalid json is dropped */
        { T_JSON, "", "null" },
        { T_JSON, "{", "null" },
        { T_JSON, "{\"a\":}", "null" },
        { T_JSON, "[1,", "null" },
        { T_JSON, "'a'", "null" },
        { T_JSON, "undefined", "null" },
        { T_JSON, NULL, "null" }
    };

    (void) state;

    expect_cols(cases, n_cases(cases));
}


/* a whole row, in column order */
static void
test_row_mixed(void **state)
{
    const char  *values[] = {
        "c-1", "3", "0.75", "t", "2026-02-18 21:50:00.5",
        "{\"k\":[\"v\"]}", NULL, NULL, "f", "NaN", "bad", "{"
    };

    const ngx_autoscale_col_t  cols[] = {
        { "id", T_TEXT }, { "workers", T_INT }, { "load", T_FLOAT },
        { "paused", T_BOOL }, { "created_at", T_TIME }, { "tags", T_JSON },
        { "description", T_TEXT }, { "destroyed_at", T_TIME },
        { "on", T_BOOL }, { "health", T_FLOAT }, { "at", T_TIME },
        { "config", T_JSON }
    };

    (void) state;

    expect_doc(ngx_autoscale_json_row(cols, 12, values),
               "{\"id\":\"c-1\",\"workers\":3,\"load\":0.75,\"paused\":true,"
               "\"created_at\":\"2026-02-18T21:50:00.5Z\","
               "\"tags\":{\"k\":[\"v\"]},\"description\":null,"
               "\"destroyed_at\":null,\"on\":false,\"health\":null,"
               "\"at\":null,\"config\":null}");

    /* n limits the columns */
    expect_doc(ngx_autoscale_json_row(cols, 2, values),
               "{\"id\":\"c-1\",\"workers\":3}");
}


static void
test_error(void **state)
{
    (void) state;

    expect_doc(ngx_autoscale_json_error(404, "NotFound", "no such API path"),
               "{\"error\":{\"status\":404,\"code\":\"NotFound\","
               "\"text\":\"no such API path\"}}");

    expect_doc(ngx_autoscale_json_error(400, "InvalidQuery",
                                        "query parameter 'page' is given "
                                        "twice"),
               "{\"error\":{\"status\":400,\"code\":\"InvalidQuery\","
               "\"text\":\"query parameter 'page' is given twice\"}}");

    expect_doc(ngx_autoscale_json_error(503, "Unavailable", ""),
               "{\"error\":{\"status\":503,\"code\":\"Unavailable\","
               "\"text\":\"\"}}");

    /* text is escaped */
    expect_doc(ngx_autoscale_json_error(500, "X", "a\"b\\c\nd</e>"),
               "{\"error\":{\"status\":500,\"code\":\"X\","
               "\"text\":\"a\\\"b\\\\c\\nd</e>\"}}");

    /* no text or no code: nothing, and nothing leaked */
    assert_null(ngx_autoscale_json_error(500, "X", NULL));
    assert_null(ngx_autoscale_json_error(500, NULL, "t"));
}


static void
test_row_oom(void **state)
{
    char        *s;
    size_t       n;
    cJSON       *doc;
    const char  *values[] = {
        "c-1", "3", "t", "2026-02-18 21:50:00", "{\"a\":[1,{\"b\":2}]}", NULL
    };

    const ngx_autoscale_col_t  cols[] = {
        { "id", T_TEXT }, { "n", T_INT }, { "p", T_BOOL },
        { "at", T_TIME }, { "tags", T_JSON }, { "x", T_TEXT }
    };

    (void) state;

    for (n = 0; n < 100; n++) {
        set_alloc_limit(n);
        doc = ngx_autoscale_json_row(cols, 6, values);
        reset_alloc();

        if (doc == NULL) {
            assert_true(alloc_failed > 0);
            continue;
        }

        /* enough memory: the full row, nothing dropped */
        s = print_and_free(doc);
        assert_string_equal(s, "{\"id\":\"c-1\",\"n\":3,\"p\":true,"
                               "\"at\":\"2026-02-18T21:50:00Z\","
                               "\"tags\":{\"a\":[1,{\"b\":2}]},\"x\":null}");
        free(s);
        assert_int_equal(alloc_failed, 0);
        break;
    }

    assert_true(n > 5 && n < 100);
}


static void
test_error_oom(void **state)
{
    size_t   n;
    cJSON   *doc;

    (void) state;

    for (n = 0; n < 100; n++) {
        set_alloc_limit(n);
        doc = ngx_autoscale_json_error(502, "BadGateway", "upstream");
        reset_alloc();

        if (doc == NULL) {
            assert_true(alloc_failed > 0);
            continue;
        }

        expect_doc(doc, "{\"error\":{\"status\":502,\"code\":\"BadGateway\","
                        "\"text\":\"upstream\"}}");
        break;
    }

    assert_true(n > 3 && n < 100);
}


/* PostgreSQL's text of a time, and the RFC 3339 it gives */
typedef struct {
    const char  *pg;
    const char  *expected;
} rfc3339_case_t;


static void
expect_rfc3339(const rfc3339_case_t *cases, size_t n)
{
    int      rc;
    char    *out;
    size_t   i, size;

    for (i = 0; i < n; i++) {
        /* exactly large enough, so ASan sees an overflow */
        size = strlen(cases[i].expected) + 1;
        out = malloc(size);
        assert_non_null(out);

        rc = ngx_autoscale_json_rfc3339(cases[i].pg, out, size);
        assert_case_int(cases[i].pg, rc, 0);
        assert_case_string(cases[i].pg, out, cases[i].expected);

        free(out);
    }
}


static void
expect_rfc3339_fail_size(const char *pg, size_t size)
{
    char    out[128];
    size_t  i;

    memset(out, '#', sizeof(out));

    assert_case_int(pg, ngx_autoscale_json_rfc3339(pg, out, size), -1);

    /* nothing written */
    for (i = 0; i < sizeof(out); i++) {
        assert_case_int(pg, out[i], '#');
    }
}


static void
expect_rfc3339_fails(const char *const *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        expect_rfc3339_fail_size(cases[i], 64);
    }
}


static void
test_rfc3339(void **state)
{
    static const rfc3339_case_t  cases[] = {
        { "2026-02-18 21:50:00.123456",
          "2026-02-18T21:50:00.123456Z" },
        { "2026-02-18 21:50:00", "2026-02-18T21:50:00Z" },
        { "2026-02-18 21:50:00.1", "2026-02-18T21:50:00.1Z" },
        { "0001-01-01 00:00:00", "0001-01-01T00:00:00Z" },
        { "9999-12-31 23:59:59.999999",
          "9999-12-31T23:59:59.999999Z" },

        /* UTC's "+00" */
        { "2026-02-18 21:50:00+00", "2026-02-18T21:50:00Z" },
        { "2026-02-18 21:50:00.5+00", "2026-02-18T21:50:00.5Z" },
        { "2026-02-18 21:50:00.123456+00",
          "2026-02-18T21:50:00.123456Z" }
    };

    (void) state;

    expect_rfc3339(cases, n_cases(cases));
}


static void
test_rfc3339_size(void **state)
{
    char    out[32];
    size_t  i;

    /* the size each needs, its 'Z' and NUL counted, and one short of it */
    static const struct {
        const char  *pg;
        size_t       size;
        const char  *expected;
    } cases[] = {
        { "2026-02-18 21:50:00", 21, "2026-02-18T21:50:00Z" },
        { "2026-02-18 21:50:00.123456", 28, "2026-02-18T21:50:00.123456Z" },
        /* "+00" is dropped before the size is counted */
        { "2026-02-18 21:50:00+00", 21, "2026-02-18T21:50:00Z" }
    };

    (void) state;

    for (i = 0; i < n_cases(cases); i++) {
        memset(out, '#', sizeof(out));
        assert_case_int(cases[i].pg,
                        ngx_autoscale_json_rfc3339(cases[i].pg, out,
                                                   cases[i].size),
                        0);
        assert_case_string(cases[i].pg, out, cases[i].expected);
        assert_case_int(cases[i].pg, out[cases[i].size], '#');

        expect_rfc3339_fail_size(cases[i].pg, cases[i].size - 1);
    }

    /* and well short of it */
    expect_rfc3339_fail_size("2026-02-18 21:50:00", 19);
    expect_rfc3339_fail_size("2026-02-18 21:50:00", 1);
    expect_rfc3339_fail_size("2026-02-18 21:50:00", 0);
}


static void
test_rfc3339_malformed(void **state)
{
    static const char *const  cases[] = {
        "",
        "2026-02-18",
        "2026-02-18 21:50",
        "2026-02-18 21:50:0",
        "infinity",
        "-infinity",

        /* each separator */
        "2026-02-18T21:50:00",
        "2026-02-18_21:50:00",
        "2026/02-18 21:50:00",
        "2026-02/18 21:50:00",
        "2026-02-18 21-50:00",
        "2026-02-18 21:50-00",
        "2026-02-18 21:50:00,5",
        "2026-02-18 21:50:00Z",
        "2026-02-18 21:50:00 ",
        "2026-02-18 21:50:00 BC",

        /* a zone other than UTC's own "+00" */
        "2026-02-18 21:50:00+01",
        "2026-02-18 21:50:00-00",
        "2026-02-18 21:50:00+00:00",
        "2026-02-18 21:50:00+05:30",
        "2026-02-18 21:50:00+0",
        "2026-02-18 21:50:00+000",
        "2026-02-18 21:50:00 +00",
        "2026-02-18 21:50:00+00+00",
        "2026-02-18 21:50:00+00 BC",
        "2026-02-18 21:50:00.+00",
        "2026-02-18 21:50+00",
        "2026-02-18+00",
        "+00",

        /* a non-digit in each field */
        "a026-02-18 21:50:00",
        "202a-02-18 21:50:00",
        "2026-a2-18 21:50:00",
        "2026-02-1a 21:50:00",
        "2026-02-18 a1:50:00",
        "2026-02-18 21:5a:00",
        "2026-02-18 21:50:0a",
        "2026-02-18 21:50:00.12a",
        "2026-02-18 21:50:00.1.2",
        "2026-02-18 21:50:00.-1",
        " 2026-02-18 21:50:00",
        "-2026-02-18 21:50:00",
        "20260-02-18 21:50:00",
        "2026-2-18 21:50:00.0",
        "2026-02-18  21:50:00"
    };

    (void) state;

    expect_rfc3339_fails(cases, n_cases(cases));
}


/* "…:00." has an empty fraction, not valid RFC 3339 */
static void
test_rfc3339_empty_fraction(void **state)
{
    (void) state;

    expect_rfc3339_fail_size("2026-02-18 21:50:00.", 64);
    expect_col(T_TIME, "2026-02-18 21:50:00.", "null");
}


/* cJSON_Parse stops after the first value and ignores what follows */
static void
test_row_json_trailing(void **state)
{
    static const col_case_t  cases[] = {
        { T_JSON, "{\"a\":1}x", "null" },
        { T_JSON, "[1,2] [3]", "null" },
        { T_JSON, "1 2", "null" },
        { T_JSON, "true,", "null" }
    };

    (void) state;

    expect_cols(cases, n_cases(cases));
}


/*
 * Numbers of a json column read back as they were: cJSON alone prints 15
 * digits when they read back within an epsilon, and DBL_MAX as a number
 * past it (found by fuzz/fuzz_json.c).
 */
static void
test_row_json_exact(void **state)
{
    static const col_case_t  cases[] = {
        { T_JSON, "0.30000000000000004", "0.30000000000000004" },
        { T_JSON, "{\"x\":1.0000000000000002}",
          "{\"x\":1.0000000000000002}" },
        { T_JSON, "[3333333333333981083066]",
          "[3.333333333333981e+21]" },
        { T_JSON, "{\"a\":[{\"b\":1.7976931348623157e308}]}",
          "{\"a\":[{\"b\":1.7976931348623157e+308}]}" },

        /* what cJSON printed exactly stays as it was */
        { T_JSON, "[0,-0,1,-12,0.1,1e-7,1e20,5e-324,123456789012]",
          "[0,-0,1,-12,0.1,1e-07,1e+20,5e-324,123456789012]" },
        { T_JSON, "[1e999,-1e999]", "[null,null]" }
    };

    (void) state;

    expect_cols(cases, n_cases(cases));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_row_empty),
        cmocka_unit_test(test_row_text),
        cmocka_unit_test(test_row_int),
        cmocka_unit_test(test_row_float),
        cmocka_unit_test(test_row_nonfinite_type),
        cmocka_unit_test(test_row_raw_type),
        cmocka_unit_test(test_row_bool),
        cmocka_unit_test(test_row_time),
        cmocka_unit_test(test_row_json),
        cmocka_unit_test(test_row_mixed),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_row_oom),
        cmocka_unit_test(test_error_oom),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_rfc3339_size),
        cmocka_unit_test(test_rfc3339_malformed),
        cmocka_unit_test(test_rfc3339_empty_fraction),
        cmocka_unit_test(test_row_json_trailing),
        cmocka_unit_test(test_row_json_exact),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
