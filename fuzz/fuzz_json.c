
/*
 * The JSON writer, round trip: rows written from fuzzed column values,
 * printed, parsed back with cJSON and compared with what each value must
 * become.  The first byte picks an endpoint's column table, or columns
 * named and typed by the input.  Values are separated by NUL bytes; one
 * that starts with 0xff is SQL NULL.  Valid UTF-8 in, the document must
 * also pass the strict body parser.
 */


#include "fuzz.h"
#include "ngx_autoscale_body.h"
#include "ngx_autoscale_json.h"
#include "tables.h"


#define FUZZ_COLS_MAX  32


static void fuzz_column(const ngx_autoscale_col_t *col, const char *value,
    const cJSON *item);
static int fuzz_strict_number(const char *value, double *number);
static void fuzz_error(int status, const char *code, const char *text);
static void fuzz_strict(const char *text);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   utf8, own;
    char                 *copy, *p, *end, *piece[2 * FUZZ_COLS_MAX], *text;
    size_t                i, n, t, npieces;
    cJSON                *row, *back, *item;
    const char           *values[FUZZ_COLS_MAX];
    ngx_autoscale_col_t   cols[FUZZ_COLS_MAX];

    if (size == 0) {
        return 0;
    }

    /* the pieces, NUL-terminated in one copy */
    copy = fuzz_string(data + 1, size - 1);
    end = copy + size - 1;
    npieces = 0;

    for (p = copy; p <= end && npieces < 2 * FUZZ_COLS_MAX; p++) {
        piece[npieces++] = p;
        p += strlen(p);
    }

    t = data[0] % (FUZZ_NCOL_TABLES + 1);
    own = (t == FUZZ_NCOL_TABLES);
    n = 0;

    if (own) {
        /* a type byte and a name, then the value */
        for (i = 0; i + 1 < npieces && n < FUZZ_COLS_MAX; i += 2) {
            cols[n].type = (ngx_autoscale_col_type_e)
                           ((unsigned char) piece[i][0] % 6 + 1);
            cols[n].name = piece[i][0] ? piece[i] + 1 : piece[i];
            values[n++] = piece[i + 1];
        }

    } else {
        n = fuzz_col_tables[t].n;
        n = n < FUZZ_COLS_MAX ? n : FUZZ_COLS_MAX;
        memcpy(cols, fuzz_col_tables[t].table,
               n * sizeof(ngx_autoscale_col_t));

        for (i = 0; i < n; i++) {
            values[i] = i < npieces ? piece[i] : NULL;
        }
    }

    utf8 = 1;

    for (i = 0; i < n; i++) {
        if (values[i] && (unsigned char) values[i][0] == 0xff) {
            values[i] = NULL;
        }

        utf8 = utf8 && ngx_autoscale_body_valid_utf8(cols[i].name,
                                                     strlen(cols[i].name))
               && (values[i] == NULL
                   || ngx_autoscale_body_valid_utf8(values[i],
                                                    strlen(values[i])));
    }

    row = ngx_autoscale_json_row(cols, n, values);
    fuzz_assert(row != NULL);

    text = cJSON_PrintUnformatted(row);
    fuzz_assert(text != NULL);

    /* what the writer printed is JSON, with a member a column */
    back = cJSON_Parse(text);
    fuzz_assert(back != NULL && cJSON_IsObject(back));

    item = back->child;
    for (i = 0; i < n; i++) {
        fuzz_assert(item != NULL);
        fuzz_assert(strcmp(item->string, cols[i].name) == 0);
        fuzz_column(&cols[i], values[i], item);
        item = item->next;
    }

    fuzz_assert(item == NULL);

    if (utf8) {
        fuzz_strict(text);
    }

    fuzz_error(400 + data[0], n ? cols[0].name : "",
               n && values[0] ? values[0] : "");

    free(text);
    cJSON_Delete(back);
    cJSON_Delete(row);
    free(copy);

    return 0;
}


static void
fuzz_column(const ngx_autoscale_col_t *col, const char *value,
    const cJSON *item)
{
    size_t   len;
    double   number;
    cJSON   *parsed;

    if (value == NULL) {
        fuzz_assert(cJSON_IsNull(item));
        return;
    }

    switch (col->type) {

    case NGX_AUTOSCALE_COL_INT:
    case NGX_AUTOSCALE_COL_FLOAT:
        if (cJSON_IsNull(item)) {
            /* a JSON number must not become null, save a non-integer */
            fuzz_assert(!fuzz_strict_number(value, &number)
                        || (col->type == NGX_AUTOSCALE_COL_INT
                            && (strpbrk(value, ".eE") != NULL
                                || strlen(value) > 19)));
            break;
        }

        fuzz_assert(cJSON_IsNumber(item));
        fuzz_assert(fuzz_strict_number(value, &number));
        fuzz_assert(item->valuedouble == number
                    || (isnan(number) && isnan(item->valuedouble)));

        if (col->type == NGX_AUTOSCALE_COL_INT) {
            fuzz_assert(strspn(value, "-0123456789") == strlen(value));
        }

        break;

    case NGX_AUTOSCALE_COL_BOOL:
        fuzz_assert(cJSON_IsBool(item));
        fuzz_assert(!cJSON_IsTrue(item) == (value[0] != 't'));
        break;

    case NGX_AUTOSCALE_COL_TIME:
        if (cJSON_IsNull(item)) {
            break;
        }

        /* the same digits, 'T' between date and time, 'Z' at the end */
        fuzz_assert(cJSON_IsString(item));
        len = strlen(item->valuestring);
        fuzz_assert(len >= 20 && len - 1 <= strlen(value));
        fuzz_assert(item->valuestring[10] == 'T');
        fuzz_assert(item->valuestring[len - 1] == 'Z');
        fuzz_assert(memcmp(item->valuestring, value, 10) == 0);
        fuzz_assert(memcmp(item->valuestring + 11, value + 11, len - 12)
                    == 0);
        fuzz_assert(strcmp(value + len - 1, "") == 0
                    || strcmp(value + len - 1, "+00") == 0);
        break;

    case NGX_AUTOSCALE_COL_JSON:
        parsed = cJSON_ParseWithOpts(value, NULL, 1);

        if (parsed == NULL) {
            fuzz_assert(cJSON_IsNull(item));
            break;
        }

        fuzz_assert(fuzz_same(parsed, item, FUZZ_NONFINITE_NULL));
        cJSON_Delete(parsed);
        break;

    default:
        fuzz_assert(cJSON_IsString(item));
        fuzz_assert(strcmp(item->valuestring, value) == 0);
    }
}


/* value is one JSON number token, by the strict parser; its value */
static int
fuzz_strict_number(const char *value, double *number)
{
    int                   rc;
    char                 *doc;
    size_t                len;
    cJSON                *root;
    ngx_autoscale_err_t   err;

    if (value[strcspn(value, " \t\r\n")] != '\0') {
        return 0;
    }

    len = strlen(value) + 6;
    doc = malloc(len + 1);
    fuzz_assert(doc != NULL);
    snprintf(doc, len + 1, "{\"v\":%s}", value);

    err_init(&err);
    root = ngx_autoscale_body_parse(doc, len, &err);
    free(doc);

    rc = root != NULL && cJSON_GetArraySize(root) == 1
         && cJSON_IsNumber(root->child);

    if (rc) {
        *number = root->child->valuedouble;
    }

    cJSON_Delete(root);

    return rc;
}


/* the SPEC's error shape, whatever the code and the sentence */
static void
fuzz_error(int status, const char *code, const char *text)
{
    char   *printed;
    cJSON  *doc, *back, *err;

    doc = ngx_autoscale_json_error(status, code, text);
    fuzz_assert(doc != NULL);

    printed = cJSON_PrintUnformatted(doc);
    fuzz_assert(printed != NULL);

    back = cJSON_Parse(printed);
    fuzz_assert(back != NULL && cJSON_GetArraySize(back) == 1);

    err = cJSON_GetObjectItemCaseSensitive(back, "error");
    fuzz_assert(cJSON_GetArraySize(err) == 3);
    fuzz_assert(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                                         err, "status")) == status);
    fuzz_assert(strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                                err, "code")), code) == 0);
    fuzz_assert(strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                                err, "text")), text) == 0);

    cJSON_Delete(back);
    cJSON_Delete(doc);
    free(printed);
}


/* the printed row passes the API's own strict parser */
static void
fuzz_strict(const char *text)
{
    cJSON                *root;
    ngx_autoscale_err_t   err;

    if (strlen(text) > NGX_AUTOSCALE_BODY_MAX) {
        return;
    }

    err_init(&err);
    root = ngx_autoscale_body_parse(text, strlen(text), &err);

    if (root == NULL) {
        /* a row may repeat a name, and json a key: both are valid JSON */
        fuzz_assert(strstr(err.text, "given twice") != NULL);
        return;
    }

    cJSON_Delete(root);
}
