/*
 * Unit tests of supervisor/sv_notify.c: a NOTIFY autoscale payload, the
 * fields the supervisor follows, and what it refuses.
 */

#define _DEFAULT_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv.h"


/* the fields of a parse, as one line, or "refused" */
static const char *
parsed(const char *payload)
{
    static char   out[512];
    size_t        len, n;
    const char   *p, *name;
    sv_notify_t   nt;

    if (sv_notify_parse(payload, &nt) != 0) {
        return "refused";
    }

    n = (size_t) snprintf(out, sizeof(out),
                          "event=%.*s cluster=%.*s id=%lld target=%d "
                          "status=%.*s drain=",
                          (int) nt.event_len, nt.event ? nt.event : "",
                          (int) nt.cluster_len, nt.cluster,
                          (long long) nt.event_id, nt.target,
                          (int) nt.status_len, nt.status ? nt.status : "");

    if (nt.drain == NULL) {
        snprintf(out + n, sizeof(out) - n, "null");
        return out;
    }

    p = nt.drain;

    while (sv_notify_drain_next(&p, nt.drain + nt.drain_len, &name, &len)) {
        n += (size_t) snprintf(out + n, sizeof(out) - n, "[%.*s]",
                               (int) len, name);
    }

    return out;
}


static void
test_events(void **state)
{
    (void) state;

    assert_string_equal(parsed(
        "{\"event\":\"scale_down\",\"cluster_id\":\"c-46b9\",\"event_id\":5,"
        "\"from_workers\":7,\"to_workers\":5,\"status\":\"active\","
        "\"current_workers\":5,\"target_workers\":5,"
        "\"reason\":\"queue_length 0 < 2\",\"drain\":[\"a-6\",\"a-7\"]}"),
        "event=scale_down cluster=c-46b9 id=5 target=5 status=active "
        "drain=[a-6][a-7]");

    /* an update: no event row */
    assert_string_equal(parsed(
        "{\"event\":\"update\",\"cluster_id\":\"c\",\"event_id\":null,"
        "\"from_workers\":null,\"to_workers\":null,\"status\":\"active\","
        "\"current_workers\":2,\"target_workers\":2,\"reason\":null,"
        "\"drain\":null}"),
        "event=update cluster=c id=-1 target=2 status=active drain=null");

    /* fields added later, of any shape, and escapes are skipped */
    assert_string_equal(parsed(
        " { \"cluster_id\" : \"c\" , \"reason\":\"a \\\"quote\\\" \\u00e9\","
        "\"actuation\":{\"tries\":[1,2.5e3,-4,true,false,null,{}]},"
        "\"event_id\":12,\"target_workers\":0,\"status\":\"hibernated\","
        "\"drain\":[]} "),
        "event= cluster=c id=12 target=0 status=hibernated drain=");

    /* a name that is no agent id is left out */
    assert_string_equal(parsed(
        "{\"cluster_id\":\"c\",\"drain\":[\"ok-1\",\"a b\",\"\",\"ok.2\"]}"),
        "event= cluster=c id=-1 target=-1 status= drain=[ok-1][ok.2]");
}


static void
test_refused(void **state)
{
    int          i;
    size_t       n;
    char         deep[300];
    const char  *bad[] = {
        "", "{", "[]", "null", "{}", "{\"event\":\"x\"}",
        "{\"cluster_id\":\"c\"} x",
        "{\"cluster_id\":\"c\",}",
        "{\"cluster_id\":\"c\",\"target_workers\":1.5}",
        "{\"cluster_id\":\"c\",\"target_workers\":-1}",
        "{\"cluster_id\":\"c\",\"target_workers\":2000000}",
        "{\"cluster_id\":\"c\",\"event_id\":\"5\"}",
        "{\"cluster_id\":\"c\",\"x\":tru}",
        "{\"cluster_id\":\"c\",\"x\":[1,]}",
        "{\"cluster_id\":\"c\",\"x\":\"open}",
        "{\"cluster_id\":\"c\" \"x\":1}",
        "{\"cluster_id\":\"c\\",
        "{\"cluster_id\":\"tab\there\"}",
        "{\"cluster_id\":1}",
    };

    (void) state;

    for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++) {
        if (strcmp(parsed(bad[i]), "refused") != 0) {
            fail_msg("accepted: %s", bad[i]);
        }
    }

    /* nesting is bounded: 100 arrays deep, though well formed */
    n = (size_t) sprintf(deep, "{\"cluster_id\":\"c\",\"x\":");
    memset(deep + n, '[', 100);
    memset(deep + n + 100, ']', 100);
    strcpy(deep + n + 200, "}");
    assert_string_equal(parsed(deep), "refused");

    /* and 10 deep is fine */
    n = (size_t) sprintf(deep, "{\"cluster_id\":\"c\",\"x\":");
    memset(deep + n, '[', 10);
    memset(deep + n + 10, ']', 10);
    strcpy(deep + n + 20, "}");
    assert_string_equal(parsed(deep),
                        "event= cluster=c id=-1 target=-1 status= drain=null");
}


static void
test_ids(void **state)
{
    char  id[SV_ID_MAX + 2];

    (void) state;

    assert_true(sv_notify_id_valid("cluster-test_001.a", 18));
    assert_false(sv_notify_id_valid("", 0));
    assert_false(sv_notify_id_valid("a/b", 3));
    assert_false(sv_notify_id_valid("a\"b", 3));

    memset(id, 'a', sizeof(id));
    assert_true(sv_notify_id_valid(id, SV_ID_MAX));
    assert_false(sv_notify_id_valid(id, SV_ID_MAX + 1));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_ids),
    };

    return cmocka_run_group_tests_name("sv_notify", tests, NULL, NULL);
}
