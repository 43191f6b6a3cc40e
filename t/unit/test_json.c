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


/* prints doc, frees it, returns the text to free */
static char *
print_and_free(cJSON *doc)
{
    char  *s;

    assert_non_null(doc);
    s = cJSON_PrintUnformatted(doc);
    assert_non_null(s);
    cJSON_Delete(doc);

    return s;
}


static void
expect_doc(cJSON *doc, const char *expected)
{
    char  *s, got[1024];

    /* freed before asserting, so a failure leaks nothing */
    s = print_and_free(doc);
    snprintf(got, sizeof(got), "%s", s);
    free(s);

    assert_string_equal(got, expected);
}


/* one column "v" of type holding value */
static void
expect_col(ngx_autoscale_col_type_e type, const char *value,
    const char *expected)
{
    char                 buf[512];
    const char          *values[1];
    ngx_autoscale_col_t  cols[1];

    cols[0].name = "v";
    cols[0].type = type;
    values[0] = value;

    snprintf(buf, sizeof(buf), "{\"v\":%s}", expected);
    expect_doc(ngx_autoscale_json_row(cols, 1, values), buf);
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
    (void) state;

    expect_col(T_TEXT, "hello", "\"hello\"");
    expect_col(T_TEXT, "", "\"\"");
    expect_col(T_TEXT, "42", "\"42\"");
    expect_col(T_TEXT, "null", "\"null\"");
    expect_col(T_TEXT, "{\"a\":1}", "\"{\\\"a\\\":1}\"");
    expect_col(T_TEXT, "a\"b\\c\n\t\x01/", "\"a\\\"b\\\\c\\n\\t\\u0001/\"");
    expect_col(T_TEXT, "caf\xc3\xa9", "\"caf\xc3\xa9\"");
    expect_col(T_TEXT, NULL, "null");
}


static void
test_row_int(void **state)
{
    (void) state;

    expect_col(T_INT, "0", "0");
    expect_col(T_INT, "42", "42");
    expect_col(T_INT, "-7", "-7");
    expect_col(T_INT, "2147483647", "2147483647");
    expect_col(T_INT, "2147483648", "2147483648");
    expect_col(T_INT, "-2147483649", "-2147483649");
    expect_col(T_INT, "123456789012345", "123456789012345");
    /* bigints past 2^53 stay exact */
    expect_col(T_INT, "9007199254740993", "9007199254740993");
    expect_col(T_INT, "-9223372036854775808", "-9223372036854775808");
    expect_col(T_INT, "9999999999999999999", "9999999999999999999");
    expect_col(T_INT, "-0", "-0");
    expect_col(T_INT, "-1", "-1");

    /* 20 digits, leading zeros, signs, spaces */
    expect_col(T_INT, "10000000000000000000", "null");
    expect_col(T_INT, "-10000000000000000000", "null");
    expect_col(T_INT, "007", "null");
    expect_col(T_INT, "00", "null");
    expect_col(T_INT, "-01", "null");
    expect_col(T_INT, "+5", "null");
    expect_col(T_INT, " 5", "null");
    expect_col(T_INT, "--5", "null");
    expect_col(T_INT, "5-", "null");
    expect_col(T_INT, "1.0", "null");
    expect_col(T_INT, "1e3", "null");
    expect_col(T_INT, "0x10", "null");

    /* not a number: null, never a string */
    expect_col(T_INT, "", "null");
    expect_col(T_INT, "abc", "null");
    expect_col(T_INT, "12abc", "null");
    expect_col(T_INT, "12 ", "null");
    expect_col(T_INT, "-", "null");
    expect_col(T_INT, "NaN", "null");
    expect_col(T_INT, NULL, "null");
}


static void
test_row_float(void **state)
{
    (void) state;

    /* PostgreSQL's text, kept as it is */
    expect_col(T_FLOAT, "0.5", "0.5");
    expect_col(T_FLOAT, "0.1", "0.1");
    expect_col(T_FLOAT, "-1.25", "-1.25");
    expect_col(T_FLOAT, "100", "100");
    expect_col(T_FLOAT, "0", "0");
    expect_col(T_FLOAT, "-0", "-0");
    expect_col(T_FLOAT, "1e3", "1e3");
    expect_col(T_FLOAT, "1e+20", "1e+20");
    expect_col(T_FLOAT, "1E-05", "1E-05");
    expect_col(T_FLOAT, "1.5e-7", "1.5e-7");
    expect_col(T_FLOAT, "123456789.125", "123456789.125");
    expect_col(T_FLOAT, "0.30000000000000004", "0.30000000000000004");
    expect_col(T_FLOAT, "1.7976931348623157e+308",
               "1.7976931348623157e+308");
    expect_col(T_FLOAT, "5e-324", "5e-324");
    expect_col(T_FLOAT, "12345678901234567890123",
               "12345678901234567890123");

    /* grammatical, so raw, though no float8 prints it */
    expect_col(T_FLOAT, "1e-400", "1e-400");
    expect_col(T_FLOAT, "1e400", "1e400");
    expect_col(T_FLOAT, "-1e400", "-1e400");

    /* no JSON form */
    expect_col(T_FLOAT, "NaN", "null");
    expect_col(T_FLOAT, "nan", "null");
    expect_col(T_FLOAT, "-NaN", "null");
    expect_col(T_FLOAT, "Infinity", "null");
    expect_col(T_FLOAT, "-Infinity", "null");
    expect_col(T_FLOAT, "inf", "null");
    expect_col(T_FLOAT, "-inf", "null");

    /* outside the JSON number grammar */
    expect_col(T_FLOAT, "", "null");
    expect_col(T_FLOAT, "-", "null");
    expect_col(T_FLOAT, "+1", "null");
    expect_col(T_FLOAT, "01", "null");
    expect_col(T_FLOAT, "-01.5", "null");
    expect_col(T_FLOAT, "00", "null");
    expect_col(T_FLOAT, ".5", "null");
    expect_col(T_FLOAT, "-.5", "null");
    expect_col(T_FLOAT, "1.", "null");
    expect_col(T_FLOAT, "1.e3", "null");
    expect_col(T_FLOAT, "1e", "null");
    expect_col(T_FLOAT, "1e+", "null");
    expect_col(T_FLOAT, "1e-", "null");
    expect_col(T_FLOAT, "1e++3", "null");
    expect_col(T_FLOAT, "1e3.5", "null");
    expect_col(T_FLOAT, "1.5.5", "null");
    expect_col(T_FLOAT, "e3", "null");
    expect_col(T_FLOAT, "0x10", "null");
    expect_col(T_FLOAT, " 1", "null");
    expect_col(T_FLOAT, "1 ", "null");
    expect_col(T_FLOAT, "0.5x", "null");
    expect_col(T_FLOAT, "1,5", "null");
    expect_col(T_FLOAT, ".", "null");
    expect_col(T_FLOAT, "--1", "null");
    expect_col(T_FLOAT, NULL, "null");

    /* raw text must not break out of the document */
    expect_col(T_FLOAT, "1,\"x\":2", "null");
    expect_col(T_FLOAT, "1}", "null");
    expect_col(T_INT, "1,\"x\":2", "null");
    expect_col(T_INT, "1]", "null");
}


/* a real JSON null, not a number cJSON happens to print as null */
static void
expect_null_item(ngx_autoscale_col_type_e type, const char *value)
{
    cJSON                *doc, *item;
    const char           *values[1];
    ngx_autoscale_col_t   cols[1];

    cols[0].name = "v";
    cols[0].type = type;
    values[0] = value;

    doc = ngx_autoscale_json_row(cols, 1, values);
    assert_non_null(doc);
    item = cJSON_GetObjectItemCaseSensitive(doc, "v");
    assert_non_null(item);
    assert_true(cJSON_IsNull(item));
    cJSON_Delete(doc);
}


static void
test_row_nonfinite_type(void **state)
{
    (void) state;

    expect_null_item(T_FLOAT, "NaN");
    expect_null_item(T_FLOAT, "-NaN");
    expect_null_item(T_FLOAT, "Infinity");
    expect_null_item(T_FLOAT, "-Infinity");
    expect_null_item(T_INT, "NaN");
    expect_null_item(T_INT, "Infinity");
    expect_null_item(T_FLOAT, NULL);
    expect_null_item(T_JSON, "{");
    expect_null_item(T_TIME, "infinity");
}


/* numbers are raw items, printed as given */
static void
expect_raw_item(ngx_autoscale_col_type_e type, const char *value)
{
    int                   raw;
    char                  text[64];
    cJSON                *doc, *item;
    const char           *values[1];
    ngx_autoscale_col_t   cols[1];

    cols[0].name = "v";
    cols[0].type = type;
    values[0] = value;

    doc = ngx_autoscale_json_row(cols, 1, values);
    assert_non_null(doc);
    item = cJSON_GetObjectItemCaseSensitive(doc, "v");
    raw = cJSON_IsRaw(item);
    snprintf(text, sizeof(text), "%s", raw ? item->valuestring : "");
    cJSON_Delete(doc);

    assert_true(raw);
    assert_string_equal(text, value);
}


static void
test_row_raw_type(void **state)
{
    (void) state;

    expect_raw_item(T_FLOAT, "1e400");
    expect_raw_item(T_FLOAT, "1e3");
    expect_raw_item(T_FLOAT, "0.1");
    expect_raw_item(T_INT, "9007199254740993");
    expect_raw_item(T_INT, "0");
}


static void
test_row_bool(void **state)
{
    (void) state;

    expect_col(T_BOOL, "t", "true");
    expect_col(T_BOOL, "f", "false");
    expect_col(T_BOOL, NULL, "null");
}


static void
test_row_time(void **state)
{
    (void) state;

    expect_col(T_TIME, "2026-02-18 21:50:00.123456",
                 "\"2026-02-18T21:50:00.123456Z\"");
    expect_col(T_TIME, "2026-02-18 21:50:00", "\"2026-02-18T21:50:00Z\"");
    expect_col(T_TIME, "1999-12-31 23:59:59.5",
                 "\"1999-12-31T23:59:59.5Z\"");

    /* 46 bytes fit the 48-byte buffer with 'Z' and NUL, 47 do not */
    expect_col(T_TIME, "2026-02-18 21:50:00.12345678901234567890123456",
                 "\"2026-02-18T21:50:00.12345678901234567890123456Z\"");
    expect_col(T_TIME, "2026-02-18 21:50:00.123456789012345678901234567",
                 "null");

    /* the session zone is UTC: "+00" is "Z", even past 46 bytes */
    expect_col(T_TIME, "2026-02-18 21:50:00+00", "\"2026-02-18T21:50:00Z\"");
    expect_col(T_TIME, "2026-02-18 21:50:00.5+00",
                 "\"2026-02-18T21:50:00.5Z\"");
    expect_col(T_TIME, "2026-02-18 21:50:00.12345678901234567890123456+00",
                 "\"2026-02-18T21:50:00.12345678901234567890123456Z\"");
    expect_col(T_TIME, "2026-02-18 21:50:00.123456789012345678901234567+00",
                 "null");
    expect_col(T_TIME, "2026-02-18 21:50:00+05", "null");
    expect_col(T_TIME, "2026-02-18 21:50:00+00:00", "null");

    /* what PostgreSQL prints that RFC 3339 cannot hold */
    expect_col(T_TIME, "infinity", "null");
    expect_col(T_TIME, "-infinity", "null");
    expect_col(T_TIME, "0044-03-15 12:00:00 BC", "null");
    expect_col(T_TIME, "10000-01-01 00:00:00", "null");
    expect_col(T_TIME, "0044-03-15 12:00:00+00 BC", "null");

    expect_col(T_TIME, "", "null");
    expect_col(T_TIME, "garbage", "null");
    expect_col(T_TIME, NULL, "null");
}


static void
test_row_json(void **state)
{
    (void) state;

    expect_col(T_JSON, "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}",
                 "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}");
    expect_col(T_JSON, "{ \"a\" : [ 1 , true ] }", "{\"a\":[1,true]}");
    expect_col(T_JSON, "[]", "[]");
    expect_col(T_JSON, "{}", "{}");
    expect_col(T_JSON, "\"s\"", "\"s\"");
    expect_col(T_JSON, "3.5", "3.5");
    expect_col(T_JSON, "true", "true");
    expect_col(T_JSON, "false", "false");
    expect_col(T_JSON, "null", "null");
    expect_col(T_JSON, "[\"caf\\u00e9\"]", "[\"caf\xc3\xa9\"]");

    /* invalid json is dropped */
    expect_col(T_JSON, "", "null");
    expect_col(T_JSON, "{", "null");
    expect_col(T_JSON, "{\"a\":}", "null");
    expect_col(T_JSON, "[1,", "null");
    expect_col(T_JSON, "'a'", "null");
    expect_col(T_JSON, "undefined", "null");
    expect_col(T_JSON, NULL, "null");
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


static void
expect_rfc3339(const char *pg, const char *expected)
{
    int     rc;
    char   *out;
    size_t  size;

    /* exactly large enough, so ASan sees an overflow */
    size = strlen(expected) + 1;
    out = malloc(size);
    assert_non_null(out);

    rc = ngx_autoscale_json_rfc3339(pg, out, size);
    assert_int_equal(rc, 0);
    assert_string_equal(out, expected);

    free(out);
}


static void
expect_rfc3339_fail_size(const char *pg, size_t size)
{
    char    out[128];
    size_t  i;

    memset(out, '#', sizeof(out));

    assert_int_equal(ngx_autoscale_json_rfc3339(pg, out, size), -1);

    /* nothing written */
    for (i = 0; i < sizeof(out); i++) {
        assert_int_equal(out[i], '#');
    }
}


static void
expect_rfc3339_fail(const char *pg)
{
    expect_rfc3339_fail_size(pg, 64);
}


static void
test_rfc3339(void **state)
{
    (void) state;

    expect_rfc3339("2026-02-18 21:50:00.123456",
                   "2026-02-18T21:50:00.123456Z");
    expect_rfc3339("2026-02-18 21:50:00", "2026-02-18T21:50:00Z");
    expect_rfc3339("2026-02-18 21:50:00.1", "2026-02-18T21:50:00.1Z");
    expect_rfc3339("0001-01-01 00:00:00", "0001-01-01T00:00:00Z");
    expect_rfc3339("9999-12-31 23:59:59.999999",
                   "9999-12-31T23:59:59.999999Z");

    /* UTC's "+00" */
    expect_rfc3339("2026-02-18 21:50:00+00", "2026-02-18T21:50:00Z");
    expect_rfc3339("2026-02-18 21:50:00.5+00", "2026-02-18T21:50:00.5Z");
    expect_rfc3339("2026-02-18 21:50:00.123456+00",
                   "2026-02-18T21:50:00.123456Z");
}


static void
test_rfc3339_size(void **state)
{
    char  out[32];

    (void) state;

    /* 19 bytes need 21: 'Z' and NUL */
    memset(out, '#', sizeof(out));
    assert_int_equal(ngx_autoscale_json_rfc3339("2026-02-18 21:50:00", out, 21),
                     0);
    assert_string_equal(out, "2026-02-18T21:50:00Z");
    assert_int_equal(out[21], '#');

    expect_rfc3339_fail_size("2026-02-18 21:50:00", 20);
    expect_rfc3339_fail_size("2026-02-18 21:50:00", 19);
    expect_rfc3339_fail_size("2026-02-18 21:50:00", 1);
    expect_rfc3339_fail_size("2026-02-18 21:50:00", 0);

    /* 26 bytes need 28 */
    memset(out, '#', sizeof(out));
    assert_int_equal(ngx_autoscale_json_rfc3339("2026-02-18 21:50:00.123456",
                                           out, 28), 0);
    assert_string_equal(out, "2026-02-18T21:50:00.123456Z");
    assert_int_equal(out[28], '#');

    expect_rfc3339_fail_size("2026-02-18 21:50:00.123456", 27);

    /* "+00" is dropped before the size is counted */
    memset(out, '#', sizeof(out));
    assert_int_equal(ngx_autoscale_json_rfc3339("2026-02-18 21:50:00+00", out,
                                                21),
                     0);
    assert_string_equal(out, "2026-02-18T21:50:00Z");
    assert_int_equal(out[21], '#');

    expect_rfc3339_fail_size("2026-02-18 21:50:00+00", 20);
}


static void
test_rfc3339_malformed(void **state)
{
    (void) state;

    expect_rfc3339_fail("");
    expect_rfc3339_fail("2026-02-18");
    expect_rfc3339_fail("2026-02-18 21:50");
    expect_rfc3339_fail("2026-02-18 21:50:0");
    expect_rfc3339_fail("infinity");
    expect_rfc3339_fail("-infinity");

    /* each separator */
    expect_rfc3339_fail("2026-02-18T21:50:00");
    expect_rfc3339_fail("2026-02-18_21:50:00");
    expect_rfc3339_fail("2026/02-18 21:50:00");
    expect_rfc3339_fail("2026-02/18 21:50:00");
    expect_rfc3339_fail("2026-02-18 21-50:00");
    expect_rfc3339_fail("2026-02-18 21:50-00");
    expect_rfc3339_fail("2026-02-18 21:50:00,5");
    expect_rfc3339_fail("2026-02-18 21:50:00Z");
    expect_rfc3339_fail("2026-02-18 21:50:00 ");
    expect_rfc3339_fail("2026-02-18 21:50:00 BC");

    /* a zone other than UTC's own "+00" */
    expect_rfc3339_fail("2026-02-18 21:50:00+01");
    expect_rfc3339_fail("2026-02-18 21:50:00-00");
    expect_rfc3339_fail("2026-02-18 21:50:00+00:00");
    expect_rfc3339_fail("2026-02-18 21:50:00+05:30");
    expect_rfc3339_fail("2026-02-18 21:50:00+0");
    expect_rfc3339_fail("2026-02-18 21:50:00+000");
    expect_rfc3339_fail("2026-02-18 21:50:00 +00");
    expect_rfc3339_fail("2026-02-18 21:50:00+00+00");
    expect_rfc3339_fail("2026-02-18 21:50:00+00 BC");
    expect_rfc3339_fail("2026-02-18 21:50:00.+00");
    expect_rfc3339_fail("2026-02-18 21:50+00");
    expect_rfc3339_fail("2026-02-18+00");
    expect_rfc3339_fail("+00");

    /* a non-digit in each field */
    expect_rfc3339_fail("a026-02-18 21:50:00");
    expect_rfc3339_fail("202a-02-18 21:50:00");
    expect_rfc3339_fail("2026-a2-18 21:50:00");
    expect_rfc3339_fail("2026-02-1a 21:50:00");
    expect_rfc3339_fail("2026-02-18 a1:50:00");
    expect_rfc3339_fail("2026-02-18 21:5a:00");
    expect_rfc3339_fail("2026-02-18 21:50:0a");
    expect_rfc3339_fail("2026-02-18 21:50:00.12a");
    expect_rfc3339_fail("2026-02-18 21:50:00.1.2");
    expect_rfc3339_fail("2026-02-18 21:50:00.-1");
    expect_rfc3339_fail(" 2026-02-18 21:50:00");
    expect_rfc3339_fail("-2026-02-18 21:50:00");
    expect_rfc3339_fail("20260-02-18 21:50:00");
    expect_rfc3339_fail("2026-2-18 21:50:00.0");
    expect_rfc3339_fail("2026-02-18  21:50:00");
}


/* "…:00." has an empty fraction, not valid RFC 3339 */
static void
test_rfc3339_empty_fraction(void **state)
{
    (void) state;

    expect_rfc3339_fail("2026-02-18 21:50:00.");
    expect_col(T_TIME, "2026-02-18 21:50:00.", "null");
}


/* cJSON_Parse stops after the first value and ignores what follows */
static void
test_row_json_trailing(void **state)
{
    (void) state;

    expect_col(T_JSON, "{\"a\":1}x", "null");
    expect_col(T_JSON, "[1,2] [3]", "null");
    expect_col(T_JSON, "1 2", "null");
    expect_col(T_JSON, "true,", "null");
}


/*
 * Numbers of a json column read back as they were: cJSON alone prints 15
 * digits when they read back within an epsilon, and DBL_MAX as a number
 * past it (found by fuzz/fuzz_json.c).
 */
static void
test_row_json_exact(void **state)
{
    (void) state;

    expect_col(T_JSON, "0.30000000000000004", "0.30000000000000004");
    expect_col(T_JSON, "{\"x\":1.0000000000000002}",
               "{\"x\":1.0000000000000002}");
    expect_col(T_JSON, "[3333333333333981083066]",
               "[3.333333333333981e+21]");
    expect_col(T_JSON, "{\"a\":[{\"b\":1.7976931348623157e308}]}",
               "{\"a\":[{\"b\":1.7976931348623157e+308}]}");

    /* what cJSON printed exactly stays as it was */
    expect_col(T_JSON, "[0,-0,1,-12,0.1,1e-7,1e20,5e-324,123456789012]",
               "[0,-0,1,-12,0.1,1e-07,1e+20,5e-324,123456789012]");
    expect_col(T_JSON, "[1e999,-1e999]", "[null,null]");
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
