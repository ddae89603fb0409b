/* test_graph.c — hardware graphs against the published test vectors of topologies.md §3.4:
 * node/edge counts, degree histograms, Σ(u+v) and Σ(u·v) over edges (in hardware labels),
 * neighbour lists, triangle counts, proper colourings, coordinate conversions and round trips,
 * drawing coordinates, subgraphs (random connected cuts), edge lists, the binary form, bad
 * sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "graph.h"

/* ---- helpers computed independently of graph.c's CSR ---- */

static void sums(const struct graph *g, long long *su, long long *sp)
{
    *su = 0; *sp = 0;
    for (long k = 0; k < g->ne; k++) {
        long long a = g->label[g->edges[k][0]], b = g->label[g->edges[k][1]];
        *su += a + b;
        *sp += a * b;
    }
}

/* Degree histogram recomputed from the edge list alone. */
static void hist_from_edges(const struct graph *g, long *hist, int maxd)
{
    int *deg = calloc((size_t)g->nv, sizeof(int));
    for (long k = 0; k < g->ne; k++) { deg[g->edges[k][0]]++; deg[g->edges[k][1]]++; }
    for (int d = 0; d <= maxd; d++) hist[d] = 0;
    for (int v = 0; v < g->nv; v++) { assert_true(deg[v] <= maxd); hist[deg[v]]++; }
    free(deg);
}

/* hist spec: pairs (degree, count), terminated by -1 */
static void check_hist(const struct graph *g, const int *spec)
{
    long h[64], h2[64];
    assert_true(g->maxdeg < 64);
    hist_from_edges(g, h, 63);
    graph_degree_hist(g, h2);
    for (int d = 0; d <= g->maxdeg; d++) assert_int_equal(h[d], h2[d]);
    long want[64] = {0};
    for (int i = 0; spec[i] >= 0; i += 2) want[spec[i]] = spec[i + 1];
    for (int d = 0; d < 64; d++) {
        if (h[d] != want[d]) fprintf(stderr, "%s: degree %d: %ld nodes, want %ld\n", g->desc, d, h[d], want[d]);
        assert_int_equal(h[d], want[d]);
    }
}

static void check_neigh(const struct graph *g, long label, const long *want, int nwant)
{
    int v = graph_find_label(g, label);
    assert_true(v >= 0);
    assert_int_equal(graph_degree(g, v), nwant);
    long got[64];
    int k = 0;
    for (long a = g->adj_start[v]; a < g->adj_start[v + 1]; a++) got[k++] = g->label[g->adj[a]];
    /* labels are ascending with node id for generated graphs, so neighbour lists are sorted */
    for (int i = 0; i < nwant; i++) assert_int_equal(got[i], want[i]);
}

/* Structural invariants every graph must satisfy. */
static void check_invariants(const struct graph *g)
{
    assert_int_equal(g->adj_start[0], 0);
    assert_int_equal(g->adj_start[g->nv], 2 * g->ne);
    for (long k = 0; k < g->ne; k++) {
        assert_true(g->edges[k][0] < g->edges[k][1]);
        if (k) assert_true(g->edges[k - 1][0] < g->edges[k][0] ||
                           (g->edges[k - 1][0] == g->edges[k][0] && g->edges[k - 1][1] < g->edges[k][1]));
        assert_int_equal(graph_edge_index(g, g->edges[k][0], g->edges[k][1]), k);
        assert_int_equal(graph_edge_index(g, g->edges[k][1], g->edges[k][0]), k);
    }
    for (int v = 0; v < g->nv; v++) {
        for (long a = g->adj_start[v]; a < g->adj_start[v + 1]; a++) {
            long e = g->adj_edge[a];
            int o = g->adj[a];
            assert_true((g->edges[e][0] == v && g->edges[e][1] == o) || (g->edges[e][1] == v && g->edges[e][0] == o));
            if (a > g->adj_start[v]) assert_true(g->adj[a - 1] < o);
        }
        assert_int_equal(graph_find_label(g, g->label[v]), v);
        assert_true(g->x[v] >= 0 && g->x[v] <= 1 && g->y[v] >= 0 && g->y[v] <= 1);
    }
    assert_true(graph_coloring_ok(g));
}

static long triangles(const struct graph *g)
{
    long t = 0;
    for (long k = 0; k < g->ne; k++) {
        int u = g->edges[k][0], v = g->edges[k][1];
        for (long a = g->adj_start[u]; a < g->adj_start[u + 1]; a++) {
            int w = g->adj[a];
            if (w > v && graph_edge_index(g, v, w) >= 0) t++;
        }
    }
    return t;
}

/* ---- counts ---- */

static void test_counts(void **st)
{
    static const struct { char kind; int a, b, c; long nv, ne; } tab[] = {
        {'c', 1, 1, 4, 8, 16}, {'c', 4, 4, 4, 128, 352}, {'c', 2, 3, 4, 48, 124}, {'c', 16, 16, 4, 2048, 6016},
        {'p', 2, PEGASUS_FABRIC, 0, 40, 164}, {'p', 2, PEGASUS_FULL, 0, 48, 168}, {'p', 2, PEGASUS_NICE, 0, 24, 92},
        {'p', 4, PEGASUS_FABRIC, 0, 264, 1604}, {'p', 4, PEGASUS_FULL, 0, 288, 1632}, {'p', 4, PEGASUS_NICE, 0, 216, 1324},
        {'p', 6, PEGASUS_FABRIC, 0, 680, 4484}, {'p', 6, PEGASUS_FULL, 0, 720, 4536}, {'p', 6, PEGASUS_NICE, 0, 600, 3996},
        {'p', 16, PEGASUS_FABRIC, 0, 5640, 40484}, {'p', 16, PEGASUS_FULL, 0, 5760, 40656}, {'p', 16, PEGASUS_NICE, 0, 5400, 38956},
        {'z', 1, 4, 0, 48, 280}, {'z', 2, 4, 0, 160, 1224}, {'z', 4, 4, 0, 576, 5032}, {'z', 6, 4, 0, 1248, 11400},
        {'z', 12, 4, 0, 4800, 45864}, {'z', 2, 2, 0, 80, 356}, {'z', 3, 1, 0, 84, 270},
    };
    (void)st;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        struct graph *g = tab[i].kind == 'c' ? graph_chimera(tab[i].a, tab[i].b, tab[i].c)
                        : tab[i].kind == 'p' ? graph_pegasus(tab[i].a, (enum pegasus_variant)tab[i].b)
                        : graph_zephyr(tab[i].a, tab[i].b);
        assert_non_null(g);
        if (g->nv != tab[i].nv || g->ne != tab[i].ne)
            fprintf(stderr, "%s: %d nodes %ld edges, want %ld %ld\n", g->desc, g->nv, g->ne, tab[i].nv, tab[i].ne);
        assert_int_equal(g->nv, tab[i].nv);
        assert_int_equal(g->ne, tab[i].ne);
        check_invariants(g);
        if (tab[i].kind == 'c') {
            int m = tab[i].a, n = tab[i].b, t = tab[i].c;
            assert_int_equal(g->ne, (long)m * n * t * t + (m - 1L) * n * t + m * (n - 1L) * t);
            assert_int_equal(g->ncolors, 2);
        } else {
            assert_int_equal(g->ncolors, 4);
        }
        if (tab[i].kind == 'p') {
            int m = tab[i].a;
            assert_true(g->maxdeg <= 15);
            if (tab[i].b == PEGASUS_FULL) {
                assert_int_equal(g->nv, 24 * m * (m - 1));
                assert_int_equal(g->ne, 12L * (15 * (m - 1) * (m - 1) + m - 3));
            } else if (tab[i].b == PEGASUS_FABRIC) {
                assert_int_equal(g->nv, 24 * m * (m - 1) - 8 * (m - 1));
            } else {
                assert_int_equal(g->nv, 24 * (m - 1) * (m - 1));
            }
        }
        if (tab[i].kind == 'z') {
            int m = tab[i].a, t = tab[i].b;
            assert_int_equal(g->nv, 4L * t * m * (2 * m + 1));
            long ne = m == 1 ? 2L * t * (8 * t + 3) : 2L * t * ((8L * t + 8) * m * m - 2 * m - 3);
            assert_int_equal(g->ne, ne);
            assert_true(g->maxdeg <= 4 * t + 4);
            if (m >= 4) assert_int_equal(g->maxdeg, 4 * t + 4);
        }
        graph_free(g);
    }
}

/* ---- histograms, sums, neighbours ---- */

static void test_chimera_vectors(void **st)
{
    (void)st;
    long long su, sp;
    struct graph *g = graph_chimera(4, 4, 4);
    assert_non_null(g);
    check_hist(g, (const int[]){5, 64, 6, 64, -1});
    sums(g, &su, &sp);
    assert_true(su == 44704LL && sp == 1854032LL);
    check_neigh(g, 0, (const long[]){4, 5, 6, 7, 32}, 5);
    check_neigh(g, 37, (const long[]){32, 33, 34, 35, 45}, 5);
    assert_int_equal(triangles(g), 0);
    assert_string_equal(g->desc, "chimera 4 4 4");
    graph_free(g);

    g = graph_chimera(16, 16, 4);
    assert_non_null(g);
    check_hist(g, (const int[]){5, 256, 6, 1792, -1});
    sums(g, &su, &sp);
    assert_true(su == 12314752LL && sp == 8360041792LL);
    check_neigh(g, 0, (const long[]){4, 5, 6, 7, 128}, 5);
    check_neigh(g, 2047, (const long[]){2039, 2040, 2041, 2042, 2043}, 5);
    int c[4] = {2, 2, 0, 0};
    assert_int_equal(graph_chimera_to_linear(16, 16, 4, c), 272);
    graph_free(g);
}

static void test_pegasus_vectors(void **st)
{
    (void)st;
    long long su, sp;
    struct graph *g = graph_pegasus(6, PEGASUS_FABRIC);
    assert_non_null(g);
    check_hist(g, (const int[]){6, 32, 7, 48, 10, 32, 11, 48, 14, 208, 15, 312, -1});
    sums(g, &su, &sp);
    assert_true(su == 3223996LL && sp == 500769880LL);
    check_neigh(g, 10, (const long[]){11, 15, 380, 385, 390, 395}, 6);
    graph_free(g);

    g = graph_pegasus(16, PEGASUS_FABRIC);
    assert_non_null(g);
    check_hist(g, (const int[]){6, 32, 7, 208, 10, 32, 11, 208, 14, 688, 15, 4472, -1});
    sums(g, &su, &sp);
    assert_true(su == 233147356LL && sp == 290817191040LL);
    check_neigh(g, 30, (const long[]){31, 45, 2940, 2955, 2970, 2985}, 6);
    assert_int_equal(g->label[0], 30);
    assert_int_equal(g->label[g->nv - 1], 5729);
    assert_int_equal(triangles(g), 32400);
    assert_string_equal(g->desc, "pegasus 16");
    graph_free(g);

    g = graph_pegasus(16, PEGASUS_FULL);
    assert_non_null(g);
    check_hist(g, (const int[]){2, 16, 3, 104, 6, 32, 7, 208, 10, 32, 11, 208, 14, 688, 15, 4472, -1});
    sums(g, &su, &sp);
    assert_true(su == 234137904LL && sp == 292949265060LL);
    check_neigh(g, 0, (const long[]){1, 15}, 2);
    graph_free(g);

    /* nice variant: exactly the nodes that have nice coordinates */
    g = graph_pegasus(16, PEGASUS_NICE);
    assert_non_null(g);
    struct graph *full = graph_pegasus(16, PEGASUS_FULL);
    int have = 0;
    for (int v = 0; v < full->nv; v++) {
        int c[4], nc[5];
        assert_int_equal(graph_linear_to_pegasus(16, full->label[v], c), 0);
        bool nice = graph_pegasus_to_nice(16, c, nc) == 0;
        have += nice;
        assert_int_equal(graph_find_label(g, full->label[v]) >= 0, nice);
    }
    assert_int_equal(have, 5400);
    graph_free(full);
    graph_free(g);
}

static void test_zephyr_vectors(void **st)
{
    (void)st;
    long long su, sp;
    struct graph *g = graph_zephyr(4, 4);
    assert_non_null(g);
    check_hist(g, (const int[]){10, 32, 11, 32, 12, 64, 18, 112, 19, 112, 20, 224, -1});
    sums(g, &su, &sp);
    assert_true(su == 2893400LL && sp == 357783408LL);
    check_neigh(g, 0, (const long[]){1, 4, 288, 296, 304, 312, 320, 328, 336, 344}, 10);
    assert_int_equal(triangles(g), 4016);
    graph_free(g);

    g = graph_zephyr(6, 4);
    sums(g, &su, &sp);
    assert_true(su == 14215800LL && sp == 3824586104LL);
    long n6[10] = {1, 6};
    for (int i = 0; i < 8; i++) n6[2 + i] = 624 + 12 * i;
    check_neigh(g, 0, n6, 10);
    graph_free(g);

    g = graph_zephyr(12, 4);
    check_hist(g, (const int[]){10, 32, 11, 32, 12, 320, 18, 368, 19, 368, 20, 3680, -1});
    sums(g, &su, &sp);
    assert_true(su == 220101336LL && sp == 228452008144LL);
    long n12[10] = {1, 12};
    for (int i = 0; i < 8; i++) n12[2 + i] = 2400 + 24 * i;
    check_neigh(g, 0, n12, 10);
    graph_free(g);
}

/* ---- coordinates ---- */

static void test_coordinates(void **st)
{
    (void)st;
    /* published vectors */
    int nc[5] = {0, 0, 0, 0, 0}, pc[4], zc[5];
    assert_int_equal(graph_nice_to_pegasus(2, nc, pc), 0);
    assert_true(pc[0] == 0 && pc[1] == 0 && pc[2] == 4 && pc[3] == 0);
    assert_int_equal(graph_pegasus_to_linear(2, pc), 4);
    int nc2[5] = {2, 14, 14, 1, 3};
    assert_int_equal(graph_nice_to_pegasus(16, nc2, pc), 0);
    assert_true(pc[0] == 1 && pc[1] == 14 && pc[2] == 11 && pc[3] == 14);
    assert_int_equal(graph_pegasus_to_linear(16, pc), 5579);
    int nc3[5] = {1, 3, 5, 0, 2};
    assert_int_equal(graph_nice_to_pegasus(16, nc3, pc), 0);
    assert_true(pc[0] == 0 && pc[1] == 5 && pc[2] == 10 && pc[3] == 3);
    assert_int_equal(graph_pegasus_to_linear(16, pc), 1053);
    assert_int_equal(graph_linear_to_pegasus(16, 30, pc), 0);
    assert_true(pc[0] == 0 && pc[1] == 0 && pc[2] == 2 && pc[3] == 0);
    assert_int_equal(graph_pegasus_to_nice(16, pc, nc), -1);
    assert_int_equal(graph_linear_to_zephyr(4, 4, 300, zc), 0);
    assert_true(zc[0] == 1 && zc[1] == 0 && zc[2] == 1 && zc[3] == 1 && zc[4] == 0);
    int z2[5] = {1, 8, 3, 1, 3};
    assert_int_equal(graph_zephyr_to_linear(4, 4, z2), 575);

    /* round trips over every index */
    for (long l = 0; l < 2L * 3 * 5 * 3; l++) {
        int c[4];
        assert_int_equal(graph_linear_to_chimera(3, 5, 3, l, c), 0);
        assert_int_equal(graph_chimera_to_linear(3, 5, 3, c), l);
    }
    assert_int_equal(graph_linear_to_chimera(3, 5, 3, 90, pc), -1);
    for (int m = 2; m <= 16; m += 7) {
        int nnice = 0;
        for (long l = 0; l < 24L * m * (m - 1); l++) {
            int c[4], n5[5], back[4];
            assert_int_equal(graph_linear_to_pegasus(m, l, c), 0);
            assert_int_equal(graph_pegasus_to_linear(m, c), l);
            if (graph_pegasus_to_nice(m, c, n5) == 0) {
                nnice++;
                assert_int_equal(graph_nice_to_pegasus(m, n5, back), 0);
                assert_memory_equal(back, c, sizeof back);
            }
        }
        assert_int_equal(nnice, 24 * (m - 1) * (m - 1));
        /* every nice coordinate maps to a distinct node and back */
        for (int t = 0; t < 3; t++)
            for (int y = 0; y < m - 1; y++)
                for (int x = 0; x < m - 1; x++)
                    for (int u = 0; u < 2; u++)
                        for (int k = 0; k < 4; k++) {
                            int n5[5] = {t, y, x, u, k}, c[4], b5[5];
                            assert_int_equal(graph_nice_to_pegasus(m, n5, c), 0);
                            assert_int_equal(graph_pegasus_to_nice(m, c, b5), 0);
                            assert_memory_equal(n5, b5, sizeof b5);
                        }
    }
    for (int m = 1; m <= 4; m++)
        for (int t = 1; t <= 4; t += 3)
            for (long l = 0; l < 4L * t * m * (2 * m + 1); l++) {
                int c[5];
                assert_int_equal(graph_linear_to_zephyr(m, t, l, c), 0);
                assert_int_equal(graph_zephyr_to_linear(m, t, c), l);
            }
    int bad[5] = {2, 0, 0, 0, 0};
    assert_int_equal(graph_zephyr_to_linear(4, 4, bad), -1);

    /* colours follow the published formulas */
    struct graph *g = graph_zephyr(3, 2);
    for (int v = 0; v < g->nv; v++) {
        int c[5];
        graph_linear_to_zephyr(3, 2, g->label[v], c);
        assert_int_equal(g->color[v], c[3] + ((c[1] + 2 * (c[4] + c[0]) + c[3]) & 2));
    }
    graph_free(g);
    /* Zephyr placer on Z(1,1): raw x in [0.125, 4.75], y in [-4.75, -0.125]; node
     * (u,w,k,j,z) = (0,1,0,1,0) has W = 2.75, Z = 3.5 -> (2.625/4.625, 3.375/4.625) */
    g = graph_zephyr(1, 1);
    int zc1[5] = {0, 1, 0, 1, 0};
    int zv = graph_find_label(g, graph_zephyr_to_linear(1, 1, zc1));
    assert_float_equal(g->x[zv], 2.625 / 4.625, 1e-6);
    assert_float_equal(g->y[zv], 3.375 / 4.625, 1e-6);
    graph_free(g);
    /* Pegasus and Zephyr drawings span exactly [0,1] on the full graphs */
    struct graph *full[] = {graph_pegasus(6, PEGASUS_FULL), graph_zephyr(4, 4), graph_pegasus(6, PEGASUS_NICE)};
    for (int i = 0; i < 3; i++) {
        float x0 = 1, x1 = 0, y0 = 1, y1 = 0;
        for (int q = 0; q < full[i]->nv; q++) {
            x0 = fminf(x0, full[i]->x[q]); x1 = fmaxf(x1, full[i]->x[q]);
            y0 = fminf(y0, full[i]->y[q]); y1 = fmaxf(y1, full[i]->y[q]);
        }
        assert_float_equal(x0, 0, 1e-6);
        assert_float_equal(x1, 1, 1e-6);
        assert_float_equal(y0, 0, 1e-6);
        assert_float_equal(y1, 1, 1e-6);
        graph_free(full[i]);
    }
    /* Chimera terminal layout: C(2,2,4), node (1,1,0,3) at col 7+4=11, row 7+2=9, scale 1/11 */
    g = graph_chimera(2, 2, 4);
    int c4[4] = {1, 1, 0, 3};
    int v = graph_find_label(g, graph_chimera_to_linear(2, 2, 4, c4));
    assert_float_equal(g->x[v], 1.0, 1e-6);
    assert_float_equal(g->y[v], 9.0 / 11.0, 1e-6);
    graph_free(g);
}

/* ---- subgraphs, edge lists, binary form ---- */

static void test_subgraphs(void **st)
{
    (void)st;
    struct graph *tops[] = {graph_chimera(4, 4, 4), graph_pegasus(4, PEGASUS_FABRIC), graph_zephyr(2, 4)};
    for (int ti = 0; ti < 3; ti++) {
        struct graph *g = tops[ti];
        for (int size = 12; size <= 20; size += 4)
            for (uint64_t seed = 1; seed <= 3; seed++) {
                struct graph *s = graph_random_connected_subgraph(g, size, seed);
                assert_non_null(s);
                assert_int_equal(s->nv, size);
                assert_true(graph_connected(s));
                check_invariants(s);
                /* induced: every parent edge between kept nodes is present */
                long want = 0;
                for (long k = 0; k < g->ne; k++)
                    if (graph_find_label(s, g->label[g->edges[k][0]]) >= 0 &&
                        graph_find_label(s, g->label[g->edges[k][1]]) >= 0) want++;
                assert_int_equal(s->ne, want);
                assert_int_equal(s->kind, g->kind);
                for (int v = 0; v < s->nv; v++) {
                    int p = graph_find_label(g, s->label[v]);
                    assert_true(p >= 0);
                    assert_int_equal(s->color[v], g->color[p]);
                    assert_true(s->x[v] == g->x[p] && s->y[v] == g->y[p]);
                }
                struct graph *s2 = graph_random_connected_subgraph(g, size, seed);
                assert_int_equal(s2->nv, s->nv);
                assert_memory_equal(s2->label, s->label, (size_t)s->nv * sizeof(long));
                graph_free(s2);
                /* binary form round trip */
                unsigned char *buf; size_t len, used;
                assert_int_equal(graph_serialize(s, &buf, &len), 0);
                struct graph *r = graph_deserialize(buf, len, &used);
                assert_non_null(r);
                assert_int_equal(used, len);
                assert_int_equal(r->nv, s->nv);
                assert_int_equal(r->ne, s->ne);
                assert_memory_equal(r->edges, s->edges, (size_t)s->ne * sizeof *s->edges);
                assert_memory_equal(r->color, s->color, (size_t)s->nv * sizeof(int));
                assert_memory_equal(r->x, s->x, (size_t)s->nv * sizeof(float));
                assert_string_equal(r->desc, s->desc);
                graph_free(r);
                /* corrupt: truncated, bad magic */
                assert_null(graph_deserialize(buf, len - 1, &used));
                buf[0] ^= 1;
                assert_null(graph_deserialize(buf, len, &used));
                free(buf);
                struct graph *c = graph_clone(s);
                check_invariants(c);
                graph_free(c);
                graph_free(s);
            }
        assert_null(graph_random_connected_subgraph(g, 0, 1));
        assert_null(graph_random_connected_subgraph(g, g->nv + 1, 1));
        graph_free(g);
    }
    /* explicit keep list in any order: node i of the subgraph is keep[i] */
    struct graph *c2 = graph_chimera(2, 2, 4);
    int keep[] = {9, 0, 4, 5, 17};
    struct graph *s5 = graph_subgraph(c2, 5, keep);
    assert_non_null(s5);
    check_invariants(s5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s5->label[i], c2->label[keep[i]]);
        assert_int_equal(graph_find_label(s5, c2->label[keep[i]]), i);
    }
    /* labels 0–4 and 0–5 are couplers of cell (0,0) (shore 0 to shore 1); 4 and 5 share a shore */
    assert_true(graph_edge_index(s5, 1, 2) >= 0 && graph_edge_index(s5, 1, 3) >= 0);
    assert_int_equal(graph_edge_index(s5, 2, 3), -1);   /* same shore: never coupled */
    int dupk[] = {1, 1};
    assert_null(graph_subgraph(c2, 2, dupk));
    int badk[] = {1, 99};
    assert_null(graph_subgraph(c2, 2, badk));
    graph_free(s5);
    graph_free(c2);
    /* a graph of two components: no connected cut larger than a component */
    long e[][2] = {{0, 1}, {1, 2}, {10, 11}};
    long lab[] = {0, 1, 2, 10, 11};
    struct graph *g = graph_from_edges(5, lab, 3, (const long (*)[2])e);
    assert_non_null(g);
    assert_null(graph_random_connected_subgraph(g, 4, 7));
    struct graph *s = graph_random_connected_subgraph(g, 3, 7);
    assert_non_null(s);
    assert_int_equal(s->label[0], 0);
    graph_free(s);
    graph_free(g);
}

static void test_edge_lists(void **st)
{
    (void)st;
    /* K4 plus a pendant node and an isolated one, labels out of order, one duplicate edge */
    long lab[] = {40, 10, 30, 20, 50, 99};
    long e[][2] = {{10, 20}, {10, 30}, {10, 40}, {20, 30}, {20, 40}, {30, 40}, {40, 50}, {20, 10}};
    struct graph *g = graph_from_edges(6, lab, 8, (const long (*)[2])e);
    assert_non_null(g);
    assert_int_equal(g->nv, 6);
    assert_int_equal(g->ne, 7);
    assert_int_equal(g->kind, GRAPH_EDGELIST);
    check_invariants(g);
    assert_int_equal(g->ncolors, 4);      /* K4 needs 4; greedy by degree finds exactly 4 */
    assert_int_equal(g->label[0], 10);
    assert_int_equal(graph_find_label(g, 99), 5);
    assert_int_equal(graph_find_label(g, 98), -1);
    assert_int_equal(graph_degree(g, 5), 0);
    graph_free(g);

    long bad1[][2] = {{10, 10}};
    assert_null(graph_from_edges(6, lab, 1, (const long (*)[2])bad1));
    assert_non_null(strstr(qv_errmsg(), "self-loop"));
    long bad2[][2] = {{10, 11}};
    assert_null(graph_from_edges(6, lab, 1, (const long (*)[2])bad2));
    assert_non_null(strstr(qv_errmsg(), "not in the node list"));
    long dup[] = {1, 2, 1};
    assert_null(graph_from_edges(3, dup, 0, NULL));
    assert_non_null(strstr(qv_errmsg(), "twice"));
    assert_null(graph_from_edges(-1, NULL, 0, NULL));

    /* text files */
    const char *tmp = getenv("QVAE_TMP");
    char path[512];
    snprintf(path, sizeof path, "%s/edges.txt", tmp ? tmp : "/tmp");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "# a 5-cycle and an isolated node\n0 1\n1 2\n  2 3 # comment\n3 4\n4 0\n\n7\n");
    fclose(f);
    g = graph_load_edges(path);
    assert_non_null(g);
    assert_int_equal(g->nv, 6);
    assert_int_equal(g->ne, 5);
    assert_int_equal(g->ncolors, 3);     /* odd cycle */
    check_invariants(g);
    graph_free(g);
    f = fopen(path, "w");
    fprintf(f, "0 1\n1 x\n");
    fclose(f);
    assert_null(graph_load_edges(path));
    assert_non_null(strstr(qv_errmsg(), ":2:"));
    f = fopen(path, "w");
    fprintf(f, "0 1 2\n");
    fclose(f);
    assert_null(graph_load_edges(path));
    f = fopen(path, "w");
    fprintf(f, "0 -1\n");
    fclose(f);
    assert_null(graph_load_edges(path));
    f = fopen(path, "w");
    fprintf(f, "# nothing\n");
    fclose(f);
    assert_null(graph_load_edges(path));
    assert_null(graph_load_edges("/nonexistent/edges.txt"));
}

static void test_bad_sizes(void **st)
{
    (void)st;
    assert_null(graph_chimera(0, 4, 4));
    assert_non_null(strstr(qv_errmsg(), "chimera"));
    assert_null(graph_chimera(4, -1, 4));
    assert_null(graph_chimera(4, 4, 0));
    assert_null(graph_chimera(100000, 100000, 4));
    assert_non_null(strstr(qv_errmsg(), "too large"));
    assert_null(graph_chimera(2147483647, 2147483647, 2147483647));
    assert_null(graph_pegasus(1, PEGASUS_FABRIC));
    assert_null(graph_pegasus(0, PEGASUS_FULL));
    assert_null(graph_pegasus(-5, PEGASUS_FULL));
    assert_null(graph_pegasus(100000, PEGASUS_FABRIC));
    assert_non_null(strstr(qv_errmsg(), "too large"));
    assert_null(graph_zephyr(0, 4));
    assert_null(graph_zephyr(4, 0));
    assert_null(graph_zephyr(50000, 4));
    assert_non_null(strstr(qv_errmsg(), "too large"));
    /* the smallest valid sizes */
    struct graph *g = graph_chimera(1, 1, 1);
    assert_int_equal(g->nv, 2);
    assert_int_equal(g->ne, 1);
    check_invariants(g);
    graph_free(g);
    g = graph_zephyr(1, 1);
    assert_non_null(g);
    check_invariants(g);
    graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_chimera_vectors),
        cmocka_unit_test(test_pegasus_vectors),
        cmocka_unit_test(test_zephyr_vectors),
        cmocka_unit_test(test_coordinates),
        cmocka_unit_test(test_subgraphs),
        cmocka_unit_test(test_edge_lists),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
