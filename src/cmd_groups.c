/* cmd_groups.c — `model new --groups`: the partition of the latent units into the hierarchical
 * posterior's groups (cmd_model.c's option, cmd_int.h). */
#include "cmd_int.h"
#include "dvae.h"
#include "graph.h"
#include "sampler.h"

#include <stdlib.h>
#include <string.h>

/* --groups: "L" (L groups: a BM prior's units ordered by colour class, then index, cut into L
 * blocks — Chimera's two shores for L = 2; a Bernoulli prior's in index order) or an explicit
 * partition "0-143/144-287" (groups separated by '/', each a comma list of units and ranges). */
int cmd_parse_groups(struct qv_app *app, const char *s, struct dvae_config *c, int **out)
{
    const int n = c->n;
    int *go = qv_malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++) go[i] = -1;
    *out = go;
    char *end;
    long L = strtol(s, &end, 10);
    if (end != s && !*end) {
        if (L < 1 || L > DVAE_MAX_GROUPS || L > n)
            return qv_seterr("--groups must be 1..%d (and at most the %d latents), got %ld",
                             DVAE_MAX_GROUPS, n, L);
        c->groups = (int)L;
        c->group_of = go;
        /* order the units by colour class (bipartite shores first), then cut */
        const struct graph *gr = app->st.prior ? app->st.prior->g : NULL;
        int k = 0;
        for (int col = 0; col < (gr ? gr->ncolors : 1); col++)
            for (int i = 0; i < n; i++)
                if (!gr || gr->color[i] == col) go[i] = (int)((long)(k++) * L / n);
        return 0;
    }
    int g = 0;
    const char *p = s;
    while (*p) {
        if (g == DVAE_MAX_GROUPS) return qv_seterr("--groups: at most %d groups ('%s')", DVAE_MAX_GROUPS, s);
        long a = strtol(p, &end, 10), b = a;
        if (end == p) return qv_seterr("--groups: '%s': expected a count or units like 0-143/144-287", s);
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p) return qv_seterr("--groups: '%s': a range needs its last unit", s);
        }
        if (a < 0 || b >= n || a > b)
            return qv_seterr("--groups: units %ld-%ld are not within 0..%d", a, b, n - 1);
        for (long i = a; i <= b; i++) {
            if (go[i] >= 0) return qv_seterr("--groups: unit %ld is in two groups", i);
            go[i] = g;
        }
        p = end;
        if (*p == ',') p++;
        else if (*p == '/') { p++; g++; }
        else if (*p) return qv_seterr("--groups: '%s': unexpected '%c'", s, *p);
    }
    for (int i = 0; i < n; i++)
        if (go[i] < 0) return qv_seterr("--groups: unit %d is in no group (the groups must cover 0..%d)", i, n - 1);
    c->groups = g + 1;
    c->group_of = go;
    return 0;
}
