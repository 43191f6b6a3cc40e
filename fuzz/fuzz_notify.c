
/*
 * The supervisor's reading of a NOTIFY autoscale payload: whatever the
 * database hands it, every field it takes points inside the payload, a
 * target is in range, and the drain list yields only valid agent ids and
 * ends.
 */


#include "fuzz.h"
#include "sv.h"


static int
fuzz_notify_inside(const char *p, size_t len, const char *in, size_t size)
{
    return p >= in && p + len <= in + size;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char         *in;
    size_t        len, names;
    const char   *p, *end, *name;
    sv_notify_t   n;

    /* libpq hands the payload as a C string */
    in = fuzz_string(data, size);
    size = strlen(in);

    if (sv_notify_parse(in, &n) != 0) {
        free(in);
        return 0;
    }

    fuzz_assert(n.cluster != NULL);
    fuzz_assert(fuzz_notify_inside(n.cluster, n.cluster_len, in, size));
    fuzz_assert(n.event == NULL
                || fuzz_notify_inside(n.event, n.event_len, in, size));
    fuzz_assert(n.status == NULL
                || fuzz_notify_inside(n.status, n.status_len, in, size));
    fuzz_assert(n.target >= -1 && n.target <= 1000000);

    if (n.drain != NULL) {
        fuzz_assert(n.drain[0] == '[');
        fuzz_assert(fuzz_notify_inside(n.drain, n.drain_len, in, size));

        p = n.drain;
        end = n.drain + n.drain_len;
        names = 0;

        while (sv_notify_drain_next(&p, end, &name, &len)) {
            fuzz_assert(fuzz_notify_inside(name, len, n.drain, n.drain_len));
            fuzz_assert(sv_notify_id_valid(name, len));
            fuzz_assert(++names <= n.drain_len);
        }
    }

    free(in);

    return 0;
}
