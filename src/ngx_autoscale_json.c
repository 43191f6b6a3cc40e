
/*
 * Copyright (C) ngx_autoscale_module authors
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_autoscale_json.h"


static cJSON *ngx_autoscale_json_value(ngx_autoscale_col_type_e type,
    const char *value);
static int ngx_autoscale_json_exact_members(cJSON *item);
static cJSON *ngx_autoscale_json_exact_number(double v);
static int ngx_autoscale_json_is_integer(const char *s);
static int ngx_autoscale_json_is_number(const char *s);


cJSON *
ngx_autoscale_json_row(const ngx_autoscale_col_t *cols, size_t n,
    const char *const *values)
{
    size_t   i;
    cJSON   *obj, *item;

    obj = cJSON_CreateObject();
    if (obj == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        item = values[i] ? ngx_autoscale_json_value(cols[i].type, values[i])
                         : cJSON_CreateNull();

        if (item == NULL || !cJSON_AddItemToObject(obj, cols[i].name, item)) {
            cJSON_Delete(item);
            cJSON_Delete(obj);
            return NULL;
        }
    }

    return obj;
}


static cJSON *
ngx_autoscale_json_value(ngx_autoscale_col_type_e type, const char *value)
{
    char    time[48];
    cJSON  *item;

    switch (type) {

    case NGX_AUTOSCALE_COL_INT:
        /* as written: a double would round bigints past 2^53 */
        if (ngx_autoscale_json_is_integer(value)) {
            return cJSON_CreateRaw(value);
        }

        return cJSON_CreateNull();

    case NGX_AUTOSCALE_COL_FLOAT:
        /*
         * PostgreSQL prints the shortest text that reads back exactly:
         * kept as it is, it needs no printing and no rounding here.
         * NaN and infinities have no JSON form.
         */
        if (ngx_autoscale_json_is_number(value)) {
            return cJSON_CreateRaw(value);
        }

        return cJSON_CreateNull();

    case NGX_AUTOSCALE_COL_BOOL:
        return cJSON_CreateBool(value[0] == 't');

    case NGX_AUTOSCALE_COL_TIME:
        if (ngx_autoscale_json_rfc3339(value, time, sizeof(time)) != 0) {
            return cJSON_CreateNull();
        }

        return cJSON_CreateString(time);

    case NGX_AUTOSCALE_COL_JSON:
        /* the database only holds valid JSON; anything else is dropped */
        item = cJSON_ParseWithOpts(value, NULL, 1);
        return item ? ngx_autoscale_json_exact(item) : cJSON_CreateNull();

    default:
        return cJSON_CreateString(value);
    }
}


cJSON *
ngx_autoscale_json_error(int status, const char *code, const char *text)
{
    cJSON  *doc, *err;

    doc = cJSON_CreateObject();
    err = cJSON_AddObjectToObject(doc, "error");

    if (err == NULL
        || cJSON_AddNumberToObject(err, "status", status) == NULL
        || cJSON_AddStringToObject(err, "code", code) == NULL
        || cJSON_AddStringToObject(err, "text", text) == NULL)
    {
        cJSON_Delete(doc);
        return NULL;
    }

    return doc;
}


cJSON *
ngx_autoscale_json_exact(cJSON *item)
{
    cJSON  *exact;

    if (item == NULL) {
        return NULL;
    }

    if (cJSON_IsNumber(item)) {
        exact = ngx_autoscale_json_exact_number(item->valuedouble);
        cJSON_Delete(item);
        return exact;
    }

    if (ngx_autoscale_json_exact_members(item) != 0) {
        cJSON_Delete(item);
        return NULL;
    }

    return item;
}


/* in place; on out of memory the tree is whole, partly converted */
static int
ngx_autoscale_json_exact_members(cJSON *item)
{
    cJSON  *child, *next, *exact;

    for (child = item->child; child; child = next) {
        next = child->next;

        if (!cJSON_IsNumber(child)) {
            if (ngx_autoscale_json_exact_members(child) != 0) {
                return -1;
            }
            continue;
        }

        exact = ngx_autoscale_json_exact_number(child->valuedouble);
        if (exact == NULL) {
            return -1;
        }

        /* the member's name moves to its new value */
        exact->string = child->string;
        exact->type |= child->type & cJSON_StringIsConst;
        child->string = NULL;

        cJSON_ReplaceItemViaPointer(item, child, exact);
    }

    return 0;
}


static cJSON *
ngx_autoscale_json_exact_number(double v)
{
    char  buf[32];

    if (!isfinite(v)) {
        return cJSON_CreateNull();
    }

    return cJSON_CreateRaw(ngx_autoscale_json_number(buf, sizeof(buf), v));
}


const char *
ngx_autoscale_json_number(char *buf, size_t size, double v)
{
    int  p;

    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, size, "%.0f", v);
        return buf;
    }

    for (p = 1; p < 17; p++) {
        snprintf(buf, size, "%.*g", p, v);

        if (strtod(buf, NULL) == v) {
            return buf;
        }
    }

    snprintf(buf, size, "%.17g", v);

    return buf;
}


int
ngx_autoscale_json_rfc3339(const char *pg, char *out, size_t size)
{
    size_t  len, i;

    len = strlen(pg);

    /* the session's zone is UTC: its "+00" becomes "Z" */
    if (len > 3 && strcmp(pg + len - 3, "+00") == 0) {
        len -= 3;
    }

    /* "YYYY-MM-DD HH:MM:SS" and an optional fraction */
    if (len < 19 || len == 20 || len + 2 > size || pg[10] != ' ') {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (i == 4 || i == 7) {
            if (pg[i] != '-') {
                return -1;
            }

        } else if (i == 13 || i == 16) {
            if (pg[i] != ':') {
                return -1;
            }

        } else if (i == 19) {
            if (pg[i] != '.') {
                return -1;
            }

        } else if (i != 10 && (pg[i] < '0' || pg[i] > '9')) {
            return -1;
        }
    }

    memcpy(out, pg, len);
    out[10] = 'T';
    out[len] = 'Z';
    out[len + 1] = '\0';

    return 0;
}


static int
ngx_autoscale_json_is_integer(const char *s)
{
    size_t  i;

    if (*s == '-') {
        s++;
    }

    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i == 19) {
            return 0;
        }
    }

    /* JSON allows no leading zeros */
    return i > 0 && (s[0] != '0' || i == 1);
}


/* the JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
ngx_autoscale_json_is_number(const char *s)
{
    if (*s == '-') {
        s++;
    }

    if (*s == '0') {
        s++;

    } else if (*s >= '1' && *s <= '9') {
        while (*s >= '0' && *s <= '9') {
            s++;
        }

    } else {
        return 0;
    }

    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') {
            return 0;
        }
        while (*s >= '0' && *s <= '9') {
            s++;
        }
    }

    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') {
            s++;
        }
        if (*s < '0' || *s > '9') {
            return 0;
        }
        while (*s >= '0' && *s <= '9') {
            s++;
        }
    }

    return *s == '\0';
}
