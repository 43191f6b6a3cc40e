/*
 * The NOTIFY autoscale payload, a flat JSON object.  Only the fields the
 * supervisor follows are taken; the others are skipped, so that fields
 * added later change nothing here.  Pure C, no allocation: the result
 * points into the payload.
 */

#include <stdlib.h>
#include <string.h>

#include "sv.h"


#define SV_JSON_DEPTH  32


static const char *sv_notify_ws(const char *p);
static const char *sv_notify_string(const char *p, const char **s,
    size_t *len);
static const char *sv_notify_value(const char *p, int depth);
static const char *sv_notify_number(const char *p, int64_t *v);


static const char *
sv_notify_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }

    return p;
}


/* a string's raw text between its quotes; escapes are kept as they are */
static const char *
sv_notify_string(const char *p, const char **s, size_t *len)
{
    const char  *start;

    if (*p != '"') {
        return NULL;
    }

    start = ++p;

    while (*p != '"') {
        if (*p == '\0' || (unsigned char) *p < 0x20) {
            return NULL;
        }

        if (*p == '\\') {
            p++;
            if (*p == '\0') {
                return NULL;
            }
        }

        p++;
    }

    if (s != NULL) {
        *s = start;
        *len = (size_t) (p - start);
    }

    return p + 1;
}


static const char *
sv_notify_number(const char *p, int64_t *v)
{
    char       *end;
    long long   n;

    if (*p != '-' && (*p < '0' || *p > '9')) {
        return NULL;
    }

    n = strtoll(p, &end, 10);

    /* a fraction or an exponent is no count */
    if (end == p || *end == '.' || *end == 'e' || *end == 'E') {
        return NULL;
    }

    *v = n;

    return end;
}


/* skips any value */
static const char *
sv_notify_value(const char *p, int depth)
{
    char   close;

    p = sv_notify_ws(p);

    if (depth > SV_JSON_DEPTH) {
        return NULL;
    }

    switch (*p) {

    case '"':
        return sv_notify_string(p, NULL, NULL);

    case '{':
    case '[':
        close = (*p == '{') ? '}' : ']';
        p = sv_notify_ws(p + 1);

        if (*p == close) {
            return p + 1;
        }

        for ( ;; ) {
            if (close == '}') {
                p = sv_notify_string(sv_notify_ws(p), NULL, NULL);
                if (p == NULL || *(p = sv_notify_ws(p)) != ':') {
                    return NULL;
                }
                p++;
            }

            p = sv_notify_value(p, depth + 1);
            if (p == NULL) {
                return NULL;
            }

            p = sv_notify_ws(p);

            if (*p == close) {
                return p + 1;
            }

            if (*p != ',') {
                return NULL;
            }

            p++;
        }

    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;

    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;

    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;

    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) {
            char  *end;

            (void) strtod(p, &end);
            return end;
        }

        return NULL;
    }
}


static int
sv_notify_key(const char *k, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(k, name, len) == 0;
}


/* 0 and *n filled, or -1 for a payload that is no such object */
int
sv_notify_parse(const char *payload, sv_notify_t *n)
{
    size_t       klen;
    const char  *p, *k, *v;

    memset(n, 0, sizeof(sv_notify_t));
    n->event_id = -1;
    n->target = -1;

    p = sv_notify_ws(payload);

    if (*p++ != '{') {
        return -1;
    }

    p = sv_notify_ws(p);

    if (*p == '}') {
        return n->cluster ? 0 : -1;
    }

    for ( ;; ) {
        p = sv_notify_string(sv_notify_ws(p), &k, &klen);
        if (p == NULL || *(p = sv_notify_ws(p)) != ':') {
            return -1;
        }

        v = sv_notify_ws(p + 1);

        if (sv_notify_key(k, klen, "event") && *v == '"') {
            p = sv_notify_string(v, &n->event, &n->event_len);

        } else if (sv_notify_key(k, klen, "cluster_id") && *v == '"') {
            p = sv_notify_string(v, &n->cluster, &n->cluster_len);

        } else if (sv_notify_key(k, klen, "status") && *v == '"') {
            p = sv_notify_string(v, &n->status, &n->status_len);

        } else if (sv_notify_key(k, klen, "event_id") && *v != 'n') {
            p = sv_notify_number(v, &n->event_id);

        } else if (sv_notify_key(k, klen, "target_workers") && *v != 'n') {
            int64_t  t;

            p = sv_notify_number(v, &t);
            if (p != NULL && (t < 0 || t > 1000000)) {
                return -1;
            }
            n->target = (int) t;

        } else {
            p = sv_notify_value(v, 1);

            if (p != NULL && sv_notify_key(k, klen, "drain") && *v == '[') {
                n->drain = v;
                n->drain_len = (size_t) (p - v);
            }
        }

        if (p == NULL) {
            return -1;
        }

        p = sv_notify_ws(p);

        if (*p == '}') {
            break;
        }

        if (*p++ != ',') {
            return -1;
        }
    }

    return (n->cluster && *sv_notify_ws(p + 1) == '\0') ? 0 : -1;
}


/*
 * The next name of a drain array: 1 and the name, 0 at its end.  Agent ids
 * hold no quote and no escape, so a name is the text between two quotes;
 * one that is not a valid id is skipped.
 */
int
sv_notify_drain_next(const char **p, const char *end, const char **name,
    size_t *len)
{
    const char  *s, *e;

    for ( ;; ) {
        s = memchr(*p, '"', (size_t) (end - *p));
        if (s == NULL) {
            return 0;
        }

        s++;
        e = memchr(s, '"', (size_t) (end - s));
        if (e == NULL) {
            return 0;
        }

        *p = e + 1;

        if (sv_notify_id_valid(s, (size_t) (e - s))) {
            *name = s;
            *len = (size_t) (e - s);
            return 1;
        }
    }
}


/* the module's ids: 1-100 of letters, digits, ".", "_", "-" */
int
sv_notify_id_valid(const char *id, size_t len)
{
    size_t  i;
    char    c;

    if (len == 0 || len > SV_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = id[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'
              || c == '.'))
        {
            return 0;
        }
    }

    return 1;
}
