/* fuzz_schedule.c — libFuzzer harness for schedule JSON (a point list or the object form with run
 * parameters): sched_from_json_text, then validation against the default solver and a round trip
 * through sched_to_json, which must read back to the same points.  A refused text must leave the
 * schedule exactly as it was (the editing contract in schedule.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sched s, before, back;
    sched_init(&s);
    sched_forward(&s, 20);
    before = s;
    if (sched_from_json_text(&s, (const char *)data, size) != 0) {
        if (memcmp(&s, &before, sizeof s) != 0) abort();
        return 0;
    }
    struct sched_violation v[8];
    sched_validate(&s, NULL, v, 8);
    for (int i = 0; i < s.n; i++) {
        if (!(s.pt[i].s >= 0 && s.pt[i].s <= 1 && s.pt[i].t >= 0 && isfinite(s.pt[i].t))) abort();
        (void)sched_s_at(&s, s.pt[i].t);
    }
    char *txt = sched_to_json(&s);
    sched_init(&back);
    if (sched_from_json_text(&back, txt, strlen(txt)) != 0 || back.n != s.n) abort();
    for (int i = 0; i < s.n; i++)   /* %.10g keeps 10 significant digits */
        if (fabs(back.pt[i].t - s.pt[i].t) > 1e-9 * fabs(s.pt[i].t) + 1e-300 ||
            fabs(back.pt[i].s - s.pt[i].s) > 1e-9)
            abort();
    free(txt);
    return 0;
}
