
/*
 * The scaling policy: a cluster given as "name=value" lines over the
 * example cluster of t/unit/policy_seed.h (3..20 workers, fresh metrics),
 * numbers read by strtod() so that "nan", "inf" and 1e308 come as they
 * are, "history=value,age,workers" lines for the window, "row=age secs
 * started finished inflight workers queue cpu live" lines for the demand
 * policy's rows (newest first), "(null)" for a missing string.  Whatever
 * the input, the decision is within bounds and consistent, and its JSON
 * holds only finite numbers and reads back.
 */


#include <limits.h>
#include <stddef.h>

#include "fuzz.h"
#include "ngx_autoscale_policy.h"
#include "policy_seed.h"


#define FUZZ_HISTORY_MAX  64

#define FUZZ_INT     1
#define FUZZ_DOUBLE  2
#define FUZZ_STRING  3

#define FUZZ_FIELD(name, type)                                                \
    { #name, type, offsetof(ngx_autoscale_policy_input_t, name) }

static const struct {
    const char  *name;
    int          type;
    size_t       offset;
} fuzz_fields[] = {
    FUZZ_FIELD(status, FUZZ_STRING),
    FUZZ_FIELD(paused, FUZZ_INT),
    FUZZ_FIELD(min_workers, FUZZ_INT),
    FUZZ_FIELD(max_workers, FUZZ_INT),
    FUZZ_FIELD(current_workers, FUZZ_INT),
    FUZZ_FIELD(target_workers, FUZZ_INT),
    FUZZ_FIELD(policy, FUZZ_STRING),
    FUZZ_FIELD(scale_up_queue, FUZZ_DOUBLE),
    FUZZ_FIELD(scale_up_cpu, FUZZ_DOUBLE),
    FUZZ_FIELD(scale_down_queue, FUZZ_DOUBLE),
    FUZZ_FIELD(scale_down_cpu, FUZZ_DOUBLE),
    FUZZ_FIELD(scale_up_factor, FUZZ_DOUBLE),
    FUZZ_FIELD(scale_down_factor, FUZZ_DOUBLE),
    FUZZ_FIELD(scale_up_cooldown, FUZZ_DOUBLE),
    FUZZ_FIELD(scale_down_cooldown, FUZZ_DOUBLE),
    FUZZ_FIELD(target_metric, FUZZ_STRING),
    FUZZ_FIELD(target_value, FUZZ_DOUBLE),
    FUZZ_FIELD(tolerance, FUZZ_DOUBLE),
    FUZZ_FIELD(stabilization_window, FUZZ_DOUBLE),
    FUZZ_FIELD(worker_capacity, FUZZ_DOUBLE),
    FUZZ_FIELD(drain_time, FUZZ_DOUBLE),
    FUZZ_FIELD(since_scaled, FUZZ_DOUBLE),
    FUZZ_FIELD(has_metrics, FUZZ_INT),
    FUZZ_FIELD(metrics_age, FUZZ_DOUBLE),
    FUZZ_FIELD(max_age, FUZZ_DOUBLE),
    FUZZ_FIELD(queue_length, FUZZ_DOUBLE),
    FUZZ_FIELD(cpu_usage, FUZZ_DOUBLE),
    FUZZ_FIELD(load_percentage, FUZZ_DOUBLE)
};

#define FUZZ_NFIELDS  (sizeof(fuzz_fields) / sizeof(fuzz_fields[0]))


static void fuzz_set(ngx_autoscale_policy_input_t *in, char *line,
    ngx_autoscale_policy_sample_t *history, ngx_autoscale_policy_row_t *rows);
static int fuzz_int(const char *s);
static void fuzz_decision(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d);
static void fuzz_json(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                           *copy, *line, *next;
    ngx_autoscale_decision_t        d;
    ngx_autoscale_policy_input_t    in;
    ngx_autoscale_policy_row_t     *rows;
    ngx_autoscale_policy_sample_t  *history;

    history = malloc(FUZZ_HISTORY_MAX * sizeof(*history));
    rows = malloc(FUZZ_HISTORY_MAX * sizeof(*rows));
    fuzz_assert(history != NULL && rows != NULL);

    in = threshold_input(6, 0, 0);
    in.history = history;
    in.rows = rows;
    in.worker_capacity = 1;
    in.drain_time = 4;

    /* lines of the copy become the strings of the input */
    copy = fuzz_string(data, size);

    for (line = copy; line; line = next) {
        next = strchr(line, '\n');
        if (next) {
            *next++ = '\0';
        }

        fuzz_set(&in, line, history, rows);
    }

    /* garbage first: every field of the decision must be written */
    memset(&d, 0x5a, sizeof(d));
    ngx_autoscale_policy_decide(&in, &d);

    fuzz_decision(&in, &d);
    fuzz_json(&in, &d);

    free(copy);
    free(history);
    free(rows);

    return 0;
}


static void
fuzz_set(ngx_autoscale_policy_input_t *in, char *line,
    ngx_autoscale_policy_sample_t *history, ngx_autoscale_policy_row_t *rows)
{
    char                           *value, *end;
    size_t                          i, n;
    ngx_autoscale_policy_row_t     *r;
    ngx_autoscale_policy_sample_t  *s;

    value = strchr(line, '=');
    if (value == NULL) {
        return;
    }

    *value++ = '\0';

    if (strcmp(line, "history") == 0) {
        if (in->nhistory == FUZZ_HISTORY_MAX) {
            return;
        }

        s = &history[in->nhistory++];
        s->value = strtod(value, &end);
        s->age = (*end == ',') ? strtod(end + 1, &end) : 0;
        s->workers = (*end == ',') ? fuzz_int(end + 1) : 0;
        return;
    }

    /* as the check's statement gives them, one row a line */
    if (strcmp(line, "row") == 0) {
        if (in->nrows == FUZZ_HISTORY_MAX || strchr(value, ',') != NULL) {
            return;
        }

        fuzz_assert(ngx_autoscale_policy_demand_rows(value, &r, &n) == 0);

        if (n == 1) {
            rows[in->nrows++] = r[0];
        }

        free(r);
        return;
    }

    for (i = 0; i < FUZZ_NFIELDS; i++) {
        if (strcmp(line, fuzz_fields[i].name) != 0) {
            continue;
        }

        switch (fuzz_fields[i].type) {

        case FUZZ_INT:
            *(int *) ((char *) in + fuzz_fields[i].offset) = fuzz_int(value);
            break;

        case FUZZ_DOUBLE:
            *(double *) ((char *) in + fuzz_fields[i].offset)
                = strtod(value, NULL);
            break;

        default:
            *(const char **) ((char *) in + fuzz_fields[i].offset)
                = strcmp(value, "(null)") == 0 ? NULL : value;
        }

        return;
    }
}


/* a decimal, saturated to an int as the database's checks would not */
static int
fuzz_int(const char *s)
{
    long long  n;

    n = strtoll(s, NULL, 10);

    return n > INT_MAX ? INT_MAX : n < INT_MIN ? INT_MIN : (int) n;
}


static void
fuzz_decision(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d)
{
    fuzz_assert(memchr(d->reason, '\0', sizeof(d->reason)) != NULL);
    fuzz_assert(d->reason[0] != '\0');
    fuzz_assert(d->from == in->current_workers);
    fuzz_assert((d->constraints & ~(2u * NGX_AUTOSCALE_C_LAST - 1)) == 0);

    switch (d->action) {

    case NGX_AUTOSCALE_HOLD:
        fuzz_assert(d->to == d->from);
        return;

    case NGX_AUTOSCALE_SCALE_UP:
        fuzz_assert(d->to > d->from);
        fuzz_assert(d->proposal >= d->to);
        break;

    case NGX_AUTOSCALE_SCALE_DOWN:
        fuzz_assert(d->to < d->from);
        break;

    case NGX_AUTOSCALE_BOUNDS:
        fuzz_assert(d->to == in->min_workers || d->to == in->max_workers);
        fuzz_assert(d->to != d->from);
        fuzz_assert(d->proposal == d->to);
        return;

    default:
        fuzz_assert(!"an action out of the enum");
    }

    /* a change: within the bounds, of an active cluster, on fresh data */
    fuzz_assert(in->min_workers >= 0 && in->min_workers <= in->max_workers);
    fuzz_assert(d->to >= in->min_workers && d->to <= in->max_workers);
    fuzz_assert(d->proposal >= 0);
    fuzz_assert(in->status && strcmp(in->status, "active") == 0);
    fuzz_assert(!in->paused && in->has_metrics);
    fuzz_assert(in->metrics_age >= 0 && in->metrics_age <= in->max_age);
    fuzz_assert(!(d->constraints & NGX_AUTOSCALE_C_INVALID_INPUT));

    /* and out of its cooldown, but for a demand the arrivals outgrew */
    fuzz_assert(!(in->since_scaled >= 0
                  && in->since_scaled < (d->action == NGX_AUTOSCALE_SCALE_UP
                                         ? in->scale_up_cooldown
                                         : in->scale_down_cooldown))
                || (d->cooldown_passed && d->action == NGX_AUTOSCALE_SCALE_UP
                    && d->need > in->current_workers));
    fuzz_assert(!d->cooldown_passed || d->action == NGX_AUTOSCALE_SCALE_UP);
}


static void
fuzz_json(const ngx_autoscale_policy_input_t *in,
    const ngx_autoscale_decision_t *d)
{
    int           n;
    char         *text;
    cJSON        *doc, *back, *result, *item;
    unsigned      bit;
    const cJSON  *name;

    doc = ngx_autoscale_policy_json(in, d);
    fuzz_assert(doc != NULL);

    text = cJSON_PrintUnformatted(doc);
    fuzz_assert(text != NULL);

    /*
     * its numbers as cJSON prints them (scaler.c stores the text), and no
     * NaN or infinity: cJSON would print it as null, a type apart
     */
    back = cJSON_Parse(text);
    fuzz_assert(back != NULL);
    fuzz_assert(fuzz_same(doc, back, FUZZ_CJSON_DIGITS));

    result = cJSON_GetObjectItemCaseSensitive(back, "result");
    fuzz_assert(strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                    result, "action")),
                ngx_autoscale_policy_action_name(d->action))
                == 0);
    fuzz_assert(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                    result, "from")) == d->from);
    fuzz_assert(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                    result, "to")) == d->to);

    item = cJSON_GetObjectItemCaseSensitive(back, "reason");
    fuzz_assert(strcmp(cJSON_GetStringValue(item), d->reason) == 0);

    /* one name a constraint bit, in the order of the bits */
    item = cJSON_GetObjectItemCaseSensitive(back, "constraints");
    name = item ? item->child : NULL;
    n = 0;

    for (bit = 1; bit <= NGX_AUTOSCALE_C_LAST; bit <<= 1) {
        if (d->constraints & bit) {
            fuzz_assert(name != NULL && cJSON_IsString(name));
            fuzz_assert(strcmp(name->valuestring,
                               ngx_autoscale_policy_constraint_name(bit)) == 0);
            name = name->next;
            n++;
        }
    }

    fuzz_assert(name == NULL && cJSON_GetArraySize(item) == n);

    cJSON_Delete(back);
    cJSON_Delete(doc);
    free(text);
}

