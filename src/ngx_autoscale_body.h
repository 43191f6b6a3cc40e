
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * Request bodies: strict JSON, checked field by field against a table, and
 * turned into the text parameters of a statement.  Plain C with no nginx or
 * libpq headers, so it is unit-tested on its own.
 */


#ifndef _NGX_AUTOSCALE_BODY_H_INCLUDED_
#define _NGX_AUTOSCALE_BODY_H_INCLUDED_


#include <stddef.h>
#include <cjson/cJSON.h>

#include "ngx_autoscale_route.h"


#define NGX_AUTOSCALE_BODY_MAX        (256 * 1024)
#define NGX_AUTOSCALE_OBJECT_DEPTH    16


typedef enum {
    NGX_AUTOSCALE_FIELD_STRING = 1,   /* min..max characters of charset */
    NGX_AUTOSCALE_FIELD_INT,          /* a whole number in min..max */
    NGX_AUTOSCALE_FIELD_NUMBER,       /* a finite number in min..max */
    NGX_AUTOSCALE_FIELD_BOOL,
    NGX_AUTOSCALE_FIELD_ENUM,         /* one of choices */
    NGX_AUTOSCALE_FIELD_TAGS,         /* at most max strings of 1..64 */
    NGX_AUTOSCALE_FIELD_OBJECT        /* any JSON object, kept as JSON */
} ngx_autoscale_field_kind_e;


typedef enum {
    NGX_AUTOSCALE_CHARS_ANY = 0,      /* printable: no control characters */
    NGX_AUTOSCALE_CHARS_NAME,         /* letters, digits, space, - and _ */
    NGX_AUTOSCALE_CHARS_SLUG,         /* a-z, 0-9 and - */
    NGX_AUTOSCALE_CHARS_TYPE,         /* a-z, 0-9, - and _ */
    NGX_AUTOSCALE_CHARS_SEMVER        /* MAJOR.MINOR.PATCH[-pre][+build] */
} ngx_autoscale_chars_e;


typedef struct {
    const char                   *name;
    ngx_autoscale_field_kind_e    kind;
    double                        min;
    double                        max;
    ngx_autoscale_chars_e         chars;
    const char *const            *choices;
    unsigned                      required:1;
    unsigned                      nullable:1;
} ngx_autoscale_field_t;


typedef struct {
    int                           present;
    char                         *text;      /* NULL: absent or JSON null */
    double                        number;    /* INT and NUMBER */
} ngx_autoscale_value_t;


/* NULL on error; the caller cJSON_Delete()s the result */
cJSON *ngx_autoscale_body_parse(const char *buf, size_t len,
    ngx_autoscale_err_t *err);

/*
 * fills out[0 .. n-1] from root (NULL: no body); free it with
 * ngx_autoscale_body_free() either way
 */
int ngx_autoscale_body_fields(const cJSON *root,
    const ngx_autoscale_field_t *fields, size_t n,
    ngx_autoscale_value_t *out, ngx_autoscale_err_t *err);

void ngx_autoscale_body_free(ngx_autoscale_value_t *values, size_t n);

int ngx_autoscale_body_valid_utf8(const char *s, size_t len);
int ngx_autoscale_body_valid_semver(const char *s);


#endif /* _NGX_AUTOSCALE_BODY_H_INCLUDED_ */
