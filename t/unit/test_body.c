/*
 * Unit tests of src/ngx_autoscale_body.c: request bodies, fields, UTF-8,
 * semantic versions.
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

#include "ngx_autoscale_body.h"


#define STR      NGX_AUTOSCALE_FIELD_STRING
#define INT      NGX_AUTOSCALE_FIELD_INT
#define NUM      NGX_AUTOSCALE_FIELD_NUMBER
#define BOOL     NGX_AUTOSCALE_FIELD_BOOL
#define ENUM     NGX_AUTOSCALE_FIELD_ENUM
#define TAGS     NGX_AUTOSCALE_FIELD_TAGS
#define OBJ      NGX_AUTOSCALE_FIELD_OBJECT

#define ANY      NGX_AUTOSCALE_CHARS_ANY
#define NAME     NGX_AUTOSCALE_CHARS_NAME
#define SLUG     NGX_AUTOSCALE_CHARS_SLUG
#define TYPE     NGX_AUTOSCALE_CHARS_TYPE
#define SEMVER   NGX_AUTOSCALE_CHARS_SEMVER

#define NOT_JSON      "the request body is not valid JSON (at byte %d)"
#define NOT_UTF8      "the request body is not valid UTF-8"
#define NOT_OBJECT    "the request body must be a JSON object"
#define NUL_ESCAPE    "strings must not contain \\u0000"
#define EMPTY_TEXT    "the request body is empty: a JSON object is expected"


static const char *const  modes[] = { "fast", "safe", "off", NULL };


/* one field "v" of each kind */
static const ngx_autoscale_field_t  f_name = { "v", STR, 1, 64, NAME, NULL,
                                               0, 0 };
static const ngx_autoscale_field_t  f_slug = { "v", STR, 3, 20, SLUG, NULL,
                                               0, 0 };
static const ngx_autoscale_field_t  f_type = { "v", STR, 1, 32, TYPE, NULL,
                                               0, 0 };
static const ngx_autoscale_field_t  f_semver = { "v", STR, 5, 64, SEMVER,
                                                 NULL, 0, 0 };
static const ngx_autoscale_field_t  f_any = { "v", STR, 0, 5, ANY, NULL,
                                              0, 0 };
static const ngx_autoscale_field_t  f_int = { "v", INT, 0, 1000, ANY, NULL,
                                              0, 0 };
static const ngx_autoscale_field_t  f_wide = { "v", INT, -1e15, 1e15, ANY,
                                               NULL, 0, 0 };
static const ngx_autoscale_field_t  f_num = { "v", NUM, -1, 1, ANY, NULL,
                                              0, 0 };
static const ngx_autoscale_field_t  f_bool = { "v", BOOL, 0, 0, ANY, NULL,
                                               0, 0 };
static const ngx_autoscale_field_t  f_enum = { "v", ENUM, 0, 0, ANY, modes,
                                               0, 0 };
static const ngx_autoscale_field_t  f_tags = { "v", TAGS, 0, 3, ANY, NULL,
                                               0, 0 };
static const ngx_autoscale_field_t  f_obj = { "v", OBJ, 0, 0, ANY, NULL,
                                              0, 0 };


#define NAME_TEXT    "field 'v' must be a string of 1 to 64 letters, " \
                     "digits, spaces, '-' or '_'"
#define SLUG_TEXT    "field 'v' must be a string of 3 to 20 lowercase " \
                     "letters, digits or '-'"
#define TYPE_TEXT    "field 'v' must be a string of 1 to 32 lowercase " \
                     "letters, digits, '-' or '_'"
#define SEMVER_TEXT  "field 'v' must be a string of 5 to 64 characters, " \
                     "a semantic version"
#define ANY_TEXT     "field 'v' must be a string of 0 to 5 characters, " \
                     "without control characters"
#define INT_TEXT     "field 'v' must be a whole number from 0 to 1000"
#define NUM_TEXT     "field 'v' must be a number from -1 to 1"
#define BOOL_TEXT    "field 'v' must be true or false"
#define ENUM_TEXT    "field 'v' must be one of: fast, safe, off"
#define TAGS_TEXT    "field 'v' must be an array of at most 3 strings of " \
                     "1 to 64 characters"
#define OBJ_TEXT     "field 'v' must be a JSON object"
#define NULL_TEXT    "field 'v' must not be null"


/* parses buf[0..len) from an exact copy */
static cJSON *
parse_n(const char *buf, size_t len, ngx_autoscale_err_t *err)
{
    char   *copy;
    cJSON  *root;

    copy = exact(buf, len);
    err_init(err);
    root = ngx_autoscale_body_parse(copy, len, err);
    free(copy);

    return root;
}


/* the printed document, or "" and the error */
static void
parse_print_n(const char *buf, size_t len, char *out, size_t size,
    ngx_autoscale_err_t *err)
{
    char   *s;
    cJSON  *root;

    out[0] = '\0';

    root = parse_n(buf, len, err);
    if (root == NULL) {
        return;
    }

    s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);

    if (s) {
        snprintf(out, size, "%s", s);
        free(s);
    }
}


static void
expect_parse_n(const char *buf, size_t len, const char *printed)
{
    char                  out[1024];
    ngx_autoscale_err_t   err;

    parse_print_n(buf, len, out, sizeof(out), &err);
    assert_case_err_untouched(buf, &err);
    assert_case_string(buf, out, printed);
}


static void
expect_parse_err_n(const char *buf, size_t len, int status, const char *code,
    const char *text)
{
    cJSON                *root;
    ngx_autoscale_err_t   err;

    root = parse_n(buf, len, &err);
    cJSON_Delete(root);

    assert_null(root);
    assert_case_err(buf, &err, status, code, text);
}


static void
expect_not_json_n(const char *buf, size_t len, int at)
{
    char  text[128];

    snprintf(text, sizeof(text), NOT_JSON, at);
    expect_parse_err_n(buf, len, 400, "InvalidJson", text);
}


/* a body taken and printed, or refused with a text or as not JSON */
typedef struct {
    const char  *buf;
    const char  *printed;
    const char  *text;
    int          at;                  /* not JSON at this byte, or -1 */
} parse_case_t;


static void
expect_parses(const parse_case_t *cases, size_t n)
{
    size_t             i;
    const char        *buf;

    for (i = 0; i < n; i++) {
        buf = cases[i].buf;

        if (cases[i].printed) {
            expect_parse_n(buf, strlen(buf), cases[i].printed);

        } else if (cases[i].text) {
            expect_parse_err_n(buf, strlen(buf), 400, "InvalidJson",
                               cases[i].text);

        } else {
            expect_not_json_n(buf, strlen(buf), cases[i].at);
        }
    }
}


static void
test_parse_ok(void **state)
{
    static const parse_case_t  cases[] = {
        { "{}", "{}", NULL, -1 },
        { "{\"a\":1}", "{\"a\":1}", NULL, -1 },
        { " \t\r\n{ \"a\" : [ 1 , 2.5 , -3e2 ] ,\n\"b\":null }\n\t\r ",
          "{\"a\":[1,2.5,-300],\"b\":null}", NULL, -1 },
        { "{\"s\":\"x\\\"y\\\\z\\/\\b\\f\\n\\r\\t\"}",
          "{\"s\":\"x\\\"y\\\\z/\\b\\f\\n\\r\\t\"}", NULL, -1 },
        { "{\"s\":\"caf\\u00e9 \\ud83d\\ude00\"}",
          "{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", NULL, -1 },
        { "{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}",
          "{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", NULL, -1 },
        { "{\"a\":{\"b\":{\"c\":[true,false,null,{}]}}}",
          "{\"a\":{\"b\":{\"c\":[true,false,null,{}]}}}", NULL, -1 },
        { "{\"\":\"\"}", "{\"\":\"\"}", NULL, -1 }
    };

    (void) state;

    expect_parses(cases, n_cases(cases));
}


static void
test_parse_empty(void **state)
{
    ngx_autoscale_err_t   err;

    static const parse_case_t  cases[] = {
        /* white space alone is no document */
        { " ", NULL, NULL, 0 },
        { "   ", NULL, NULL, 2 },
        { "\n", NULL, NULL, 0 }
    };

    (void) state;

    err_init(&err);
    assert_null(ngx_autoscale_body_parse(NULL, 0, &err));
    assert_err(&err, 400, "InvalidJson", EMPTY_TEXT);

    expect_parse_err_n("", 0, 400, "InvalidJson", EMPTY_TEXT);
    expect_parse_err_n("{}", 0, 400, "InvalidJson", EMPTY_TEXT);

    expect_parses(cases, n_cases(cases));
}


/* the limit is on len: nothing past it is read */
static void
test_parse_size(void **state)
{
    char                 *buf;
    size_t                i;
    cJSON                *root;
    ngx_autoscale_err_t   err;

    (void) state;

    assert_int_equal(NGX_AUTOSCALE_BODY_MAX, 262144);

    /* {"a":"xxx..."} of exactly the limit */
    buf = malloc(NGX_AUTOSCALE_BODY_MAX + 1);
    assert_non_null(buf);
    memcpy(buf, "{\"a\":\"", 6);
    memset(buf + 6, 'x', NGX_AUTOSCALE_BODY_MAX - 8);
    memcpy(buf + NGX_AUTOSCALE_BODY_MAX - 2, "\"}", 2);

    root = parse_n(buf, NGX_AUTOSCALE_BODY_MAX, &err);
    i = root ? strlen(cJSON_GetObjectItem(root, "a")->valuestring) : 0;
    cJSON_Delete(root);
    assert_int_equal(i, NGX_AUTOSCALE_BODY_MAX - 8);
    assert_err_untouched(&err);

    /* one more byte, even white space, is too much */
    buf[NGX_AUTOSCALE_BODY_MAX] = ' ';
    root = parse_n(buf, NGX_AUTOSCALE_BODY_MAX + 1, &err);
    cJSON_Delete(root);
    free(buf);
    assert_null(root);
    assert_err(&err, 413, "BodyTooLarge",
               "the request body is larger than 262144 bytes");

    /* a length alone is enough to refuse: the one byte is never read */
    buf = malloc(1);
    assert_non_null(buf);
    buf[0] = '{';
    err_init(&err);
    root = ngx_autoscale_body_parse(buf, NGX_AUTOSCALE_BODY_MAX + 1, &err);
    cJSON_Delete(root);
    free(buf);
    assert_null(root);
    assert_err(&err, 413, "BodyTooLarge",
               "the request body is larger than 262144 bytes");

    err_init(&err);
    root = ngx_autoscale_body_parse("{}", (size_t) -1, &err);
    cJSON_Delete(root);
    assert_null(root);
    assert_int_equal(err.status, 413);

    /* not JSON at the limit: 400, not 413 */
    buf = repeat("x", NGX_AUTOSCALE_BODY_MAX);
    expect_not_json_n(buf, NGX_AUTOSCALE_BODY_MAX, 0);
    free(buf);
}


static void
test_parse_utf8(void **state)
{
    static const parse_case_t  cases[] = {
        /* overlong */
        { "{\"a\":\"\xc0\xaf\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xc1\xbf\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xe0\x80\xaf\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xe0\x9f\xbf\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xf0\x80\x80\xaf\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xf0\x8f\xbf\xbf\"}", NULL, NOT_UTF8, -1 },

        /* surrogates, beyond U+10FFFF, bytes that never occur */
        { "{\"a\":\"\xed\xa0\x80\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xed\xbf\xbf\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xed\xa0\xbd\xed\xb8\x80\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xf4\x90\x80\x80\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xf7\xbf\xbf\xbf\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xf8\x88\x80\x80\x80\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xfe\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xff\"}", NULL, NOT_UTF8, -1 },

        /* stray and missing continuation bytes */
        { "{\"a\":\"\x80\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xbf\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xc3(\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xe2\x82(\"}", NULL, NOT_UTF8, -1 },
        { "{\"a\":\"\xf0\x9f\x98\"}", NULL, NOT_UTF8, -1 },

        /* cut at the very end, even after a whole document */
        { "{\"a\":1}\xc3", NULL, NOT_UTF8, -1 },
        { "{\"a\":1}\xe2\x82", NULL, NOT_UTF8, -1 },
        { "{\"a\":1}\xf0\x9f\x98", NULL, NOT_UTF8, -1 },

        /* in a key, outside strings */
        { "{\"\xc3\":1}", NULL, NOT_UTF8, -1 },
        { "{\"a\":1\xc3\xa9}", NULL, "the request body is not valid "
          "JSON (at byte 6)", -1 },

        /* the edges that are allowed */
        { "{\"a\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf"
          "\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}",
          "{\"a\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf"
          "\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}", NULL,
          -1 }
    };

    (void) state;

    /* NUL bytes anywhere */
    expect_parse_err_n("{\"a\":\"\0\"}", 9, 400, "InvalidJson", NOT_UTF8);
    expect_parse_err_n("{\"a\":1}\0", 8, 400, "InvalidJson", NOT_UTF8);
    expect_parse_err_n("\0{\"a\":1}", 8, 400, "InvalidJson", NOT_UTF8);
    expect_parse_err_n("{\"a\0\":1}", 8, 400, "InvalidJson", NOT_UTF8);

    expect_parses(cases, n_cases(cases));

    expect_parse_err_n("{\"a\":\"\xc3\xa9\"}", 7, 400, "InvalidJson",
                       NOT_UTF8);
}


static void
test_parse_nul_escape(void **state)
{
    static const parse_case_t  cases[] = {
        { "{\"a\":\"\\u0000\"}", NULL, NUL_ESCAPE, -1 },
        { "{\"a\":\"x\\u0000y\"}", NULL, NUL_ESCAPE, -1 },
        { "{\"\\u0000\":1}", NULL, NUL_ESCAPE, -1 },
        { "{\"a\\u0000\":1}", NULL, NUL_ESCAPE, -1 },
        { "{\"a\":[\"ok\",{\"b\":\"\\u0000\"}]}", NULL, NUL_ESCAPE, -1 },
        { "{\"a\":\"\\u00000\"}", NULL, NUL_ESCAPE, -1 },
        { "{\"a\":\"x\",\"b\":\"\\u0000\"}", NULL, NUL_ESCAPE, -1 },

        /* after an escaped quote or an escaped backslash */
        { "{\"a\":\"\\\"\\u0000\"}", NULL, NUL_ESCAPE, -1 },
        { "{\"a\":\"\\\\\\u0000\"}", NULL, NUL_ESCAPE, -1 },

        /* an escaped backslash, then the text u0000 */
        { "{\"a\":\"\\\\u0000\"}", "{\"a\":\"\\\\u0000\"}", NULL, -1 },
        { "{\"a\\\\u0000\":1}", "{\"a\\\\u0000\":1}", NULL, -1 },
        { "{\"a\":\"\\\\\\\\u0000\"}", "{\"a\":\"\\\\\\\\u0000\"}", NULL, -1 },
        { "{\"a\":\"u0000\"}", "{\"a\":\"u0000\"}", NULL, -1 },

        /* other small escapes are fine */
        { "{\"a\":\"\\u0001\\u001f\"}", "{\"a\":\"\\u0001\\u001f\"}", NULL,
          -1 },
        { "{\"a\":\"\\u0100\"}", "{\"a\":\"\xc4\x80\"}", NULL, -1 }
    };

    (void) state;

    expect_parses(cases, n_cases(cases));
}


static void
test_parse_syntax(void **state)
{
    static const parse_case_t  cases[] = {
        { "{\"a\":}", NULL, NULL, 5 },
        { "{\"a\":1,}", NULL, NULL, 7 },
        { "{\"a\":tru}", NULL, NULL, 5 },
        { "{\"a\":NaN}", NULL, NULL, 5 },
        { "{\"a\":Infinity}", NULL, NULL, 5 },
        { "{\"a\":-}", NULL, NULL, 5 },
        { "{\"a\":+1}", NULL, NULL, 5 },
        { "{\"a\":1e}", NULL, NULL, 6 },
        { "{\"a\":[1,2}", NULL, NULL, 9 },
        { "{\"a\":\"\\x\"}", NULL, NULL, 6 },
        { "{\"a\":\"\\U0000\"}", NULL, NULL, 6 },
        { "{\"a\":\"\\ud800\"}", NULL, NULL, 6 },
        { "{\"a\":\"\\udc00\"}", NULL, NULL, 6 },
        { "{\"a\":\"abc}", NULL, NULL, 6 },
        { "{\"a\" 1}", NULL, NULL, 5 },
        { "{\"a\":1 \"b\":2}", NULL, NULL, 7 },
        { "[", NULL, NULL, 0 },
        { "{", NULL, NULL, 0 },
        { "}", NULL, NULL, 0 },
        { "x", NULL, NULL, 0 },

        /* cJSON points one past where a key's quote was due */
        { "{'a':1}", NULL, NULL, 2 },
        { "{a:1}", NULL, NULL, 2 },
        { "{,}", NULL, NULL, 2 }
    };

    (void) state;

    expect_parses(cases, n_cases(cases));
}


static void
test_parse_trailing(void **state)
{
    static const parse_case_t  cases[] = {
        { "{\"a\":1} x", NULL, NULL, 8 },
        { "{\"a\":1}   x", NULL, NULL, 10 },
        { "{\"a\":1}{", NULL, NULL, 7 },
        { "{\"a\":1}{}", NULL, NULL, 7 },
        { "{}}", NULL, NULL, 2 },
        { "{} []", NULL, NULL, 3 },
        { "{}\n\n0", NULL, NULL, 4 },
        { "{},", NULL, NULL, 2 },
        { "{}\f", NULL, NULL, 2 },
        { "{}\v", NULL, NULL, 2 },

        /* only space, tab, CR and LF may follow */
        { "{} \t\r\n", "{}", NULL, -1 },
        { "{}\n", "{}", NULL, -1 }
    };

    (void) state;

    expect_parses(cases, n_cases(cases));
}


static void
test_parse_root(void **state)
{
    static const parse_case_t  cases[] = {
        { "[]", NULL, NOT_OBJECT, -1 },
        { "[{\"a\":1}]", NULL, NOT_OBJECT, -1 },
        { "\"s\"", NULL, NOT_OBJECT, -1 },
        { "1", NULL, NOT_OBJECT, -1 },
        { "-1.5e3", NULL, NOT_OBJECT, -1 },
        { "true", NULL, NOT_OBJECT, -1 },
        { "false", NULL, NOT_OBJECT, -1 },
        { "null", NULL, NOT_OBJECT, -1 },
        { " null \n", NULL, NOT_OBJECT, -1 },

        /* the syntax is judged first */
        { "[] x", NULL, NULL, 3 }
    };

    (void) state;

    expect_parses(cases, n_cases(cases));
}


static void
test_parse_duplicates(void **state)
{
    char  *key, buf[256], text[128];

    static const parse_case_t  cases[] = {
        { "{\"a\":1,\"a\":2}", NULL, "key 'a' is given twice", -1 },
        { "{\"a\":1,\"a\":1}", NULL, "key 'a' is given twice", -1 },
        { "{\"a\":1,\"b\":2,\"a\":null}", NULL, "key 'a' is given twice", -1 },
        { "{\"o\":{\"k\":1,\"k\":2}}", NULL, "key 'k' is given twice", -1 },
        { "{\"x\":[1,{\"k\":1,\"k\":{}}]}", NULL, "key 'k' is given twice",
          -1 },
        { "{\"x\":[[[{\"a\":{\"b-1\":0,\"b-1\":0}}]]]}", NULL,
          "key 'b-1' is given twice", -1 },

        /* the same name escaped */
        { "{\"a\":1,\"\\u0061\":2}", NULL, "key 'a' is given twice", -1 },

        /* inner objects first, then the first name in sorted order */
        { "{\"z\":1,\"z\":2,\"o\":{\"y\":1,\"y\":2}}", NULL,
          "key 'y' is given twice", -1 },
        { "{\"b\":1,\"a\":1,\"b\":2,\"a\":2}", NULL, "key 'a' is given twice",
          -1 },

        /* odd names are not repeated */
        { "{\"a b\":1,\"a b\":2}", NULL, "a key is given twice", -1 },
        { "{\"\":1,\"\":2}", NULL, "a key is given twice", -1 },
        { "{\"%s%n\":1,\"%s%n\":2}", NULL, "a key is given twice", -1 },
        { "{\"'\":1,\"'\":2}", NULL, "a key is given twice", -1 },
        { "{\"\xc3\xa9\":1,\"\xc3\xa9\":2}", NULL, "a key is given twice", -1 },
        { "{\"a\\n\":1,\"a\\n\":2}", NULL, "a key is given twice", -1 },

        /* the same name in different objects, or differing in case */
        { "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}",
          "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}", NULL, -1 },
        { "{\"a\":1,\"A\":2,\"a \":3,\"\xc3\xa1\":4}",
          "{\"a\":1,\"A\":2,\"a \":3,\"\xc3\xa1\":4}", NULL, -1 }
    };

    (void) state;

    expect_parses(cases, n_cases(cases));

    /* 40 characters are named, 41 are not */
    key = repeat("k", 41);
    snprintf(buf, sizeof(buf), "{\"%.40s\":1,\"%.40s\":2}", key, key);
    snprintf(text, sizeof(text), "key '%.40s' is given twice", key);
    expect_parse_err_n(buf, strlen(buf), 400, "InvalidJson", text);
    snprintf(buf, sizeof(buf), "{\"%s\":1,\"%s\":2}", key, key);
    free(key);
    expect_parse_err_n(buf, strlen(buf), 400, "InvalidJson",
                       "a key is given twice");
}


/* many keys: found in n log n, without a crash */
static void
test_parse_many_keys(void **state)
{
    int                   i, n;
    char                 *buf;
    size_t                len, size;
    cJSON                *root;
    ngx_autoscale_err_t   err;

    (void) state;

    size = 10000 * 16 + 64;
    buf = malloc(size);
    assert_non_null(buf);

    len = 0;
    buf[len++] = '{';
    for (i = 0; i < 10000; i++) {
        len += snprintf(buf + len, size - len, "%s\"k%d\":%d", i ? "," : "",
                        i, i);
    }
    buf[len++] = '}';

    root = parse_n(buf, len, &err);
    n = cJSON_GetArraySize(root);
    cJSON_Delete(root);
    assert_int_equal(n, 10000);

    /* one repeated name, far from the other */
    len--;
    len += snprintf(buf + len, size - len, ",\"k7\":0}");
    root = parse_n(buf, len, &err);
    cJSON_Delete(root);
    free(buf);
    assert_null(root);
    assert_err(&err, 400, "InvalidJson", "key 'k7' is given twice");
}


/* deep nesting is refused by the parser's limit, not by the stack */
static void
test_parse_deep(void **state)
{
    int                   i;
    char                 *buf, text[128];
    size_t                n;
    cJSON                *root;
    ngx_autoscale_err_t   err;

    (void) state;

    buf = malloc(10000 * 5 + 10000 + 16);
    assert_non_null(buf);

    /* {"a":[[[... 10 000 deep */
    memcpy(buf, "{\"a\":", 5);
    n = 5;
    for (i = 0; i < 10000; i++) {
        buf[n++] = '[';
    }
    for (i = 0; i < 10000; i++) {
        buf[n++] = ']';
    }
    buf[n++] = '}';

    snprintf(text, sizeof(text), NOT_JSON, 5 + CJSON_NESTING_LIMIT - 1);
    expect_parse_err_n(buf, n, 400, "InvalidJson", text);

    /* never closed */
    expect_parse_err_n(buf, 5 + 10000, 400, "InvalidJson", text);

    /* {"a":{"a":... 10 000 deep */
    n = 0;
    for (i = 0; i < 10000; i++) {
        memcpy(buf + n, "{\"a\":", 5);
        n += 5;
    }
    buf[n++] = '1';
    for (i = 0; i < 10000; i++) {
        buf[n++] = '}';
    }

    snprintf(text, sizeof(text), NOT_JSON, 5 * CJSON_NESTING_LIMIT);
    expect_parse_err_n(buf, n, 400, "InvalidJson", text);

    /* just within the limit: parsed, and its keys checked */
    n = 0;
    for (i = 0; i < CJSON_NESTING_LIMIT; i++) {
        memcpy(buf + n, "{\"a\":", 5);
        n += 5;
    }
    buf[n++] = '1';
    for (i = 0; i < CJSON_NESTING_LIMIT; i++) {
        buf[n++] = '}';
    }

    root = parse_n(buf, n, &err);
    cJSON_Delete(root);
    assert_non_null(root);

    n -= CJSON_NESTING_LIMIT - 1;
    memcpy(buf + n - 1, ",\"a\":2}", 7);
    n += 6;
    for (i = 0; i < CJSON_NESTING_LIMIT - 1; i++) {
        buf[n++] = '}';
    }
    expect_parse_err_n(buf, n, 400, "InvalidJson", "key 'a' is given twice");

    free(buf);
}


/* fills out from json (NULL: no body); out is junk before the call */
static int
run_fields(const char *json, const ngx_autoscale_field_t *f, size_t n,
    ngx_autoscale_value_t *out, ngx_autoscale_err_t *err)
{
    int     rc;
    cJSON  *root;

    root = NULL;

    if (json) {
        root = parse_n(json, strlen(json), err);
        if (root == NULL) {
            fail_msg("%s does not parse: %s", json, err->text);
        }
    }

    memset(out, 0x5a, n * sizeof(ngx_autoscale_value_t));
    err_init(err);

    rc = ngx_autoscale_body_fields(root, f, n, out, err);
    cJSON_Delete(root);

    return rc;
}


/* what one value held, copied so that it can be freed before asserting */
typedef struct {
    int       present;
    int       null;
    double    number;
    char      text[4096];
} got_t;


static void
take(ngx_autoscale_value_t *v, got_t *got)
{
    got->present = v->present;
    got->null = (v->text == NULL);
    got->number = v->number;
    snprintf(got->text, sizeof(got->text), "%s", v->text ? v->text : "");
}


/* {"v":value} against field f: text and number */
static void
expect_v(const ngx_autoscale_field_t *f, const char *value, const char *text,
    double number)
{
    int                    rc;
    char                   json[8192];
    got_t                  got;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  v;

    snprintf(json, sizeof(json), "{\"v\":%s}", value);

    rc = run_fields(json, f, 1, &v, &err);
    take(&v, &got);
    ngx_autoscale_body_free(&v, 1);

    assert_null(v.text);
    assert_case_int(json, rc, 0);
    assert_case_err_untouched(json, &err);
    assert_case_int(json, got.present, 1);
    assert_case_int(json, got.null, 0);
    assert_case_string(json, got.text, text);

    if (got.number != number) {
        fail_msg("%s: number %.17g, not %.17g", json, got.number, number);
    }
}


static void
expect_v_err_code(const ngx_autoscale_field_t *f, const char *value,
    int status, const char *code, const char *text)
{
    int                    rc;
    char                   json[8192];
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  v;

    snprintf(json, sizeof(json), "{\"v\":%s}", value);

    rc = run_fields(json, f, 1, &v, &err);
    ngx_autoscale_body_free(&v, 1);

    assert_case_int(json, rc, -1);
    assert_case_err(json, &err, status, code, text);
    assert_null(v.text);
}


static void
expect_v_err(const ngx_autoscale_field_t *f, const char *value,
    const char *text)
{
    expect_v_err_code(f, value, 400, "InvalidField", text);
}


/* {"v":value} against field f: taken as text and number, or refused */
typedef struct {
    const ngx_autoscale_field_t  *f;
    const char                   *value;
    const char                   *text;
    double                        number;
    const char                   *refused;
} v_case_t;


static void
expect_vs(const v_case_t *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (cases[i].refused) {
            expect_v_err(cases[i].f, cases[i].value, cases[i].refused);

        } else {
            expect_v(cases[i].f, cases[i].value, cases[i].text,
                     cases[i].number);
        }
    }
}


static void
test_fields_none(void **state)
{
    size_t                 i;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  out[3];

    static const ngx_autoscale_field_t  f[] = {
        { "a", INT, 0, 10, ANY, NULL, 0, 0 },
        { "b", STR, 1, 5, ANY, NULL, 0, 1 },
        { "c", OBJ, 0, 0, ANY, NULL, 0, 0 }
    };

    (void) state;

    /* no body, or an empty object: nothing present, all zero */
    assert_int_equal(run_fields(NULL, f, 3, out, &err), 0);
    assert_err_untouched(&err);
    for (i = 0; i < 3; i++) {
        assert_int_equal(out[i].present, 0);
        assert_null(out[i].text);
        assert_true(out[i].number == 0);
    }
    ngx_autoscale_body_free(out, 3);

    assert_int_equal(run_fields("{}", f, 3, out, &err), 0);
    assert_err_untouched(&err);
    for (i = 0; i < 3; i++) {
        assert_int_equal(out[i].present, 0);
        assert_null(out[i].text);
    }
    ngx_autoscale_body_free(out, 3);

    /* no fields at all */
    assert_int_equal(run_fields("{}", f, 0, out, &err), 0);
    assert_int_equal(run_fields(NULL, f, 0, out, &err), 0);
    assert_err_untouched(&err);
}


/* json against the fields f[0..n) refused with code and text */
static void
expect_refused(const ngx_autoscale_field_t *f, size_t n, const char *json,
    const char *code, const char *text)
{
    int                    rc;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  out[4];

    rc = run_fields(json, f, n, out, &err);
    ngx_autoscale_body_free(out, n);

    assert_case_int(json, rc, -1);
    assert_case_err(json, &err, 400, code, text);
}

#define expect_unknown(f, n, json, text)                                      \
    expect_refused(f, n, json, "UnknownField", text)
#define expect_missing(f, n, json, text)                                      \
    expect_refused(f, n, json, "MissingField", text)


static void
test_fields_unknown(void **state)
{
    int                    rc;
    char                  *name, json[256], text[128];
    got_t                  got;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  out[2];

    static const ngx_autoscale_field_t  f[] = {
        { "v", INT, 0, 10, ANY, NULL, 1, 0 },
        { "w", STR, 1, 5, ANY, NULL, 0, 0 }
    };

    (void) state;

    expect_unknown(f, 2, "{\"x\":1}", "unknown field 'x'");
    expect_unknown(f, 2, "{\"v\":1,\"x\":1}", "unknown field 'x'");
    expect_unknown(f, 2, "{\"V\":1}", "unknown field 'V'");
    expect_unknown(f, 2, "{\"v\":1,\"vv\":1}", "unknown field 'vv'");
    expect_unknown(f, 2, "{\"v\":1,\"w-x_Y9\":1}", "unknown field 'w-x_Y9'");
    expect_unknown(f, 2, "{\"x\":1,\"y\":1}", "unknown field 'x'");

    /* before any value is looked at, or anything found missing */
    expect_unknown(f, 2, "{\"w\":\"bad value\",\"x\":null}",
                   "unknown field 'x'");
    expect_unknown(f, 2, "{\"x\":1}", "unknown field 'x'");
    expect_unknown(f, 1, "{\"v\":1,\"w\":\"ok\"}", "unknown field 'w'");
    expect_unknown(f, 0, "{\"v\":1}", "unknown field 'v'");

    /* odd names are not repeated */
    expect_unknown(f, 2, "{\"\":1}", "unknown field");
    expect_unknown(f, 2, "{\"v \":1}", "unknown field");
    expect_unknown(f, 2, "{\"a b\":1}", "unknown field");
    expect_unknown(f, 2, "{\"%s%n\":1}", "unknown field");
    expect_unknown(f, 2, "{\"'\":1}", "unknown field");
    expect_unknown(f, 2, "{\"<b>\":1}", "unknown field");
    expect_unknown(f, 2, "{\"a\\nb\":1}", "unknown field");
    expect_unknown(f, 2, "{\"\xc3\xa9\":1}", "unknown field");
    expect_unknown(f, 2, "{\"v.w\":1}", "unknown field");

    name = repeat("n", 41);
    snprintf(json, sizeof(json), "{\"%.40s\":1}", name);
    snprintf(text, sizeof(text), "unknown field '%.40s'", name);
    expect_unknown(f, 2, json, text);
    snprintf(json, sizeof(json), "{\"%s\":1}", name);
    free(name);
    expect_unknown(f, 2, json, "unknown field");

    /* an escaped name is the name */
    expect_unknown(f, 2, "{\"\\u0078\":1}", "unknown field 'x'");
    expect_v(&f_int, "7", "7", 7);
    rc = run_fields("{\"\\u0076\":7}", f, 2, out, &err);
    take(&out[0], &got);
    ngx_autoscale_body_free(out, 2);
    assert_int_equal(rc, 0);
    assert_string_equal(got.text, "7");
}


static void
test_fields_missing(void **state)
{
    int                    rc;
    got_t                  got;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  out[3];

    static const ngx_autoscale_field_t  f[] = {
        { "a", STR, 1, 5, ANY, NULL, 1, 0 },
        { "b", INT, 0, 10, ANY, NULL, 0, 0 },
        { "c", BOOL, 0, 0, ANY, NULL, 1, 1 }
    };

    (void) state;

    expect_missing(f, 3, NULL, "field 'a' is required");
    expect_missing(f, 3, "{}", "field 'a' is required");
    expect_missing(f, 3, "{\"c\":true}", "field 'a' is required");
    expect_missing(f, 3, "{\"a\":\"x\"}", "field 'c' is required");
    expect_missing(f, 3, "{\"a\":\"x\",\"b\":1}", "field 'c' is required");

    /* in table order: a bad "a" is reported before the missing "c" */
    rc = run_fields("{\"a\":\"toolong\"}", f, 3, out, &err);
    ngx_autoscale_body_free(out, 3);
    assert_int_equal(rc, -1);
    assert_err(&err, 400, "InvalidField", "field 'a' must be a string of 1 "
               "to 5 characters, without control characters");

    /* a required nullable field may be null, but not absent */
    rc = run_fields("{\"a\":\"x\",\"c\":null}", f, 3, out, &err);
    take(&out[2], &got);
    assert_int_equal(out[1].present, 0);
    assert_null(out[1].text);
    ngx_autoscale_body_free(out, 3);
    assert_int_equal(rc, 0);
    assert_int_equal(got.present, 1);
    assert_int_equal(got.null, 1);
}


/* null where it is allowed, and where it is not, for every kind */
static void
test_fields_null(void **state)
{
    int                    rc;
    size_t                 i;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  v;
    ngx_autoscale_field_t  f;

    const ngx_autoscale_field_t  *kinds[] = {
        &f_name, &f_slug, &f_type, &f_semver, &f_any, &f_int, &f_num,
        &f_bool, &f_enum, &f_tags, &f_obj
    };

    static const char *const  texts[] = {
        NAME_TEXT, SLUG_TEXT, TYPE_TEXT, SEMVER_TEXT, ANY_TEXT, INT_TEXT,
        NUM_TEXT, BOOL_TEXT, ENUM_TEXT, TAGS_TEXT, OBJ_TEXT
    };

    (void) state;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        f = *kinds[i];

        f.nullable = 0;
        expect_v_err(&f, "null", NULL_TEXT);

        f.nullable = 1;
        rc = run_fields("{\"v\":null}", &f, 1, &v, &err);
        assert_int_equal(rc, 0);
        assert_err_untouched(&err);
        assert_int_equal(v.present, 1);
        assert_null(v.text);
        assert_true(v.number == 0);
        ngx_autoscale_body_free(&v, 1);

        /* a null inside is not the field's null */
        expect_v_err(&f, "[null]", texts[i]);
    }
}


static void
test_fields_string_name(void **state)
{
    char  *s, json[512];

    static const v_case_t  cases[] = {
        { &f_name, "\"web 1\"", "web 1", 0, NULL },
        { &f_name, "\"A-b_c 9\"", "A-b_c 9", 0, NULL },
        { &f_name, "\"x\"", "x", 0, NULL },
        { &f_name, "\" \"", " ", 0, NULL },
        { &f_name, "\"\\u0041\"", "A", 0, NULL },
        { &f_name, "\"\"", NULL, 0, NAME_TEXT },
        { &f_name, "\"a.b\"", NULL, 0, NAME_TEXT },
        { &f_name, "\"a\\tb\"", NULL, 0, NAME_TEXT },
        { &f_name, "\"a\\nb\"", NULL, 0, NAME_TEXT },
        { &f_name, "\"caf\xc3\xa9\"", NULL, 0, NAME_TEXT },
        { &f_name, "\"a'b\"", NULL, 0, NAME_TEXT },
        { &f_name, "\"a/b\"", NULL, 0, NAME_TEXT },
        { &f_name, "1", NULL, 0, NAME_TEXT },
        { &f_name, "true", NULL, 0, NAME_TEXT },
        { &f_name, "[\"a\"]", NULL, 0, NAME_TEXT },
        { &f_name, "{\"a\":\"b\"}", NULL, 0, NAME_TEXT }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));

    s = repeat("N", 65);
    snprintf(json, sizeof(json), "\"%.64s\"", s);
    expect_v(&f_name, json, s + 1, 0);
    snprintf(json, sizeof(json), "\"%s\"", s);
    expect_v_err(&f_name, json, NAME_TEXT);
    free(s);
}


static void
test_fields_string_slug_type(void **state)
{
    static const v_case_t  cases[] = {
        { &f_slug, "\"my-app-1\"", "my-app-1", 0, NULL },
        { &f_slug, "\"abc\"", "abc", 0, NULL },
        { &f_slug, "\"---\"", "---", 0, NULL },
        { &f_slug, "\"abcdefghij0123456789\"", "abcdefghij0123456789", 0,
          NULL },
        { &f_slug, "\"abcdefghij0123456789x\"", NULL, 0, SLUG_TEXT },
        { &f_slug, "\"ab\"", NULL, 0, SLUG_TEXT },
        { &f_slug, "\"My-app\"", NULL, 0, SLUG_TEXT },
        { &f_slug, "\"my_app\"", NULL, 0, SLUG_TEXT },
        { &f_slug, "\"my app\"", NULL, 0, SLUG_TEXT },
        { &f_slug, "\"my.app\"", NULL, 0, SLUG_TEXT },
        { &f_slug, "\"\xc3\xa9t\xc3\xa9\"", NULL, 0, SLUG_TEXT },
        { &f_slug, "123", NULL, 0, SLUG_TEXT },

        { &f_type, "\"web_worker-2\"", "web_worker-2", 0, NULL },
        { &f_type, "\"_\"", "_", 0, NULL },
        { &f_type, "\"\"", NULL, 0, TYPE_TEXT },
        { &f_type, "\"Web\"", NULL, 0, TYPE_TEXT },
        { &f_type, "\"web worker\"", NULL, 0, TYPE_TEXT },
        { &f_type, "\"web.worker\"", NULL, 0, TYPE_TEXT },
        { &f_type, "\"abcdefghijabcdefghijabcdefghijabc\"", NULL, 0,
          TYPE_TEXT },
        { &f_type, "\"abcdefghijabcdefghijabcdefghijab\"",
          "abcdefghijabcdefghijabcdefghijab", 0, NULL },
        { &f_type, "false", NULL, 0, TYPE_TEXT }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));
}


static void
test_fields_string_semver(void **state)
{
    char  *s, json[256], text[256];

    static const v_case_t  cases[] = {
        { &f_semver, "\"1.2.3\"", "1.2.3", 0, NULL },
        { &f_semver, "\"1.2.3-rc.1+b.5\"", "1.2.3-rc.1+b.5", 0, NULL },
        { &f_semver, "\"0.0.0\"", "0.0.0", 0, NULL },
        { &f_semver, "\"1.2\"", NULL, 0, SEMVER_TEXT },
        { &f_semver, "\"01.2.3\"", NULL, 0, SEMVER_TEXT },
        { &f_semver, "\"v1.2.3\"", NULL, 0, SEMVER_TEXT },
        { &f_semver, "\"1.2.3 \"", NULL, 0, SEMVER_TEXT },
        { &f_semver, "1.2", NULL, 0, SEMVER_TEXT }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));

    /* the length bound applies to a valid version too */
    s = repeat("a", 59);
    snprintf(json, sizeof(json), "\"1.2.3-%.58s\"", s);
    snprintf(text, sizeof(text), "1.2.3-%.58s", s);
    assert_int_equal(strlen(text), 64);
    expect_v(&f_semver, json, text, 0);
    snprintf(json, sizeof(json), "\"1.2.3-%s\"", s);
    free(s);
    expect_v_err(&f_semver, json, SEMVER_TEXT);
}


static void
test_fields_string_any(void **state)
{
    static const v_case_t  cases[] = {
        { &f_any, "\"\"", "", 0, NULL },
        { &f_any, "\"hello\"", "hello", 0, NULL },
        { &f_any, "\" \"", " ", 0, NULL },
        { &f_any, "\"\\\"'<>&\"", "\"'<>&", 0, NULL },
        { &f_any, "\"a\\\\b\"", "a\\b", 0, NULL },
        { &f_any, "\"~\"", "~", 0, NULL },

        /* characters, not bytes */
        { &f_any, "\"h\xc3\xa9llo\"", "h\xc3\xa9llo", 0, NULL },
        { &f_any, "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"",
          "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 0, NULL },
        { &f_any,
          "\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
          "\\ud83d\\ude00\\ud83d\\ude00\"",
          "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
          "\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
          0, NULL },
        { &f_any, "\"\xe2\x82\xac\xe2\x82\xac\"", "\xe2\x82\xac\xe2\x82\xac",
          0, NULL },
        { &f_any, "\"hellos\"", NULL, 0, ANY_TEXT },
        { &f_any, "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" "\xc3\xa9\"",
          NULL, 0, ANY_TEXT },
        { &f_any,
          "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
          "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80x\"",
          NULL, 0, ANY_TEXT },

        /* control characters */
        { &f_any, "\"a\\nb\"", NULL, 0, ANY_TEXT },
        { &f_any, "\"\\t\"", NULL, 0, ANY_TEXT },
        { &f_any, "\"\\r\"", NULL, 0, ANY_TEXT },
        { &f_any, "\"\\u0001\"", NULL, 0, ANY_TEXT },
        { &f_any, "\"\\u001f\"", NULL, 0, ANY_TEXT },
        { &f_any, "\"\\u007f\"", NULL, 0, ANY_TEXT },
        { &f_any, "\"ab\\u001b[m\"", NULL, 0, ANY_TEXT },

        { &f_any, "0", NULL, 0, ANY_TEXT },
        { &f_any, "[]", NULL, 0, ANY_TEXT }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));
}


/* every ASCII byte in a string, for each charset */
static void
test_fields_string_every_byte(void **state)
{
    int                    c, rc, want;
    char                   s[4];
    size_t                 i;
    cJSON                 *root;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  v;

    const ngx_autoscale_field_t  *f[] = { &f_name, &f_slug, &f_type,
                                          &f_any };

    (void) state;

    for (c = 1; c < 128; c++) {
        s[0] = 'a';
        s[1] = 'b';
        s[2] = (char) c;
        s[3] = '\0';

        for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
            if (f[i]->chars == NAME) {
                want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                       || (c >= '0' && c <= '9') || c == ' ' || c == '-'
                       || c == '_';

            } else if (f[i]->chars == SLUG) {
                want = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                       || c == '-';

            } else if (f[i]->chars == TYPE) {
                want = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                       || c == '-' || c == '_';

            } else {
                want = (c >= 0x20 && c != 0x7f);
            }

            root = cJSON_CreateObject();
            assert_non_null(cJSON_AddStringToObject(root, "v", s));
            err_init(&err);
            rc = ngx_autoscale_body_fields(root, f[i], 1, &v, &err);
            cJSON_Delete(root);
            if (rc == 0 && strcmp(v.text, s) != 0) {
                rc = -2;
            }
            ngx_autoscale_body_free(&v, 1);

            if (rc != (want ? 0 : -1)) {
                fail_msg("byte 0x%02x, charset %d: %d", c, f[i]->chars, rc);
            }
        }
    }
}


static void
test_fields_int(void **state)
{
    static const v_case_t  cases[] = {
        { &f_int, "0", "0", 0, NULL },
        { &f_int, "7", "7", 7, NULL },
        { &f_int, "1000", "1000", 1000, NULL },
        { &f_int, "999", "999", 999, NULL },
        { &f_int, "3.0", "3", 3, NULL },
        { &f_int, "3.000", "3", 3, NULL },
        { &f_int, "1e2", "100", 100, NULL },
        { &f_int, "1E2", "100", 100, NULL },
        { &f_int, "1e+2", "100", 100, NULL },
        { &f_int, "1000e-3", "1", 1, NULL },
        { &f_int, "0.0", "0", 0, NULL },
        { &f_int, "10e2", "1000", 1000, NULL },

        { &f_int, "3.5", NULL, 0, INT_TEXT },
        { &f_int, "0.0001", NULL, 0, INT_TEXT },
        { &f_int, "999.9999", NULL, 0, INT_TEXT },
        { &f_int, "1000.5", NULL, 0, INT_TEXT },
        { &f_int, "1001", NULL, 0, INT_TEXT },
        { &f_int, "-1", NULL, 0, INT_TEXT },
        { &f_int, "-0.5", NULL, 0, INT_TEXT },
        { &f_int, "1e10", NULL, 0, INT_TEXT },
        { &f_int, "2147483647", NULL, 0, INT_TEXT },
        { &f_int, "2147483648", NULL, 0, INT_TEXT },
        { &f_int, "-2147483649", NULL, 0, INT_TEXT },
        { &f_int, "4294967296", NULL, 0, INT_TEXT },
        { &f_int, "4294967297", NULL, 0, INT_TEXT },
        { &f_int, "9007199254740992", NULL, 0, INT_TEXT },
        { &f_int, "9007199254740993", NULL, 0, INT_TEXT },
        { &f_int, "18446744073709551616", NULL, 0, INT_TEXT },
        { &f_int, "1e400", NULL, 0, INT_TEXT },
        { &f_int, "-1e400", NULL, 0, INT_TEXT },
        { &f_int, "\"3\"", NULL, 0, INT_TEXT },
        { &f_int, "true", NULL, 0, INT_TEXT },
        { &f_int, "[3]", NULL, 0, INT_TEXT },
        { &f_int, "{}", NULL, 0, INT_TEXT },

        /* wide bounds: whole numbers print exactly */
        { &f_wide, "999999999999999", "999999999999999", 999999999999999.0,
          NULL },
        { &f_wide, "-1000000000000000", "-1000000000000000", -1e15, NULL },
        { &f_wide, "-5", "-5", -5, NULL },
        { &f_wide, "123456789012.0", "123456789012", 123456789012.0, NULL },
        { &f_wide, "1000000000000001", NULL, 0,
          "field 'v' must be a whole number from -1000000000000000 "
          "to 1000000000000000" },
        { &f_wide, "0.5", NULL, 0,
          "field 'v' must be a whole number from -1000000000000000 "
          "to 1000000000000000" }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));
}


static void
test_fields_number(void **state)
{
    static const ngx_autoscale_field_t  f_big = { "v", NUM, 0.5, 1e6, ANY,
                                                  NULL, 0, 0 };

    static const v_case_t  cases[] = {
        { &f_num, "0.5", "0.5", 0.5, NULL },
        { &f_num, "0", "0", 0, NULL },
        { &f_num, "1", "1", 1, NULL },
        { &f_num, "-1", "-1", -1, NULL },
        { &f_num, "1.0", "1", 1, NULL },
        { &f_num, "-0.25", "-0.25", -0.25, NULL },
        { &f_num, "0.1", "0.10000000000000001", 0.1, NULL },
        { &f_num, "0.3", "0.29999999999999999", 0.3, NULL },
        { &f_num, "1e-5", "1.0000000000000001e-05", 1e-5, NULL },
        { &f_num, "5e-324", "4.9406564584124654e-324", 5e-324, NULL },
        { &f_num, "0.99999999999999989", "0.99999999999999989",
          0.99999999999999989, NULL },
        { &f_num, "1.0000001", NULL, 0, NUM_TEXT },
        { &f_num, "-1.5", NULL, 0, NUM_TEXT },
        { &f_num, "2", NULL, 0, NUM_TEXT },
        { &f_num, "1e400", NULL, 0, NUM_TEXT },
        { &f_num, "-1e400", NULL, 0, NUM_TEXT },
        { &f_num, "\"0.5\"", NULL, 0, NUM_TEXT },
        { &f_num, "true", NULL, 0, NUM_TEXT },
        { &f_num, "[0.5]", NULL, 0, NUM_TEXT },
        { &f_big, "12345.678", "12345.678", 12345.678, NULL },
        { &f_big, "0.5", "0.5", 0.5, NULL },
        { &f_big, "0.49", NULL, 0, "field 'v' must be a number from 0.5 to "
          "1e+06" },
        { &f_big, "1000000.1", NULL, 0, "field 'v' must be a number from 0.5 "
          "to 1e+06" }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));

    expect_v(&f_big, "1e6", "1000000", 1e6);
}


static void
test_fields_bool(void **state)
{
    static const v_case_t  cases[] = {
        { &f_bool, "true", "true", 0, NULL },
        { &f_bool, "false", "false", 0, NULL },
        { &f_bool, "0", NULL, 0, BOOL_TEXT },
        { &f_bool, "1", NULL, 0, BOOL_TEXT },
        { &f_bool, "\"true\"", NULL, 0, BOOL_TEXT },
        { &f_bool, "\"false\"", NULL, 0, BOOL_TEXT },
        { &f_bool, "\"t\"", NULL, 0, BOOL_TEXT },
        { &f_bool, "[true]", NULL, 0, BOOL_TEXT },
        { &f_bool, "{}", NULL, 0, BOOL_TEXT }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));
}


static void
test_fields_enum(void **state)
{
    static const char *const  many[] = {
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
        "hotel", "india", "juliet", NULL
    };

    static const ngx_autoscale_field_t  f_many = { "v", ENUM, 0, 0, ANY,
                                                   many, 0, 0 };

    static const v_case_t  cases[] = {
        { &f_enum, "\"fast\"", "fast", 0, NULL },
        { &f_enum, "\"safe\"", "safe", 0, NULL },
        { &f_enum, "\"off\"", "off", 0, NULL },
        { &f_enum, "\"\\u006ff\\u0066\"", "off", 0, NULL },
        { &f_enum, "\"SAFE\"", NULL, 0, ENUM_TEXT },
        { &f_enum, "\"saf\"", NULL, 0, ENUM_TEXT },
        { &f_enum, "\"safe \"", NULL, 0, ENUM_TEXT },
        { &f_enum, "\"offf\"", NULL, 0, ENUM_TEXT },
        { &f_enum, "\"\"", NULL, 0, ENUM_TEXT },
        { &f_enum, "1", NULL, 0, ENUM_TEXT },
        { &f_enum, "true", NULL, 0, ENUM_TEXT },
        { &f_enum, "[\"fast\"]", NULL, 0, ENUM_TEXT },

        /* the list is cut to 63 bytes, never past its buffer */
        { &f_many, "\"juliet\"", "juliet", 0, NULL },
        { &f_many, "\"kilo\"", NULL, 0, "field 'v' must be one of: alpha, "
          "bravo, charlie, delta, echo, foxtrot, golf, hotel, india" }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));
}


static void
test_fields_tags(void **state)
{
    char  *s, json[1024], text[1024];

    static const v_case_t  cases[] = {
        { &f_tags, "[]", "[]", 0, NULL },
        { &f_tags, "[\"a\"]", "[\"a\"]", 0, NULL },
        { &f_tags, " [ \"a\" , \"b\" , \"c\" ] ", "[\"a\",\"b\",\"c\"]", 0,
          NULL },
        { &f_tags, "[\"a\",\"a\"]", "[\"a\",\"a\"]", 0, NULL },
        { &f_tags, "[\"a\\\"b\",\"\\u00e9\"]", "[\"a\\\"b\",\"\xc3\xa9\"]", 0,
          NULL },
        { &f_tags, "[\" \"]", "[\" \"]", 0, NULL },
        { &f_tags, "[\"a\",\"b\",\"c\",\"d\"]", NULL, 0, TAGS_TEXT },
        { &f_tags, "[\"\"]", NULL, 0, TAGS_TEXT },
        { &f_tags, "[\"a\",\"\"]", NULL, 0, TAGS_TEXT },
        { &f_tags, "[1]", NULL, 0, TAGS_TEXT },
        { &f_tags, "[\"a\",null]", NULL, 0, TAGS_TEXT },
        { &f_tags, "[[\"a\"]]", NULL, 0, TAGS_TEXT },
        { &f_tags, "[{\"a\":\"b\"}]", NULL, 0, TAGS_TEXT },
        { &f_tags, "[true]", NULL, 0, TAGS_TEXT },
        { &f_tags, "\"a\"", NULL, 0, TAGS_TEXT },
        { &f_tags, "{\"a\":\"b\"}", NULL, 0, TAGS_TEXT },
        { &f_tags, "3", NULL, 0, TAGS_TEXT }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));

    /* 64 characters, not bytes */
    s = repeat("\xc3\xa9", 65);
    snprintf(json, sizeof(json), "[\"%.128s\"]", s);
    snprintf(text, sizeof(text), "[\"%.128s\"]", s);
    expect_v(&f_tags, json, text, 0);
    snprintf(json, sizeof(json), "[\"%s\"]", s);
    free(s);
    expect_v_err(&f_tags, json, TAGS_TEXT);

    s = repeat("t", 65);
    snprintf(json, sizeof(json), "[\"x\",\"%.64s\"]", s);
    snprintf(text, sizeof(text), "[\"x\",\"%.64s\"]", s);
    expect_v(&f_tags, json, text, 0);
    snprintf(json, sizeof(json), "[\"x\",\"%s\"]", s);
    free(s);
    expect_v_err(&f_tags, json, TAGS_TEXT);
}


/* n objects nested in "v": {"a":{"a":...{}}} */
static char *
nested(int n, const char *open, const char *inner, const char *close)
{
    int      i;
    char    *p;
    size_t   len, lo, li, lc;

    lo = strlen(open);
    li = strlen(inner);
    lc = strlen(close);

    p = malloc(n * (lo + lc) + li + 1);
    assert_non_null(p);

    len = 0;
    for (i = 0; i < n; i++) {
        memcpy(p + len, open, lo);
        len += lo;
    }
    memcpy(p + len, inner, li);
    len += li;
    for (i = 0; i < n; i++) {
        memcpy(p + len, close, lc);
        len += lc;
    }
    p[len] = '\0';

    return p;
}


static void
test_fields_object(void **state)
{
    char  *s, *t;

    static const v_case_t  cases[] = {
        { &f_obj, "{}", "{}", 0, NULL },
        { &f_obj, "{ \"a\" : 1 , \"b\" : [ true , null , \"x\" ] ,"
          " \"c\" : { \"d\" : -1.5 } }",
          "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":-1.5}}", 0, NULL },
        { &f_obj, "{\"s\":\"\\u00e9\\n\\\"\"}", "{\"s\":\"\xc3\xa9\\n\\\"\"}",
          0, NULL },
        { &f_obj, "{\"\":\"\"}", "{\"\":\"\"}", 0, NULL },

        /*
         * numbers kept as they read back: cJSON alone prints 15 digits when
         * they read back within an epsilon (found by fuzz/fuzz_body.c)
         */
        { &f_obj, "{\"a\":0.30000000000000004,\"b\":[9007199254740993,"
          "1.7976931348623157e308]}",
          "{\"a\":0.30000000000000004,\"b\":[9007199254740992,"
          "1.7976931348623157e+308]}", 0, NULL },
        { &f_obj, "[]", NULL, 0, OBJ_TEXT },
        { &f_obj, "[{}]", NULL, 0, OBJ_TEXT },
        { &f_obj, "\"{}\"", NULL, 0, OBJ_TEXT },
        { &f_obj, "1", NULL, 0, OBJ_TEXT },
        { &f_obj, "true", NULL, 0, OBJ_TEXT }
    };

    (void) state;

    expect_vs(cases, n_cases(cases));

    /* the field itself is level 1; arrays count too */
    s = nested(15, "{\"a\":", "{}", "}");
    t = nested(15, "{\"a\":", "{}", "}");
    expect_v(&f_obj, s, t, 0);
    free(s);
    free(t);

    s = nested(16, "{\"a\":", "{}", "}");
    expect_v_err(&f_obj, s, "field 'v' is nested deeper than 16 levels");
    free(s);

    s = nested(15, "[", "1", "]");
    t = malloc(strlen(s) + 8);
    assert_non_null(t);
    sprintf(t, "{\"a\":%s}", s);
    expect_v(&f_obj, t, t, 0);
    free(s);
    free(t);

    s = nested(16, "[", "1", "]");
    t = malloc(strlen(s) + 8);
    assert_non_null(t);
    sprintf(t, "{\"a\":%s}", s);
    expect_v_err(&f_obj, t, "field 'v' is nested deeper than 16 levels");
    free(s);
    free(t);

    s = nested(15, "{\"a\":", "[]", "}");
    expect_v(&f_obj, s, s, 0);
    free(s);

    s = nested(16, "{\"a\":", "[]", "}");
    expect_v_err(&f_obj, s, "field 'v' is nested deeper than 16 levels");
    free(s);

    s = nested(900, "{\"a\":", "1", "}");
    expect_v_err(&f_obj, s, "field 'v' is nested deeper than 16 levels");
    free(s);

    /* scalars at the deepest level do not add one */
    s = nested(15, "{\"a\":", "{\"b\":1}", "}");
    expect_v(&f_obj, s, s, 0);
    free(s);
}


/* a table with every kind, as an endpoint would have */
static const ngx_autoscale_field_t  table[] = {
    { "name", STR, 1, 64, NAME, NULL, 1, 0 },
    { "slug", STR, 3, 20, SLUG, NULL, 0, 0 },
    { "type", STR, 1, 32, TYPE, NULL, 1, 0 },
    { "version", STR, 5, 64, SEMVER, NULL, 0, 0 },
    { "note", STR, 0, 200, ANY, NULL, 0, 1 },
    { "workers", INT, 0, 1000, ANY, NULL, 0, 0 },
    { "ratio", NUM, 0, 1, ANY, NULL, 0, 1 },
    { "paused", BOOL, 0, 0, ANY, NULL, 0, 0 },
    { "mode", ENUM, 0, 0, ANY, modes, 0, 1 },
    { "tags", TAGS, 0, 10, ANY, NULL, 0, 0 },
    { "config", OBJ, 0, 0, ANY, NULL, 0, 1 }
};

#define NTABLE  (sizeof(table) / sizeof(table[0]))


static void
test_fields_table(void **state)
{
    int                    rc;
    size_t                 i;
    got_t                 *got;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  out[NTABLE];

    static const char *const  texts[NTABLE] = {
        "Web tier", "web-tier", "web_app", "2.0.1-beta.2+exp.sha.5114f85",
        "caf\xc3\xa9 \"quoted\"", "12", NULL, "false", "safe",
        "[\"prod\",\"eu-west\"]", "{\"limits\":{\"cpu\":0.5,\"mem\":[1,2]}}"
    };

    (void) state;

    got = calloc(NTABLE, sizeof(got_t));
    assert_non_null(got);

    rc = run_fields("{\"config\":{\"limits\":{\"cpu\":0.5,\"mem\":[1,2]}},"
                    "\"tags\":[\"prod\",\"eu-west\"],\"mode\":\"safe\","
                    "\"paused\":false,\"ratio\":null,\"workers\":12.0,"
                    "\"note\":\"caf\\u00e9 \\\"quoted\\\"\","
                    "\"version\":\"2.0.1-beta.2+exp.sha.5114f85\","
                    "\"type\":\"web_app\",\"slug\":\"web-tier\","
                    "\"name\":\"Web tier\"}", table, NTABLE, out, &err);

    for (i = 0; i < NTABLE; i++) {
        take(&out[i], &got[i]);
    }
    ngx_autoscale_body_free(out, NTABLE);

    for (i = 0; i < NTABLE; i++) {
        assert_null(out[i].text);
    }

    assert_int_equal(rc, 0);
    assert_err_untouched(&err);

    for (i = 0; i < NTABLE; i++) {
        assert_int_equal(got[i].present, 1);
        assert_int_equal(got[i].null, texts[i] == NULL);
        assert_string_equal(got[i].text, texts[i] ? texts[i] : "");
    }

    assert_true(got[5].number == 12);
    assert_true(got[6].number == 0);

    free(got);

    /* only the two required ones */
    rc = run_fields("{\"type\":\"t\",\"name\":\"n\"}", table, NTABLE, out,
                    &err);
    assert_int_equal(rc, 0);
    for (i = 0; i < NTABLE; i++) {
        assert_int_equal(out[i].present, i == 0 || i == 2);
        assert_int_equal(out[i].text == NULL, !(i == 0 || i == 2));
    }
    assert_string_equal(out[0].text, "n");
    assert_string_equal(out[2].text, "t");
    ngx_autoscale_body_free(out, NTABLE);
    assert_null(out[0].text);
    assert_null(out[2].text);
}


/* a failure half way leaves what was filled for body_free */
static void
test_fields_free_after_error(void **state)
{
    int                    rc;
    size_t                 i;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  out[NTABLE];

    (void) state;

    rc = run_fields("{\"name\":\"n\",\"type\":\"t\",\"note\":\"x\","
                    "\"tags\":[\"a\"],\"config\":{\"k\":[1]},"
                    "\"workers\":-3}", table, NTABLE, out, &err);
    assert_int_equal(rc, -1);
    assert_err(&err, 400, "InvalidField",
               "field 'workers' must be a whole number from 0 to 1000");
    assert_string_equal(out[0].text, "n");
    assert_string_equal(out[4].text, "x");
    assert_int_equal(out[5].present, 1);
    assert_null(out[5].text);

    ngx_autoscale_body_free(out, NTABLE);
    for (i = 0; i < NTABLE; i++) {
        assert_null(out[i].text);
    }

    /* twice is harmless */
    ngx_autoscale_body_free(out, NTABLE);
    ngx_autoscale_body_free(NULL, 0);
}


/* out of memory while printing TAGS and OBJECT values */
static void
test_fields_oom(void **state)
{
    int                    rc;
    got_t                  got[2];
    size_t                 n;
    cJSON                 *root;
    const char            *json;
    ngx_autoscale_err_t    err;
    ngx_autoscale_value_t  out[2];

    static const ngx_autoscale_field_t  f[] = {
        { "t", TAGS, 0, 5, ANY, NULL, 0, 0 },
        { "o", OBJ, 0, 0, ANY, NULL, 0, 0 }
    };

    (void) state;

    json = "{\"o\":{\"a\":[1,{\"b\":\"c\"}]},\"t\":[\"x\",\"y\"]}";
    root = parse_n(json, strlen(json), &err);
    assert_non_null(root);

    for (n = 0; n < 100; n++) {
        err_init(&err);
        set_alloc_limit(n);
        rc = ngx_autoscale_body_fields(root, f, 2, out, &err);
        cJSON_InitHooks(NULL);
        take(&out[0], &got[0]);
        take(&out[1], &got[1]);
        ngx_autoscale_body_free(out, 2);

        if (rc != 0) {
            assert_int_equal(rc, -1);
            assert_true(alloc_failed > 0);
            assert_err(&err, 500, "InternalError", "out of memory");
            continue;
        }

        assert_int_equal(alloc_failed, 0);
        assert_string_equal(got[0].text, "[\"x\",\"y\"]");
        assert_string_equal(got[1].text, "{\"a\":[1,{\"b\":\"c\"}]}");
        break;
    }

    cJSON_Delete(root);

    assert_true(n >= 2 && n < 100);
}


/* the reference: Unicode's table 3-7 of well-formed byte sequences */
static size_t
wellformed(const unsigned char *s, size_t len)
{
    size_t         n, k;
    unsigned char  lo, hi;

    lo = 0x80;
    hi = 0xbf;

    if (s[0] < 0x80) {
        return 1;
    }

    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
    } else if (s[0] == 0xe0) {
        n = 3;
        lo = 0xa0;
    } else if ((s[0] >= 0xe1 && s[0] <= 0xec) || s[0] == 0xee
               || s[0] == 0xef)
    {
        n = 3;
    } else if (s[0] == 0xed) {
        n = 3;
        hi = 0x9f;
    } else if (s[0] == 0xf0) {
        n = 4;
        lo = 0x90;
    } else if (s[0] >= 0xf1 && s[0] <= 0xf3) {
        n = 4;
    } else if (s[0] == 0xf4) {
        n = 4;
        hi = 0x8f;
    } else {
        return 0;
    }

    if (len < n || s[1] < lo || s[1] > hi) {
        return 0;
    }

    for (k = 2; k < n; k++) {
        if (s[k] < 0x80 || s[k] > 0xbf) {
            return 0;
        }
    }

    return n;
}


static int
ref_utf8(const unsigned char *s, size_t len)
{
    size_t  i, n;

    for (i = 0; i < len; i += n) {
        n = wellformed(s + i, len - i);
        if (n == 0) {
            return 0;
        }
    }

    return 1;
}


/* checks buf[0..len), an allocation of exactly len bytes */
static void
check_utf8(unsigned char *buf, size_t len)
{
    int  got, want;

    got = ngx_autoscale_body_valid_utf8((const char *) buf, len);
    want = ref_utf8(buf, len);

    if (got != want) {
        fail_msg("valid_utf8(%02x %02x %02x %02x / %zu) is %d", buf[0],
                 len > 1 ? buf[1] : 0, len > 2 ? buf[2] : 0,
                 len > 3 ? buf[3] : 0, len, got);
    }
}


static void
test_utf8_exhaustive(void **state)
{
    int             a, b, c, d;
    unsigned char  *one, *two, *three, *four;

    static const unsigned char  edges[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f,
                                            0x90, 0x9f, 0xa0, 0xbf, 0xc0,
                                            0xff };

    (void) state;

    one = malloc(1);
    two = malloc(2);
    three = malloc(3);
    four = malloc(4);
    assert_non_null(one);
    assert_non_null(two);
    assert_non_null(three);
    assert_non_null(four);

    for (a = 0; a < 256; a++) {
        one[0] = (unsigned char) a;
        check_utf8(one, 1);

        for (b = 0; b < 256; b++) {
            two[0] = (unsigned char) a;
            two[1] = (unsigned char) b;
            check_utf8(two, 2);
        }
    }

    /* every 3-byte sequence led by E0..EF */
    for (a = 0xe0; a <= 0xef; a++) {
        for (b = 0; b < 256; b++) {
            for (c = 0; c < 256; c++) {
                three[0] = (unsigned char) a;
                three[1] = (unsigned char) b;
                three[2] = (unsigned char) c;
                check_utf8(three, 3);
            }
        }
    }

    /* 4-byte leads with every second byte and the edges after it */
    for (a = 0xf0; a <= 0xff; a++) {
        for (b = 0; b < 256; b++) {
            for (c = 0; c < (int) sizeof(edges); c++) {
                for (d = 0; d < (int) sizeof(edges); d++) {
                    four[0] = (unsigned char) a;
                    four[1] = (unsigned char) b;
                    four[2] = edges[c];
                    four[3] = edges[d];
                    check_utf8(four, 4);
                    memcpy(three, four, 3);
                    check_utf8(three, 3);
                }
            }
        }
    }

    free(one);
    free(two);
    free(three);
    free(four);
}


#define expect_utf8(s, len, valid)                                            \
    expect_valid(ngx_autoscale_body_valid_utf8, "valid_utf8", s, len, valid)


static void
test_utf8_cases(void **state)
{
    (void) state;

    assert_int_equal(ngx_autoscale_body_valid_utf8(NULL, 0), 1);
    expect_utf8("", 0, 1);
    expect_utf8("plain ascii", 11, 1);
    expect_utf8("\0\x01\x7f", 3, 1);
    expect_utf8("caf\xc3\xa9", 5, 1);
    expect_utf8("caf\xc3\xa9", 4, 0);
    expect_utf8("\xe2\x82\xac", 3, 1);
    expect_utf8("\xf0\x9f\x98\x80", 4, 1);
    expect_utf8("\xf4\x8f\xbf\xbf", 4, 1);
    expect_utf8("\xef\xbb\xbf", 3, 1);

    expect_utf8("\xc0\x80", 2, 0);
    expect_utf8("\xc1\xbf", 2, 0);
    expect_utf8("\xe0\x9f\xbf", 3, 0);
    expect_utf8("\xf0\x8f\xbf\xbf", 4, 0);
    expect_utf8("\xed\xa0\x80", 3, 0);
    expect_utf8("\xed\xbf\xbf", 3, 0);
    expect_utf8("\xf4\x90\x80\x80", 4, 0);
    expect_utf8("\xf5\x80\x80\x80", 4, 0);
    expect_utf8("\xf8\x88\x80\x80\x80", 5, 0);
    expect_utf8("\xfc\x84\x80\x80\x80\x80", 6, 0);

    /* a broken sequence in the middle */
    expect_utf8("ab\xe2\x82" "cd", 6, 0);
    expect_utf8("ab\xe2\x82\xac" "cd", 7, 1);
    expect_utf8("ab\x80" "cd", 5, 0);
    expect_utf8("\xc3\xa9\xc3", 3, 0);
}


static void
expect_semver(const char *s, int valid)
{
    int  rc;

    rc = ngx_autoscale_body_valid_semver(s);

    if (rc != valid) {
        fail_msg("valid_semver(\"%s\") is %d", s, rc);
    }
}


static void
test_semver(void **state)
{
    (void) state;

    /* from semver.org */
    expect_semver("0.0.0", 1);
    expect_semver("1.0.0", 1);
    expect_semver("10.20.30", 1);
    expect_semver("1.1.2-prerelease+meta", 1);
    expect_semver("1.1.2+meta", 1);
    expect_semver("1.1.2+meta-valid", 1);
    expect_semver("1.0.0-alpha", 1);
    expect_semver("1.0.0-beta", 1);
    expect_semver("1.0.0-alpha.beta", 1);
    expect_semver("1.0.0-alpha.beta.1", 1);
    expect_semver("1.0.0-alpha.1", 1);
    expect_semver("1.0.0-alpha0.valid", 1);
    expect_semver("1.0.0-alpha.0valid", 1);
    expect_semver("1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
                  1);
    expect_semver("1.0.0-rc.1+build.1", 1);
    expect_semver("2.0.0-rc.1+build.123", 1);
    expect_semver("1.2.3-beta", 1);
    expect_semver("10.2.3-DEV-SNAPSHOT", 1);
    expect_semver("1.2.3-SNAPSHOT-123", 1);
    expect_semver("2.0.0+build.1848", 1);
    expect_semver("2.0.1-alpha.1227", 1);
    expect_semver("1.0.0-alpha+beta", 1);
    expect_semver("1.2.3----RC-SNAPSHOT.12.9.1--.12+788", 1);
    expect_semver("1.2.3----R-S.12.9.1--.12+meta", 1);
    expect_semver("1.2.3----RC-SNAPSHOT.12.9.1--.12", 1);
    expect_semver("1.0.0+0.build.1-rc.10000aaa-kk-0.1", 1);
    expect_semver("99999999999999999999999.999999999999999999.99999999999999999",
                  1);
    expect_semver("1.0.0-0A.is.legal", 1);
    expect_semver("1.0.0-a-", 1);

    expect_semver("", 0);
    expect_semver("1", 0);
    expect_semver("1.2", 0);
    expect_semver("1.2.3.4", 0);
    expect_semver("1.2.3-", 0);
    expect_semver("1.2.3+", 0);
    expect_semver("1.2.3-+", 0);
    expect_semver("1.2.3-+123", 0);
    expect_semver("1.2.3-.", 0);
    expect_semver("1.2.3-a.", 0);
    expect_semver("1.2.3+a.", 0);
    expect_semver("1.2.3-a+b.", 0);
    expect_semver("+invalid", 0);
    expect_semver("-invalid", 0);
    expect_semver("-invalid+invalid", 0);
    expect_semver("-invalid.01", 0);
    expect_semver("alpha", 0);
    expect_semver("alpha.beta", 0);
    expect_semver("alpha.1", 0);
    expect_semver("1.0.0-alpha_beta", 0);
    expect_semver("1.2.3.DEV", 0);
    expect_semver("1.2-SNAPSHOT", 0);
    expect_semver("1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788", 0);
    expect_semver("1.0.0-alpha+beta+gamma", 0);
    expect_semver("1.0.0+beta-gamma+delta", 0);
    expect_semver("1.0.0+a_b", 0);

    /* leading zeros in the three numbers */
    expect_semver("01.1.1", 0);
    expect_semver("1.01.1", 0);
    expect_semver("1.1.01", 0);
    expect_semver("00.0.0", 0);
    expect_semver("0.00.0", 0);
    expect_semver("0.0.00", 0);
    expect_semver("10.0.0", 1);
    expect_semver("1.10.100", 1);

    /* shape */
    expect_semver("v1.2.3", 0);
    expect_semver("V1.2.3", 0);
    expect_semver(" 1.2.3", 0);
    expect_semver("1.2.3 ", 0);
    expect_semver("1 .2.3", 0);
    expect_semver("1..3", 0);
    expect_semver("1.2.", 0);
    expect_semver(".1.2.3", 0);
    expect_semver("1.2.3.", 0);
    expect_semver("-1.2.3", 0);
    expect_semver("+1.2.3", 0);
    expect_semver("1.-2.3", 0);
    expect_semver("1.2.3-a b", 0);
    expect_semver("1.2.3-\xc3\xa9", 0);
    expect_semver("1.2.3+\xc3\xa9", 0);
    expect_semver("1.2.3-a\n", 0);
    expect_semver("\xd9\xa1.2.3", 0);
    expect_semver("1.2.3a", 0);
    expect_semver("1.2.3~", 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_empty),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_utf8),
        cmocka_unit_test(test_parse_nul_escape),
        cmocka_unit_test(test_parse_syntax),
        cmocka_unit_test(test_parse_trailing),
        cmocka_unit_test(test_parse_root),
        cmocka_unit_test(test_parse_duplicates),
        cmocka_unit_test(test_parse_many_keys),
        cmocka_unit_test(test_parse_deep),
        cmocka_unit_test(test_fields_none),
        cmocka_unit_test(test_fields_unknown),
        cmocka_unit_test(test_fields_missing),
        cmocka_unit_test(test_fields_null),
        cmocka_unit_test(test_fields_string_name),
        cmocka_unit_test(test_fields_string_slug_type),
        cmocka_unit_test(test_fields_string_semver),
        cmocka_unit_test(test_fields_string_any),
        cmocka_unit_test(test_fields_string_every_byte),
        cmocka_unit_test(test_fields_int),
        cmocka_unit_test(test_fields_number),
        cmocka_unit_test(test_fields_bool),
        cmocka_unit_test(test_fields_enum),
        cmocka_unit_test(test_fields_tags),
        cmocka_unit_test(test_fields_object),
        cmocka_unit_test(test_fields_table),
        cmocka_unit_test(test_fields_free_after_error),
        cmocka_unit_test(test_fields_oom),
        cmocka_unit_test(test_utf8_exhaustive),
        cmocka_unit_test(test_utf8_cases),
        cmocka_unit_test(test_semver),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
