
/*
 * The request body parser and the endpoints' field tables: the first byte
 * picks a table, the rest is the body.  An accepted body must print and
 * parse back strictly to the same document; accepted fields must hold
 * what their table allows; a refusal must be a whole client error.
 */


#include "fuzz.h"
#include "ngx_autoscale_body.h"
#include "ngx_autoscale_json.h"
#include "tables.h"


static void fuzz_roundtrip(const cJSON *root);
static void fuzz_value(const cJSON *root, const ngx_autoscale_field_t *f,
    const ngx_autoscale_value_t *v);
static int fuzz_choice(const ngx_autoscale_field_t *f, const char *s);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                           rc;
    char                         *buf;
    size_t                        i, n;
    cJSON                        *root;
    ngx_autoscale_err_t           err;
    ngx_autoscale_value_t        *values;
    const ngx_autoscale_field_t  *fields;

    if (size == 0) {
        return 0;
    }

    fields = fuzz_field_tables[data[0] % FUZZ_NFIELD_TABLES].table;
    n = fuzz_field_tables[data[0] % FUZZ_NFIELD_TABLES].n;

    buf = fuzz_exact(data + 1, size - 1);

    err_init(&err);
    root = ngx_autoscale_body_parse(buf, size - 1, &err);
    free(buf);

    if (root == NULL) {
        fuzz_assert_err(&err, 400, 413, 500);
    } else {
        fuzz_assert(cJSON_IsObject(root));
        fuzz_roundtrip(root);
    }

    values = malloc(n * sizeof(ngx_autoscale_value_t));
    fuzz_assert(values != NULL);
    memset(values, 0x5a, n * sizeof(ngx_autoscale_value_t));

    /* a refused body is checked as none: the required fields are missed */
    err_init(&err);
    rc = ngx_autoscale_body_fields(root, fields, n, values, &err);

    if (rc == 0) {
        for (i = 0; i < n; i++) {
            fuzz_value(root, &fields[i], &values[i]);
        }

    } else {
        fuzz_assert(rc == -1);
        fuzz_assert_err(&err, 400, 500, 400);
    }

    ngx_autoscale_body_free(values, n);

    for (i = 0; i < n; i++) {
        fuzz_assert(values[i].text == NULL);
    }

    free(values);
    cJSON_Delete(root);

    return 0;
}


/*
 * what was accepted prints, as the fields print objects, as strict JSON
 * that reads back the same
 */
static void
fuzz_roundtrip(const cJSON *root)
{
    char                 *text;
    cJSON                *back, *copy;
    ngx_autoscale_err_t   err;

    copy = ngx_autoscale_json_exact(cJSON_Duplicate(root, 1));
    fuzz_assert(copy != NULL);
    text = cJSON_PrintUnformatted(copy);
    fuzz_assert(text != NULL);
    cJSON_Delete(copy);

    /* escapes grow a body: only what still fits must be accepted */
    if (strlen(text) <= NGX_AUTOSCALE_BODY_MAX) {
        err_init(&err);
        back = ngx_autoscale_body_parse(text, strlen(text), &err);

        if (back == NULL) {
            fprintf(stderr, "printed body refused: %s\n", err.text);
        }

        fuzz_assert(back != NULL);
        fuzz_assert(fuzz_same(root, back, FUZZ_NONFINITE_NULL));
        cJSON_Delete(back);
    }

    free(text);
}


static void
fuzz_value(const cJSON *root, const ngx_autoscale_field_t *f,
    const ngx_autoscale_value_t *v)
{
    char          *end;
    cJSON         *printed;
    const cJSON   *item;

    item = root ? cJSON_GetObjectItemCaseSensitive(root, f->name) : NULL;

    if (!v->present) {
        fuzz_assert(item == NULL && !f->required && v->text == NULL);
        return;
    }

    fuzz_assert(item != NULL);

    if (v->text == NULL) {
        fuzz_assert(cJSON_IsNull(item) && f->nullable);
        return;
    }

    switch (f->kind) {

    case NGX_AUTOSCALE_FIELD_STRING:
        fuzz_assert(cJSON_IsString(item));
        fuzz_assert(strcmp(v->text, item->valuestring) == 0);
        fuzz_assert(ngx_autoscale_body_valid_utf8(v->text, strlen(v->text)));

        if (f->chars == NGX_AUTOSCALE_CHARS_SEMVER) {
            fuzz_assert(ngx_autoscale_body_valid_semver(v->text));
        }

        if (f->chars == NGX_AUTOSCALE_CHARS_SLUG) {
            fuzz_assert(strspn(v->text, "abcdefghijklmnopqrstuvwxyz"
                                        "0123456789-") == strlen(v->text));
        }

        break;

    case NGX_AUTOSCALE_FIELD_INT:
    case NGX_AUTOSCALE_FIELD_NUMBER:
        fuzz_assert(isfinite(v->number));
        fuzz_assert(v->number >= f->min && v->number <= f->max);
        fuzz_assert(v->number == item->valuedouble);
        fuzz_assert(strtod(v->text, &end) == v->number && *end == '\0');

        if (f->kind == NGX_AUTOSCALE_FIELD_INT) {
            fuzz_assert(v->number == floor(v->number));
            fuzz_assert(strspn(v->text, "-0123456789") == strlen(v->text));
            fuzz_assert(strcmp(v->text, "-0") != 0);
        }

        break;

    case NGX_AUTOSCALE_FIELD_BOOL:
        fuzz_assert(strcmp(v->text, cJSON_IsTrue(item) ? "true" : "false")
                    == 0);
        break;

    case NGX_AUTOSCALE_FIELD_ENUM:
        fuzz_assert(fuzz_choice(f, v->text));
        break;

    default: /* TAGS and OBJECT: kept as JSON */
        printed = cJSON_Parse(v->text);
        fuzz_assert(printed != NULL);
        fuzz_assert(fuzz_same(item, printed, 0));
        fuzz_assert(f->kind == NGX_AUTOSCALE_FIELD_TAGS
                    ? cJSON_GetArraySize(printed) <= f->max
                    : cJSON_IsObject(printed));
        cJSON_Delete(printed);
    }
}


static int
fuzz_choice(const ngx_autoscale_field_t *f, const char *s)
{
    size_t  i;

    for (i = 0; f->choices[i]; i++) {
        if (strcmp(f->choices[i], s) == 0) {
            return 1;
        }
    }

    return 0;
}
