/* testutil.h — helpers shared by the cmocka tests (header-only; include after cmocka.h). */
#ifndef QV_TESTUTIL_H
#define QV_TESTUTIL_H
#include "bm.h"
#include "rng.h"

/* A random connected cut of n units from C(4,4,4) (topo 0), P3 fabric (1) or Z(2,4) (2), with
 * b and W uniform in [−s, s] drawn from rng stream `stream` of `seed`. */
static inline struct bm *test_random_cut_bm(int topo, int n, uint64_t seed, double s, uint64_t stream)
{
    struct graph *g = topo == 0   ? graph_chimera(4, 4, 4)
                      : topo == 1 ? graph_pegasus(3, PEGASUS_FABRIC)
                                  : graph_zephyr(2, 4);
    assert_non_null(g);
    struct graph *sub = graph_random_connected_subgraph(g, n, seed);
    assert_non_null(sub);
    graph_free(g);
    struct bm *bm = bm_new(sub);
    struct rng r;
    rng_init(&r, seed, stream);
    for (int i = 0; i < bm->n; i++) bm->b[i] = s * (2 * rng_uniform(&r) - 1);
    for (long k = 0; k < bm->ne; k++) bm->w[k] = s * (2 * rng_uniform(&r) - 1);
    return bm;
}

#endif
