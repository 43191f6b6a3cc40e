
/*
 * Copyright (C) ngx_autoscale_module authors
 *
 * JSON documents of the API, built with cJSON from database rows given as
 * text.  Plain C with no nginx or libpq headers, so it is unit-tested on
 * its own.
 */


#ifndef _NGX_AUTOSCALE_JSON_H_INCLUDED_
#define _NGX_AUTOSCALE_JSON_H_INCLUDED_


#include <stddef.h>
#include <cjson/cJSON.h>


typedef enum {
    NGX_AUTOSCALE_COL_TEXT = 1,
    NGX_AUTOSCALE_COL_INT,
    NGX_AUTOSCALE_COL_FLOAT,
    NGX_AUTOSCALE_COL_BOOL,      /* PostgreSQL's t / f */
    NGX_AUTOSCALE_COL_TIME,      /* timestamp in UTC, as PostgreSQL prints */
    NGX_AUTOSCALE_COL_JSON       /* json or jsonb text */
} ngx_autoscale_col_type_e;


typedef struct {
    const char                *name;
    ngx_autoscale_col_type_e   type;
} ngx_autoscale_col_t;


/* values[i] NULL is SQL NULL; NULL on out of memory */
cJSON *ngx_autoscale_json_row(const ngx_autoscale_col_t *cols, size_t n,
    const char *const *values);

cJSON *ngx_autoscale_json_error(int status, const char *code,
    const char *text);

/*
 * cJSON prints a number to 15 digits when that reads back within an
 * epsilon of it, and DBL_MAX as a number past it: the numbers of item
 * become raw text that reads back exactly, an infinity null.  Returns
 * item or what replaced it; NULL if item is NULL or on out of memory,
 * item freed.
 */
cJSON *ngx_autoscale_json_exact(cJSON *item);

/* the shortest text of a finite v that reads back as v: "15", "0.1" */
const char *ngx_autoscale_json_number(char *buf, size_t size, double v);

/* "2026-02-18 21:50:00.123456" to "2026-02-18T21:50:00.123456Z" */
int ngx_autoscale_json_rfc3339(const char *pg, char *out, size_t size);


#endif /* _NGX_AUTOSCALE_JSON_H_INCLUDED_ */
