
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_autoscale_body.h"
#include "ngx_autoscale_json.h"


static int ngx_autoscale_body_nul_escape(const char *s, size_t len);
static long ngx_autoscale_body_strict(const char *s, size_t len);
static int ngx_autoscale_body_finite(const cJSON *item);
static int ngx_autoscale_body_duplicates(const cJSON *item, int depth,
    const char **dup);
static int ngx_autoscale_body_name_cmp(const void *a, const void *b);
static int ngx_autoscale_body_depth(const cJSON *item);
static int ngx_autoscale_body_field(const cJSON *item,
    const ngx_autoscale_field_t *f, ngx_autoscale_value_t *v,
    ngx_autoscale_err_t *err);
static int ngx_autoscale_body_enum(const cJSON *item,
    const ngx_autoscale_field_t *f, ngx_autoscale_value_t *v,
    ngx_autoscale_err_t *err);
static int ngx_autoscale_body_tags(const cJSON *item,
    const ngx_autoscale_field_t *f, ngx_autoscale_value_t *v,
    ngx_autoscale_err_t *err);
static int ngx_autoscale_body_object(const cJSON *item,
    const ngx_autoscale_field_t *f, ngx_autoscale_value_t *v,
    ngx_autoscale_err_t *err);
static const char *ngx_autoscale_body_chars_name(
    const ngx_autoscale_field_t *f);
static int ngx_autoscale_body_string_ok(const char *s,
    const ngx_autoscale_field_t *f);
static size_t ngx_autoscale_body_utf8_chars(const char *s);
static char *ngx_autoscale_body_strdup(const char *s);
static int ngx_autoscale_body_safe_name(const char *s);
static const char *ngx_autoscale_body_semver_ids(const char *s, int prerelease);


cJSON *
ngx_autoscale_body_parse(const char *buf, size_t len,
    ngx_autoscale_err_t *err)
{
    cJSON       *root;
    long         at;
    const char  *end, *dup;

    if (len == 0) {
        ngx_autoscale_route_set_err(err, 400, "InvalidJson",
                                    "the request body is empty: a JSON object "
                                    "is expected");
        return NULL;
    }

    if (len > NGX_AUTOSCALE_BODY_MAX) {
        ngx_autoscale_route_set_err(err, 413, "BodyTooLarge",
                                    "the request body is larger than %d bytes",
                                    NGX_AUTOSCALE_BODY_MAX);
        return NULL;
    }

    if (memchr(buf, '\0', len) != NULL
        || !ngx_autoscale_body_valid_utf8(buf, len))
    {
        ngx_autoscale_route_set_err(err, 400, "InvalidJson",
                                    "the request body is not valid UTF-8");
        return NULL;
    }

    /* cJSON would cut a string at an escaped NUL without a word */
    if (ngx_autoscale_body_nul_escape(buf, len)) {
        ngx_autoscale_route_set_err(err, 400, "InvalidJson",
                                    "strings must not contain \\u0000");
        return NULL;
    }

    end = NULL;
    root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);

    if (root == NULL) {
        ngx_autoscale_route_set_err(err, 400, "InvalidJson",
                                    "the request body is not valid JSON "
                                    "(at byte %ld)",
                                    end ? (long) (end - buf) : 0L);
        return NULL;
    }

    /* only white space may follow the value */
    while (end < buf + len
           && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
    {
        end++;
    }

    if (end != buf + len) {
        cJSON_Delete(root);
        ngx_autoscale_route_set_err(err, 400, "InvalidJson",
                                    "the request body is not valid JSON "
                                    "(at byte %ld)", (long) (end - buf));
        return NULL;
    }

    /* what cJSON lets through but JSON does not have */
    at = ngx_autoscale_body_strict(buf, len);
    if (at >= 0) {
        cJSON_Delete(root);
        ngx_autoscale_route_set_err(err, 400, "InvalidJson",
                                    "the request body is not valid JSON "
                                    "(at byte %ld)", at);
        return NULL;
    }

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        ngx_autoscale_route_set_err(err, 400, "InvalidJson",
                                    "the request body must be a JSON object");
        return NULL;
    }

    dup = NULL;

    switch (ngx_autoscale_body_duplicates(root, 0, &dup)) {

    case 0:
        return root;

    case 1:
        if (ngx_autoscale_body_safe_name(dup)) {
            ngx_autoscale_route_set_err(err, 400, "InvalidJson",
                                        "key '%s' is given twice", dup);
        } else {
            ngx_autoscale_route_set_err(err, 400, "InvalidJson",
                                        "a key is given twice");
        }
        break;

    default:
        ngx_autoscale_route_set_err(err, 500, "InternalError", "out of memory");
    }

    cJSON_Delete(root);
    return NULL;
}


int
ngx_autoscale_body_fields(const cJSON *root,
    const ngx_autoscale_field_t *fields, size_t n,
    ngx_autoscale_value_t *out, ngx_autoscale_err_t *err)
{
    size_t        i;
    const cJSON  *item;

    memset(out, 0, n * sizeof(ngx_autoscale_value_t));

    for (item = root ? root->child : NULL; item; item = item->next) {
        for (i = 0; i < n; i++) {
            if (strcmp(fields[i].name, item->string) == 0) {
                break;
            }
        }

        if (i == n) {
            if (ngx_autoscale_body_safe_name(item->string)) {
                ngx_autoscale_route_set_err(err, 400, "UnknownField",
                                            "unknown field '%s'", item->string);
            } else {
                ngx_autoscale_route_set_err(err, 400, "UnknownField",
                                            "unknown field");
            }
            return -1;
        }
    }

    for (i = 0; i < n; i++) {
        item = root ? cJSON_GetObjectItemCaseSensitive(root, fields[i].name)
                    : NULL;

        if (item == NULL) {
            if (fields[i].required) {
                ngx_autoscale_route_set_err(err, 400, "MissingField",
                                            "field '%s' is required",
                                            fields[i].name);
                return -1;
            }
            continue;
        }

        if (ngx_autoscale_body_field(item, &fields[i], &out[i], err) != 0) {
            return -1;
        }
    }

    return 0;
}


void
ngx_autoscale_body_free(ngx_autoscale_value_t *values, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(values[i].text);
        values[i].text = NULL;
    }
}


static int
ngx_autoscale_body_field(const cJSON *item, const ngx_autoscale_field_t *f,
    ngx_autoscale_value_t *v, ngx_autoscale_err_t *err)
{
    char  buf[64];

    v->present = 1;

    if (cJSON_IsNull(item)) {
        if (f->nullable) {
            return 0;
        }

        ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                    "field '%s' must not be null", f->name);
        return -1;
    }

    switch (f->kind) {

    case NGX_AUTOSCALE_FIELD_STRING:
        if (!cJSON_IsString(item) || !ngx_autoscale_body_string_ok(
                                                      item->valuestring, f))
        {
            ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                        "field '%s' must be a string of %.0f "
                                        "to %.0f %s", f->name, f->min, f->max,
                                        ngx_autoscale_body_chars_name(f));
            return -1;
        }

        v->text = ngx_autoscale_body_strdup(item->valuestring);
        break;

    case NGX_AUTOSCALE_FIELD_ENUM:
        if (ngx_autoscale_body_enum(item, f, v, err) != 0) {
            return -1;
        }
        break;

    case NGX_AUTOSCALE_FIELD_INT:
        if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)
            || item->valuedouble != floor(item->valuedouble)
            || item->valuedouble < f->min || item->valuedouble > f->max)
        {
            ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                        "field '%s' must be a whole number "
                                        "from %.0f to %.0f",
                                        f->name, f->min, f->max);
            return -1;
        }

        v->number = item->valuedouble;
        /* -0 is 0 */
        snprintf(buf, sizeof(buf), "%.0f", item->valuedouble + 0.0);
        v->text = ngx_autoscale_body_strdup(buf);
        break;

    case NGX_AUTOSCALE_FIELD_NUMBER:
        if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)
            || item->valuedouble < f->min || item->valuedouble > f->max)
        {
            ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                        "field '%s' must be a number from %g "
                                        "to %g", f->name, f->min, f->max);
            return -1;
        }

        v->number = item->valuedouble;
        snprintf(buf, sizeof(buf), "%.17g", item->valuedouble);
        v->text = ngx_autoscale_body_strdup(buf);
        break;

    case NGX_AUTOSCALE_FIELD_BOOL:
        if (!cJSON_IsBool(item)) {
            ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                        "field '%s' must be true or false",
                                        f->name);
            return -1;
        }

        v->text = ngx_autoscale_body_strdup(cJSON_IsTrue(item) ? "true"
                                                               : "false");
        break;

    case NGX_AUTOSCALE_FIELD_TAGS:
        if (ngx_autoscale_body_tags(item, f, v, err) != 0) {
            return -1;
        }
        break;

    default: /* NGX_AUTOSCALE_FIELD_OBJECT */
        if (ngx_autoscale_body_object(item, f, v, err) != 0) {
            return -1;
        }
        break;
    }

    if (v->text == NULL) {
        ngx_autoscale_route_set_err(err, 500, "InternalError", "out of memory");
        return -1;
    }

    return 0;
}



/* one of the field's choices; the error lists them */

static int
ngx_autoscale_body_enum(const cJSON *item, const ngx_autoscale_field_t *f,
    ngx_autoscale_value_t *v, ngx_autoscale_err_t *err)
{
    char    buf[64];
    size_t  i, len;

    for (i = 0; cJSON_IsString(item) && f->choices[i]; i++) {
        if (strcmp(item->valuestring, f->choices[i]) == 0) {
            v->text = ngx_autoscale_body_strdup(item->valuestring);
            return 0;
        }
    }

    len = 0;
    buf[0] = '\0';
    for (i = 0; f->choices[i] && len < sizeof(buf); i++) {
        len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
                        i ? ", " : "", f->choices[i]);
    }

    ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                "field '%s' must be one of: %s",
                                f->name, buf);
    return -1;
}


/* an array of at most f->max non-empty strings, stored as JSON */

static int
ngx_autoscale_body_tags(const cJSON *item, const ngx_autoscale_field_t *f,
    ngx_autoscale_value_t *v, ngx_autoscale_err_t *err)
{
    size_t        count;
    const cJSON  *tag;

    count = 0;
    tag = NULL;

    if (cJSON_IsArray(item)) {
        for (tag = item->child; tag; tag = tag->next) {
            if (!cJSON_IsString(tag)
                || tag->valuestring[0] == '\0'
                || ngx_autoscale_body_utf8_chars(tag->valuestring) > 64)
            {
                break;
            }
            count++;
        }
    }

    if (!cJSON_IsArray(item) || tag != NULL || count > f->max) {
        ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                    "field '%s' must be an array of at "
                                    "most %.0f strings of 1 to 64 "
                                    "characters",
                                    f->name, f->max);
        return -1;
    }

    v->text = cJSON_PrintUnformatted(item);
    return 0;
}


/* a JSON object of finite numbers, nested no deeper than the limit */

static int
ngx_autoscale_body_object(const cJSON *item, const ngx_autoscale_field_t *f,
    ngx_autoscale_value_t *v, ngx_autoscale_err_t *err)
{
    cJSON  *copy;

    if (!cJSON_IsObject(item)) {
        ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                    "field '%s' must be a JSON object",
                                    f->name);
        return -1;
    }

    if (!ngx_autoscale_body_finite(item)) {
        ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                    "field '%s' holds a number out of "
                                    "range", f->name);
        return -1;
    }

    if (ngx_autoscale_body_depth(item) > NGX_AUTOSCALE_OBJECT_DEPTH) {
        ngx_autoscale_route_set_err(err, 400, "InvalidField",
                                    "field '%s' is nested deeper than %d "
                                    "levels", f->name,
                                    NGX_AUTOSCALE_OBJECT_DEPTH);
        return -1;
    }

    /* printed from a copy whose numbers read back exactly */
    copy = ngx_autoscale_json_exact(cJSON_Duplicate(item, 1));
    v->text = copy ? cJSON_PrintUnformatted(copy) : NULL;
    cJSON_Delete(copy);

    return 0;
}

/* what a string field's characters must be, for its error */
static const char *
ngx_autoscale_body_chars_name(const ngx_autoscale_field_t *f)
{
    switch (f->chars) {
    case NGX_AUTOSCALE_CHARS_NAME:
        return "letters, digits, spaces, '-' or '_'";
    case NGX_AUTOSCALE_CHARS_SLUG:
        return "lowercase letters, digits or '-'";
    case NGX_AUTOSCALE_CHARS_TYPE:
        return "lowercase letters, digits, '-' or '_'";
    case NGX_AUTOSCALE_CHARS_SEMVER:
        return "characters, a semantic version";
    default:
        return "characters, without control characters";
    }
}


static int
ngx_autoscale_body_string_ok(const char *s, const ngx_autoscale_field_t *f)
{
    size_t          chars;
    const unsigned char  *p;

    chars = ngx_autoscale_body_utf8_chars(s);

    if (chars < f->min || chars > f->max) {
        return 0;
    }

    if (f->chars == NGX_AUTOSCALE_CHARS_SEMVER) {
        return ngx_autoscale_body_valid_semver(s);
    }

    for (p = (const unsigned char *) s; *p; p++) {
        switch (f->chars) {

        case NGX_AUTOSCALE_CHARS_NAME:
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || *p == ' ' || *p == '-'
                  || *p == '_'))
            {
                return 0;
            }
            break;

        case NGX_AUTOSCALE_CHARS_SLUG:
        case NGX_AUTOSCALE_CHARS_TYPE:
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
                  || *p == '-'
                  || (*p == '_' && f->chars == NGX_AUTOSCALE_CHARS_TYPE)))
            {
                return 0;
            }
            break;

        default:
            /* C0, DEL, and C1 (U+0080..U+009F, UTF-8 C2 80..C2 9F) */
            if (*p < 0x20 || *p == 0x7f
                || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            {
                return 0;
            }
        }
    }

    return 1;
}


/* MAJOR.MINOR.PATCH with optional -prerelease and +build, as semver 2.0 */
int
ngx_autoscale_body_valid_semver(const char *s)
{
    int          part;
    const char  *start;

    for (part = 0; part < 3; part++) {
        start = s;

        while (*s >= '0' && *s <= '9') {
            s++;
        }

        if (s == start || (*start == '0' && s - start > 1)) {
            return 0;
        }

        if (part < 2) {
            if (*s != '.') {
                return 0;
            }
            s++;
        }
    }

    if (*s == '-') {
        s = ngx_autoscale_body_semver_ids(s + 1, 1);
        if (s == NULL) {
            return 0;
        }
    }

    if (*s == '+') {
        s = ngx_autoscale_body_semver_ids(s + 1, 0);
        if (s == NULL) {
            return 0;
        }
    }

    return *s == '\0';
}


/*
 * Dot-separated identifiers of [0-9A-Za-z-], none empty; in a prerelease
 * a numeric one has no leading zero.  The end, or NULL.
 */
static const char *
ngx_autoscale_body_semver_ids(const char *s, int prerelease)
{
    int          numeric;
    const char  *start;

    for ( ;; ) {
        start = s;
        numeric = 1;

        while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z')
               || (*s >= 'A' && *s <= 'Z') || *s == '-')
        {
            if (*s < '0' || *s > '9') {
                numeric = 0;
            }
            s++;
        }

        if (s == start
            || (prerelease && numeric && *start == '0' && s - start > 1))
        {
            return NULL;
        }

        if (*s != '.') {
            return s;
        }

        s++;
    }
}


int
ngx_autoscale_body_valid_utf8(const char *str, size_t len)
{
    size_t                i, n, k;
    unsigned int          cp;
    const unsigned char  *s = (const unsigned char *) str;

    for (i = 0; i < len; i += n) {
        if (s[i] < 0x80) {
            n = 1;
            continue;
        }

        if ((s[i] & 0xe0) == 0xc0) {
            n = 2;
            cp = s[i] & 0x1f;

        } else if ((s[i] & 0xf0) == 0xe0) {
            n = 3;
            cp = s[i] & 0x0f;

        } else if ((s[i] & 0xf8) == 0xf0) {
            n = 4;
            cp = s[i] & 0x07;

        } else {
            return 0;
        }

        if (len - i < n) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        /* overlong forms, surrogates, beyond Unicode */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800)
            || (n == 4 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff))
        {
            return 0;
        }
    }

    return 1;
}


static int
ngx_autoscale_body_nul_escape(const char *s, size_t len)
{
    size_t  i;
    int     in_string;

    in_string = 0;

    for (i = 0; i < len; i++) {
        if (!in_string) {
            in_string = (s[i] == '"');
            continue;
        }

        if (s[i] == '"') {
            in_string = 0;

        } else if (s[i] == '\\' && i + 1 < len) {
            if (s[i + 1] == 'u' && len - i >= 6
                && memcmp(s + i + 2, "0000", 4) == 0)
            {
                return 1;
            }
            i++;
        }
    }

    return 0;
}


/*
 * in a document cJSON has parsed: the offset of a control character in a
 * string or as white space, or of a number outside the JSON grammar that
 * strtod() reads ("01", "1.", "-.5", "1.e3"); -1 if none
 */
static long
ngx_autoscale_body_strict(const char *s, size_t len)
{
    size_t  i, start;

#define DIGIT(k)  ((k) < len && s[k] >= '0' && s[k] <= '9')

    for (i = 0; i < len; i++) {
        if (s[i] == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                if ((unsigned char) s[i] < 0x20) {
                    return (long) i;
                }
                if (s[i] == '\\') {
                    i++;
                }
            }
            continue;
        }

        if ((unsigned char) s[i] < 0x20
            && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
        {
            return (long) i;
        }

        if (s[i] != '-' && !DIGIT(i)) {
            continue;
        }

        /* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
        start = i;

        if (s[i] == '-') {
            i++;
        }

        if (i < len && s[i] == '0') {
            i++;
        } else if (DIGIT(i)) {
            while (DIGIT(i)) {
                i++;
            }
        } else {
            return (long) start;
        }

        if (i < len && s[i] == '.') {
            i++;
            if (!DIGIT(i)) {
                return (long) start;
            }
            while (DIGIT(i)) {
                i++;
            }
        }

        if (i < len && (s[i] == 'e' || s[i] == 'E')) {
            i++;
            if (i < len && (s[i] == '+' || s[i] == '-')) {
                i++;
            }
            if (!DIGIT(i)) {
                return (long) start;
            }
            while (DIGIT(i)) {
                i++;
            }
        }

        if (DIGIT(i)) {
            return (long) start;
        }

        i--;
    }

#undef DIGIT

    return -1;
}


/* no number that cJSON read as an infinity, which it prints as null */
static int
ngx_autoscale_body_finite(const cJSON *item)
{
    const cJSON  *child;

    if (cJSON_IsNumber(item)) {
        return isfinite(item->valuedouble);
    }

    for (child = item->child; child; child = child->next) {
        if (!ngx_autoscale_body_finite(child)) {
            return 0;
        }
    }

    return 1;
}


/* 1 and *dup set if an object has a key twice; -1 out of memory */
static int
ngx_autoscale_body_duplicates(const cJSON *item, int depth, const char **dup)
{
    int           rc;
    size_t        n, i;
    const char  **names;
    const cJSON  *child;

    if (!cJSON_IsObject(item) && !cJSON_IsArray(item)) {
        return 0;
    }

    n = 0;
    for (child = item->child; child; child = child->next) {
        rc = ngx_autoscale_body_duplicates(child, depth + 1, dup);
        if (rc != 0) {
            return rc;
        }
        n++;
    }

    if (!cJSON_IsObject(item) || n < 2) {
        return 0;
    }

    /* sorted, so that many keys cost n log n, not n squared */
    names = malloc(n * sizeof(char *));
    if (names == NULL) {
        return -1;
    }

    i = 0;
    for (child = item->child; child; child = child->next) {
        names[i++] = child->string;
    }

    qsort(names, n, sizeof(char *), ngx_autoscale_body_name_cmp);

    rc = 0;
    for (i = 1; i < n; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            *dup = names[i];
            rc = 1;
            break;
        }
    }

    free(names);

    return rc;
}


static int
ngx_autoscale_body_name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}


static int
ngx_autoscale_body_depth(const cJSON *item)
{
    int           depth, deepest;
    const cJSON  *child;

    deepest = 0;

    for (child = item->child; child; child = child->next) {
        depth = ngx_autoscale_body_depth(child);
        if (depth > deepest) {
            deepest = depth;
        }
    }

    return (cJSON_IsObject(item) || cJSON_IsArray(item)) ? deepest + 1 : 0;
}


static size_t
ngx_autoscale_body_utf8_chars(const char *s)
{
    size_t  n;

    for (n = 0; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            n++;
        }
    }

    return n;
}


static char *
ngx_autoscale_body_strdup(const char *s)
{
    char    *p;
    size_t   len;

    len = strlen(s) + 1;

    p = malloc(len);
    if (p) {
        memcpy(p, s, len);
    }

    return p;
}


/* a key is repeated in a message only if it cannot garble it */
static int
ngx_autoscale_body_safe_name(const char *s)
{
    return s && ngx_autoscale_route_valid_id(s, strlen(s))
           && strlen(s) <= 40;
}
