/* graph.c — hardware graphs: Chimera C(m,n,t), Pegasus P(m) (fabric / full / nice), Zephyr Z(m,t),
 * edge-list graphs and induced subgraphs.  One builder turns (labels, edges) into the compact CSR
 * form of graph.h; the generators only list labels and edges, and node attributes (colour,
 * drawing position) are derived from each node's label, so a subgraph or a reloaded graph gets
 * exactly the attributes of its parent.  Rules and test vectors: topologies.md §3. */
#include "graph.h"
#include "rng.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <ctype.h>
#include <errno.h>

/* ---- sizes ---- */

/* Bytes the graph arrays need (generous per-node / per-edge costs incl. temporaries). */
static int size_check(double nv, double ne, const char *what)
{
    double bytes = nv * 64.0 + ne * 48.0;
    if (nv > (double)(INT_MAX / 4) || ne > (double)(LONG_MAX / 64) || bytes > (double)GRAPH_MAX_BYTES)
        return qv_seterr("%s: %.0f nodes and %.0f edges are too large for memory (limit %.0f MiB)",
                         what, nv, ne, (double)GRAPH_MAX_BYTES / 1048576.0);
    return 0;
}

/* ---- the builder ---- */

static int cmp_edge(const void *a, const void *b)
{
    const int *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    if (x[1] != y[1]) return x[1] < y[1] ? -1 : 1;
    return 0;
}

static void graph_index_labels(struct graph *g)
{
    g->label_order = qv_mallocarray((size_t)QV_MAX(g->nv, 1), sizeof(int));
    bool sorted = true;
    for (int i = 0; i < g->nv; i++) {
        g->label_order[i] = i;
        if (i && g->label[i] <= g->label[i - 1]) sorted = false;
    }
    if (!sorted) {
        /* bottom-up merge sort of node ids by label (qsort has no context argument) */
        int *tmp = qv_mallocarray((size_t)g->nv, sizeof(int));
        int *a = g->label_order;
        for (int w = 1; w < g->nv; w *= 2) {
            for (int lo = 0; lo < g->nv; lo += 2 * w) {
                int mid = QV_MIN(lo + w, g->nv), hi = QV_MIN(lo + 2 * w, g->nv);
                int i = lo, j = mid, k = lo;
                while (i < mid && j < hi) tmp[k++] = g->label[a[j]] < g->label[a[i]] ? a[j++] : a[i++];
                while (i < mid) tmp[k++] = a[i++];
                while (j < hi) tmp[k++] = a[j++];
            }
            memcpy(a, tmp, (size_t)g->nv * sizeof(int));
        }
        free(tmp);
    }
}

/* Takes ownership of labels [nv] and e [ne] (compact ids).  Normalises each edge to u<v, sorts,
 * merges duplicates, rejects self-loops and out-of-range ids, builds CSR. */
static struct graph *graph_build(enum graph_kind kind, int nv, long *labels, long ne, int (*e)[2])
{
    for (long k = 0; k < ne; k++) {
        int u = e[k][0], v = e[k][1];
        if (u < 0 || v < 0 || u >= nv || v >= nv) {
            free(labels); free(e);
            qv_seterr("graph: edge %ld: node id out of range", k);
            return NULL;
        }
        if (u == v) {
            long lab = labels[u];
            free(labels); free(e);
            qv_seterr("graph: edge %ld: self-loop on node %ld", k, lab);
            return NULL;
        }
        if (u > v) { e[k][0] = v; e[k][1] = u; }
    }
    if (ne > 1) qsort(e, (size_t)ne, sizeof *e, cmp_edge);
    long w = 0;
    for (long k = 0; k < ne; k++)
        if (w == 0 || cmp_edge(e[k], e[w - 1]) != 0) { e[w][0] = e[k][0]; e[w][1] = e[k][1]; w++; }
    ne = w;

    struct graph *g = qv_calloc(1, sizeof *g);
    g->kind = kind;
    g->nv = nv;
    g->ne = ne;
    g->label = labels;
    g->edges = e;
    g->adj_start = qv_calloc((size_t)nv + 1, sizeof(long));
    g->adj = qv_mallocarray((size_t)QV_MAX(2 * ne, 1), sizeof(int));
    g->adj_edge = qv_mallocarray((size_t)QV_MAX(2 * ne, 1), sizeof(long));
    for (long k = 0; k < ne; k++) { g->adj_start[e[k][0] + 1]++; g->adj_start[e[k][1] + 1]++; }
    for (int i = 0; i < nv; i++) g->adj_start[i + 1] += g->adj_start[i];
    long *fill = qv_mallocarray((size_t)QV_MAX(nv, 1), sizeof(long));
    memcpy(fill, g->adj_start, (size_t)nv * sizeof(long));
    /* Edges sorted lexicographically: for node u, the edges (x,u) x<u come before the edges
     * (u,y), each in increasing order, so every adjacency list comes out sorted. */
    for (long k = 0; k < ne; k++) {
        int u = e[k][0], v = e[k][1];
        g->adj[fill[u]] = v; g->adj_edge[fill[u]++] = k;
        g->adj[fill[v]] = u; g->adj_edge[fill[v]++] = k;
    }
    free(fill);
    for (int i = 0; i < nv; i++) g->maxdeg = QV_MAX(g->maxdeg, graph_degree(g, i));
    g->color = qv_calloc((size_t)QV_MAX(nv, 1), sizeof(int));
    g->x = qv_calloc((size_t)QV_MAX(nv, 1), sizeof(float));
    g->y = qv_calloc((size_t)QV_MAX(nv, 1), sizeof(float));
    graph_index_labels(g);
    return g;
}

void graph_free(struct graph *g)
{
    if (!g) return;
    free(g->edges); free(g->adj_start); free(g->adj); free(g->adj_edge); free(g->label);
    free(g->color); free(g->x); free(g->y); free(g->label_order);
    free(g);
}

struct graph *graph_clone(const struct graph *g)
{
    if (!g) return NULL;
    struct graph *c = qv_malloc(sizeof *c);
    *c = *g;
    size_t nv = (size_t)QV_MAX(g->nv, 1), e2 = (size_t)QV_MAX(2 * g->ne, 1);
#define DUP(f, cnt) do { c->f = qv_mallocarray(cnt, sizeof *g->f); memcpy(c->f, g->f, (cnt) * sizeof *g->f); } while (0)
    DUP(edges, (size_t)QV_MAX(g->ne, 1));
    DUP(adj_start, (size_t)g->nv + 1);
    DUP(adj, e2);
    DUP(adj_edge, e2);
    DUP(label, nv);
    DUP(color, nv);
    DUP(x, nv);
    DUP(y, nv);
    DUP(label_order, nv);
#undef DUP
    return c;
}

int graph_find_label(const struct graph *g, long label)
{
    int lo = 0, hi = g->nv - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        long l = g->label[g->label_order[mid]];
        if (l == label) return g->label_order[mid];
        if (l < label) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

long graph_edge_index(const struct graph *g, int u, int v)
{
    if (u < 0 || v < 0 || u >= g->nv || v >= g->nv) return -1;
    long lo = g->adj_start[u], hi = g->adj_start[u + 1] - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (g->adj[mid] == v) return g->adj_edge[mid];
        if (g->adj[mid] < v) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

/* ---- coordinates ---- */

long graph_chimera_to_linear(int m, int n, int t, const int c[4])
{
    if (c[0] < 0 || c[0] >= m || c[1] < 0 || c[1] >= n || c[2] < 0 || c[2] > 1 || c[3] < 0 || c[3] >= t)
        return -1;
    return (((long)c[0] * n + c[1]) * 2 + c[2]) * t + c[3];
}

int graph_linear_to_chimera(int m, int n, int t, long r, int c[4])
{
    if (m < 1 || n < 1 || t < 1 || r < 0 || r >= 2L * m * n * t) return -1;
    c[3] = (int)(r % t); r /= t;
    c[2] = (int)(r % 2); r /= 2;
    c[1] = (int)(r % n);
    c[0] = (int)(r / n);
    return 0;
}

static const int peg_s0[12] = {2, 2, 2, 2, 10, 10, 10, 10, 6, 6, 6, 6};
static const int peg_s1[12] = {6, 6, 6, 6, 2, 2, 2, 2, 10, 10, 10, 10};

long graph_pegasus_to_linear(int m, const int c[4])
{
    if (m < 2 || c[0] < 0 || c[0] > 1 || c[1] < 0 || c[1] >= m || c[2] < 0 || c[2] >= 12 ||
        c[3] < 0 || c[3] >= m - 1)
        return -1;
    return (((long)c[0] * m + c[1]) * 12 + c[2]) * (m - 1) + c[3];
}

int graph_linear_to_pegasus(int m, long r, int c[4])
{
    if (m < 2 || r < 0 || r >= 24L * m * (m - 1)) return -1;
    c[3] = (int)(r % (m - 1)); r /= (m - 1);
    c[2] = (int)(r % 12); r /= 12;
    c[1] = (int)(r % m);
    c[0] = (int)(r / m);
    return 0;
}

int graph_nice_to_pegasus(int m, const int nc[5], int c[4])
{
    int t = nc[0], y = nc[1], x = nc[2], u = nc[3], k = nc[4];
    if (m < 2 || t < 0 || t > 2 || y < 0 || y >= m - 1 || x < 0 || x >= m - 1 || u < 0 || u > 1 ||
        k < 0 || k > 3)
        return -1;
    c[0] = u;
    c[3] = u ? x : y;
    if (t == 0) { c[1] = u ? y + 1 : x; c[2] = 4 + k; }
    else if (t == 1) { c[1] = u ? y + 1 : x; c[2] = u ? k : 8 + k; }
    else { c[1] = u ? y : x + 1; c[2] = u ? 8 + k : k; }
    return 0;
}

int graph_pegasus_to_nice(int m, const int c[4], int nc[5])
{
    int u = c[0], w = c[1], k = c[2], z = c[3];
    if (graph_pegasus_to_linear(m, c) < 0) return -1;
    int t = ((2 - u - (2 * u - 1) * (k / 4)) % 3 + 3) % 3;
    int y, x, kk;
    if (t == 0) { y = u ? w - 1 : z; x = u ? z : w; kk = k - 4; }
    else if (t == 1) { y = u ? w - 1 : z; x = u ? z : w; kk = u ? k : k - 8; }
    else { y = u ? w : z; x = u ? z : w - 1; kk = u ? k - 8 : k; }
    if (y < 0 || y >= m - 1 || x < 0 || x >= m - 1 || kk < 0 || kk > 3) return -1;
    nc[0] = t; nc[1] = y; nc[2] = x; nc[3] = u; nc[4] = kk;
    return 0;
}

long graph_zephyr_to_linear(int m, int t, const int c[5])
{
    long M = 2L * m + 1;
    if (m < 1 || t < 1 || c[0] < 0 || c[0] > 1 || c[1] < 0 || c[1] >= M || c[2] < 0 || c[2] >= t ||
        c[3] < 0 || c[3] > 1 || c[4] < 0 || c[4] >= m)
        return -1;
    return ((((long)c[0] * M + c[1]) * t + c[2]) * 2 + c[3]) * m + c[4];
}

int graph_linear_to_zephyr(int m, int t, long r, int c[5])
{
    long M = 2L * m + 1;
    if (m < 1 || t < 1 || r < 0 || r >= 4L * t * m * M) return -1;
    c[4] = (int)(r % m); r /= m;
    c[3] = (int)(r % 2); r /= 2;
    c[2] = (int)(r % t); r /= t;
    c[1] = (int)(r % M);
    c[0] = (int)(r / M);
    return 0;
}

/* ---- node attributes from labels (colour, drawing position) ---- */

/* Terminal Chimera cross placer (topologies.md §3.5), normalised by 1/(max(m,n)(t+3) - 3). */
static void chimera_place(int m, int n, int t, int i, int j, int u, int k, float *x, float *y)
{
    int c = t / 2, L = t + 3, p = k < c ? k : k + 1;
    double col = (double)j * L + (u == 0 ? p : c);
    double row = (double)i * L + (u == 0 ? c : p);
    double s = (double)QV_MAX(m, n) * L - 3;
    if (s <= 0) s = 1;
    *x = (float)fmin(1.0, col / s);
    *y = (float)fmin(1.0, row / s);
}

static void pegasus_raw(int m, long lab, double *x, double *y)
{
    int c[4] = {0};
    graph_linear_to_pegasus(m, lab, c);
    int u = c[0], w = c[1], k = c[2], z = c[3];
    double e = (k % 2 == 0) ? 0.1 : -0.1;
    if (u == 0) { *x = 12.0 * w + k + e; *y = -(12.0 * z + peg_s0[k] + 5.5); }
    else { *x = 12.0 * z + peg_s1[k] + 5.5; *y = -(12.0 * w + k + e); }
}

static void zephyr_raw(int m, int t, long lab, double *x, double *y)
{
    int c[5] = {0};
    graph_linear_to_zephyr(m, t, lab, c);
    int u = c[0], w = c[1], k = c[2], j = c[3], z = c[4];
    double W = 2.0 * t * w + 2.0 * k + 0.625 * j + 0.125;
    double Z = (2.0 * z + j + 1) * 2.0 * t - 0.5;
    if (u == 0) { *x = W; *y = -Z; }
    else { *x = Z; *y = -W; }
}

/* Fill color/x/y of every node from its label, for the three topology kinds.  Pegasus and
 * Zephyr positions are normalised over the full topology, so subgraphs keep their place. */
static void topo_attrs(struct graph *g)
{
    if (g->kind == GRAPH_CHIMERA) {
        g->ncolors = 2;
        for (int v = 0; v < g->nv; v++) {
            int c[4] = {0};
            graph_linear_to_chimera(g->m, g->n, g->t, g->label[v], c);
            g->color[v] = (c[0] ^ c[1] ^ c[2]) & 1;
            chimera_place(g->m, g->n, g->t, c[0], c[1], c[2], c[3], &g->x[v], &g->y[v]);
        }
        return;
    }
    long total;
    if (g->kind == GRAPH_PEGASUS) total = 24L * g->m * (g->m - 1);
    else total = 4L * g->t * g->m * (2L * g->m + 1);
    double minx = INFINITY, maxx = -INFINITY, miny = INFINITY, maxy = -INFINITY;
    for (long l = 0; l < total; l++) {
        double x, y;
        if (g->kind == GRAPH_PEGASUS) pegasus_raw(g->m, l, &x, &y); else zephyr_raw(g->m, g->t, l, &x, &y);
        minx = fmin(minx, x); maxx = fmax(maxx, x); miny = fmin(miny, y); maxy = fmax(maxy, y);
    }
    double sx = maxx > minx ? maxx - minx : 1, sy = maxy > miny ? maxy - miny : 1;
    g->ncolors = 4;
    for (int v = 0; v < g->nv; v++) {
        double x, y;
        if (g->kind == GRAPH_PEGASUS) {
            int c[4] = {0}, nc[5];
            graph_linear_to_pegasus(g->m, g->label[v], c);
            g->color[v] = 2 * c[0] + ((c[2] ^ c[3]) & 1);
            if (g->pvar == PEGASUS_NICE && graph_pegasus_to_nice(g->m, c, nc) == 0) {
                /* Chimera placer on a C(3(m-1), 3(m-1), 4) grid, tile (3y+2-t, 3x+t). */
                int M = 3 * (g->m - 1);
                chimera_place(M, M, 4, 3 * nc[1] + 2 - nc[0], 3 * nc[2] + nc[0], nc[3], nc[4],
                              &g->x[v], &g->y[v]);
                continue;
            }
            pegasus_raw(g->m, g->label[v], &x, &y);
        } else {
            int c[5] = {0};
            graph_linear_to_zephyr(g->m, g->t, g->label[v], c);
            g->color[v] = c[3] + ((c[1] + 2 * (c[4] + c[0]) + c[3]) & 2);
            zephyr_raw(g->m, g->t, g->label[v], &x, &y);
        }
        g->x[v] = (float)((x - minx) / sx);
        g->y[v] = (float)((maxy - y) / sy);
    }
}

/* Greedy colouring (largest degree first) and a square grid layout, for edge-list graphs. */
static void edgelist_attrs(struct graph *g)
{
    int nv = g->nv;
    int *order = qv_mallocarray((size_t)QV_MAX(nv, 1), sizeof(int));
    /* counting sort by decreasing degree (stable in node id) */
    long *cnt = qv_calloc((size_t)g->maxdeg + 2, sizeof(long));
    for (int v = 0; v < nv; v++) cnt[g->maxdeg - graph_degree(g, v) + 1]++;
    for (int d = 0; d <= g->maxdeg; d++) cnt[d + 1] += cnt[d];
    for (int v = 0; v < nv; v++) order[cnt[g->maxdeg - graph_degree(g, v)]++] = v;
    free(cnt);
    int *mark = qv_mallocarray((size_t)g->maxdeg + 2, sizeof(int));
    for (int c = 0; c < g->maxdeg + 2; c++) mark[c] = -1;
    for (int v = 0; v < nv; v++) g->color[v] = -1;
    g->ncolors = nv ? 1 : 0;
    for (int o = 0; o < nv; o++) {
        int v = order[o];
        for (long a = g->adj_start[v]; a < g->adj_start[v + 1]; a++) {
            int c = g->color[g->adj[a]];
            if (c >= 0) mark[c] = v;
        }
        int c = 0;
        while (mark[c] == v) c++;
        g->color[v] = c;
        if (c + 1 > g->ncolors) g->ncolors = c + 1;
    }
    free(mark);
    free(order);
    int side = 1;
    while ((long)side * side < nv) side++;
    int rows = (nv + side - 1) / QV_MAX(side, 1);
    for (int v = 0; v < nv; v++) {
        g->x[v] = side > 1 ? (float)(v % side) / (float)(side - 1) : 0.5f;
        g->y[v] = rows > 1 ? (float)(v / side) / (float)(rows - 1) : 0.5f;
    }
}

/* ---- generators ---- */

struct edge_buf { int (*e)[2]; long n, cap; };
static void eb_push(struct edge_buf *b, int u, int v)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1024;
        b->e = qv_realloc(b->e, (size_t)b->cap * sizeof *b->e);
    }
    b->e[b->n][0] = u; b->e[b->n][1] = v; b->n++;
}

struct graph *graph_chimera(int m, int n, int t)
{
    if (m < 1 || n < 1 || t < 1) {
        qv_seterr("chimera: sizes must be positive integers (got M=%d N=%d T=%d)", m, n, t);
        return NULL;
    }
    double dnv = 2.0 * m * n * t, dne = (double)m * n * t * t + (m - 1.0) * n * t + m * (n - 1.0) * t;
    if (size_check(dnv, dne, "chimera") < 0) return NULL;
    int nv = (int)dnv;
    long *labels = qv_mallocarray((size_t)nv, sizeof(long));
    for (int v = 0; v < nv; v++) labels[v] = v;
    struct edge_buf b = {0};
    b.cap = (long)dne; b.e = qv_mallocarray((size_t)QV_MAX(b.cap, 1), sizeof *b.e);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            int c0[4] = {i, j, 0, 0}, c1[4] = {i, j, 1, 0};
            for (int k0 = 0; k0 < t; k0++)
                for (int k1 = 0; k1 < t; k1++) {
                    c0[3] = k0; c1[3] = k1;
                    eb_push(&b, (int)graph_chimera_to_linear(m, n, t, c0), (int)graph_chimera_to_linear(m, n, t, c1));
                }
            for (int k = 0; k < t; k++) {
                int a[4] = {i, j, 0, k}, d[4] = {i + 1, j, 0, k};
                if (i < m - 1) eb_push(&b, (int)graph_chimera_to_linear(m, n, t, a), (int)graph_chimera_to_linear(m, n, t, d));
                int h[4] = {i, j, 1, k}, r[4] = {i, j + 1, 1, k};
                if (j < n - 1) eb_push(&b, (int)graph_chimera_to_linear(m, n, t, h), (int)graph_chimera_to_linear(m, n, t, r));
            }
        }
    struct graph *g = graph_build(GRAPH_CHIMERA, nv, labels, b.n, b.e);
    if (!g) return NULL;
    g->m = m; g->n = n; g->t = t;
    snprintf(g->desc, sizeof g->desc, "chimera %d %d %d", m, n, t);
    topo_attrs(g);
    return g;
}

static bool peg_ok(int m, const int lo[2], const int hi[2], int u, int w, int k, int z)
{
    if (u < 0 || u > 1 || w < 0 || w >= m || k < 0 || k >= 12 || z < 0 || z >= m - 1) return false;
    if (w == 0 && k < lo[u]) return false;
    if (w == m - 1 && k >= 12 - hi[u]) return false;
    return true;
}

static const char *const peg_var_name[] = {"fabric", "full", "nice"};

/* Turn label-pair edges over a full index range [0,total) into a compact graph on the used
 * labels (nodes = endpoints of edges). */
static struct graph *build_from_label_edges(enum graph_kind kind, long total, struct edge_buf *b)
{
    int *map = qv_mallocarray((size_t)QV_MAX(total, 1), sizeof(int));
    for (long l = 0; l < total; l++) map[l] = -1;
    for (long k = 0; k < b->n; k++) { map[b->e[k][0]] = 0; map[b->e[k][1]] = 0; }
    int nv = 0;
    for (long l = 0; l < total; l++) if (map[l] == 0) map[l] = nv++;
    long *labels = qv_mallocarray((size_t)QV_MAX(nv, 1), sizeof(long));
    for (long l = 0; l < total; l++) if (map[l] >= 0) labels[map[l]] = l;
    for (long k = 0; k < b->n; k++) { b->e[k][0] = map[b->e[k][0]]; b->e[k][1] = map[b->e[k][1]]; }
    free(map);
    return graph_build(kind, nv, labels, b->n, b->e);
}

struct graph *graph_pegasus(int m, enum pegasus_variant v)
{
    if (m < 2) {
        qv_seterr("pegasus: M must be an integer >= 2 (got %d)", m);
        return NULL;
    }
    if ((int)v < 0 || (int)v > PEGASUS_NICE) {
        qv_seterr("pegasus: unknown variant %d", (int)v);
        return NULL;
    }
    double dnv = 24.0 * m * (m - 1), dne = 12.0 * (15.0 * (m - 1.0) * (m - 1.0) + m);
    if (size_check(dnv, dne, "pegasus") < 0) return NULL;
    int lo[2], hi[2];
    if (v == PEGASUS_FABRIC) { lo[0] = lo[1] = 2; hi[0] = hi[1] = 2; }
    else if (v == PEGASUS_FULL) { lo[0] = lo[1] = hi[0] = hi[1] = 0; }
    else { lo[0] = 4; lo[1] = 8; hi[0] = 8; hi[1] = 4; }
    struct edge_buf b = {0};
    b.cap = (long)dne + 16; b.e = qv_mallocarray((size_t)b.cap, sizeof *b.e);
#define PL(u, w, k, z) ((int)(((((long)(u) * m + (w)) * 12 + (k)) * (m - 1)) + (z)))
    for (int u = 0; u < 2; u++)
        for (int w = 0; w < m; w++)
            for (int k = 0; k < 12; k++)
                for (int z = 0; z < m - 1; z++) {
                    if (!peg_ok(m, lo, hi, u, w, k, z)) continue;
                    if (peg_ok(m, lo, hi, u, w, k, z + 1)) eb_push(&b, PL(u, w, k, z), PL(u, w, k, z + 1));
                    if (k % 2 == 0 && peg_ok(m, lo, hi, u, w, k + 1, z)) eb_push(&b, PL(u, w, k, z), PL(u, w, k + 1, z));
                }
    for (int w = 0; w < m; w++)
        for (int k = 0; k < 12; k++)
            for (int z = 0; z < m - 1; z++) {
                if (!peg_ok(m, lo, hi, 0, w, k, z)) continue;
                for (int kk = 0; kk < 12; kk++) {
                    int w2 = z + (kk < peg_s0[k] ? 1 : 0), z2 = w - (k < peg_s1[kk] ? 1 : 0);
                    if (peg_ok(m, lo, hi, 1, w2, kk, z2)) eb_push(&b, PL(0, w, k, z), PL(1, w2, kk, z2));
                }
            }
#undef PL
    struct graph *g = build_from_label_edges(GRAPH_PEGASUS, 24L * m * (m - 1), &b);
    if (!g) return NULL;
    g->m = m; g->pvar = v;
    if (v == PEGASUS_FABRIC) snprintf(g->desc, sizeof g->desc, "pegasus %d", m);
    else snprintf(g->desc, sizeof g->desc, "pegasus %d %s", m, peg_var_name[v]);
    topo_attrs(g);
    return g;
}

struct graph *graph_zephyr(int m, int t)
{
    if (m < 1 || t < 1) {
        qv_seterr("zephyr: sizes must be positive integers (got M=%d T=%d)", m, t);
        return NULL;
    }
    double dnv = 4.0 * t * m * (2.0 * m + 1), dne = 2.0 * t * ((8.0 * t + 8) * m * m + 3.0 * t);
    if (size_check(dnv, dne, "zephyr") < 0) return NULL;
    struct edge_buf b = {0};
    b.cap = (long)dne + 16; b.e = qv_mallocarray((size_t)b.cap, sizeof *b.e);
    int M = 2 * m + 1;
#define ZL(u, w, k, j, z) ((int)((((((long)(u) * M + (w)) * t + (k)) * 2 + (j)) * m) + (z)))
    for (int u = 0; u < 2; u++)
        for (int w = 0; w < M; w++)
            for (int k = 0; k < t; k++) {
                for (int j = 0; j < 2; j++)
                    for (int z = 0; z < m - 1; z++) eb_push(&b, ZL(u, w, k, j, z), ZL(u, w, k, j, z + 1));
                for (int a = 0; a < 2; a++)
                    for (int z = a; z < m; z++) eb_push(&b, ZL(u, w, k, 0, z), ZL(u, w, k, 1, z - a));
            }
    for (int w = 0; w < m; w++)
        for (int z = 0; z < m; z++)
            for (int h = 0; h < t; h++)
                for (int k = 0; k < t; k++)
                    for (int i = 0; i < 2; i++)
                        for (int j = 0; j < 2; j++)
                            for (int a = 0; a < 2; a++)
                                for (int bb = 0; bb < 2; bb++)
                                    eb_push(&b, ZL(0, 2 * w + 1 + a * (2 * i - 1), k, j, z),
                                            ZL(1, 2 * z + 1 + bb * (2 * j - 1), h, i, w));
#undef ZL
    struct graph *g = build_from_label_edges(GRAPH_ZEPHYR, 4L * t * m * M, &b);
    if (!g) return NULL;
    g->m = m; g->t = t;
    snprintf(g->desc, sizeof g->desc, "zephyr %d %d", m, t);
    topo_attrs(g);
    return g;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static int find_sorted(const long *s, int n, long key)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (s[mid] == key) return mid;
        if (s[mid] < key) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

struct graph *graph_from_edges(int nv, const long *labels, long ne, const long (*edges)[2])
{
    if (nv < 0 || ne < 0) {
        qv_seterr("edge list: negative size (nodes %d, edges %ld)", nv, ne);
        return NULL;
    }
    if (size_check(nv, (double)ne, "edge list") < 0) return NULL;
    long *lab = qv_mallocarray((size_t)QV_MAX(nv, 1), sizeof(long));
    for (int i = 0; i < nv; i++) {
        lab[i] = labels ? labels[i] : i;
        if (lab[i] < 0) {
            long l = lab[i];
            free(lab);
            qv_seterr("edge list: node label %ld is negative", l);
            return NULL;
        }
    }
    qsort(lab, (size_t)nv, sizeof(long), cmp_long);
    for (int i = 1; i < nv; i++)
        if (lab[i] == lab[i - 1]) {
            long l = lab[i];
            free(lab);
            qv_seterr("edge list: node label %ld appears twice", l);
            return NULL;
        }
    int (*e)[2] = qv_mallocarray((size_t)QV_MAX(ne, 1), sizeof *e);
    for (long k = 0; k < ne; k++)
        for (int s = 0; s < 2; s++) {
            int id = find_sorted(lab, nv, edges[k][s]);
            if (id < 0) {
                qv_seterr("edge list: edge %ld: node %ld is not in the node list", k + 1, edges[k][s]);
                free(lab); free(e);
                return NULL;
            }
            e[k][s] = id;
        }
    for (long k = 0; k < ne; k++)
        if (e[k][0] == e[k][1]) {
            qv_seterr("edge list: edge %ld: self-loop on node %ld", k + 1, edges[k][0]);
            free(lab); free(e);
            return NULL;
        }
    struct graph *g = graph_build(GRAPH_EDGELIST, nv, lab, ne, e);
    if (!g) return NULL;
    snprintf(g->desc, sizeof g->desc, "edges %d %ld", g->nv, g->ne);
    edgelist_attrs(g);
    return g;
}

struct graph *graph_load_edges(const char *path)
{
    unsigned char *buf;
    size_t len;
    if (qv_read_file(path, true, &buf, &len) < 0) return NULL;
    long (*ed)[2] = NULL; long ne = 0, ecap = 0;
    long *nodes = NULL; long nn = 0, ncap = 0;
    char *cur = (char *)buf, *p;
    long line = 0;
    struct graph *g = NULL;
    while ((p = qv_next_line(&cur))) {
        line++;
        long val[3]; int nval = 0;
        char *q = p;
        for (;;) {
            while (*q && isspace((unsigned char)*q)) q++;
            if (!*q) break;
            if (nval == 2) { qv_seterr("%s:%ld: expected \"U V\" (two node labels)", path, line); goto out; }
            char *end;
            errno = 0;
            long x = strtol(q, &end, 10);
            if (end == q || (*end && !isspace((unsigned char)*end)) || errno) {
                qv_seterr("%s:%ld: \"%.20s\" is not a node label (a non-negative integer)", path, line, q);
                goto out;
            }
            if (x < 0 || x > INT_MAX) {
                qv_seterr("%s:%ld: node label %ld out of range 0..%d", path, line, x, INT_MAX);
                goto out;
            }
            val[nval++] = x;
            q = end;
        }
        if (nval == 2 && val[0] == val[1]) {
            qv_seterr("%s:%ld: self-loop on node %ld", path, line, val[0]);
            goto out;
        }
        for (int s = 0; s < nval; s++) {
            if (nn == ncap) { ncap = ncap ? 2 * ncap : 256; nodes = qv_realloc(nodes, (size_t)ncap * sizeof(long)); }
            nodes[nn++] = val[s];
        }
        if (nval == 2) {
            if (ne == ecap) { ecap = ecap ? 2 * ecap : 256; ed = qv_realloc(ed, (size_t)ecap * sizeof *ed); }
            ed[ne][0] = val[0]; ed[ne][1] = val[1]; ne++;
        }
    }
    if (nn == 0) { qv_seterr("%s: no nodes or edges", path); goto out; }
    qsort(nodes, (size_t)nn, sizeof(long), cmp_long);
    long u = 0;
    for (long i = 0; i < nn; i++) if (u == 0 || nodes[i] != nodes[u - 1]) nodes[u++] = nodes[i];
    if (u > INT_MAX / 4) { qv_seterr("%s: too many nodes", path); goto out; }
    g = graph_from_edges((int)u, nodes, ne, (const long (*)[2])ed);
    if (!g) qv_preferr("%s", path);
out:
    free(buf); free(ed); free(nodes);
    return g;
}

/* ---- subgraphs ---- */

struct graph *graph_subgraph(const struct graph *g, int nkeep, const int *keep)
{
    if (nkeep < 0 || nkeep > g->nv) {
        qv_seterr("subgraph: %d nodes requested from a graph of %d", nkeep, g->nv);
        return NULL;
    }
    int *map = qv_mallocarray((size_t)QV_MAX(g->nv, 1), sizeof(int));
    for (int i = 0; i < g->nv; i++) map[i] = -1;
    for (int i = 0; i < nkeep; i++) {
        if (keep[i] < 0 || keep[i] >= g->nv || map[keep[i]] >= 0) {
            qv_seterr("subgraph: node id %d is out of range or repeated", keep[i]);
            free(map);
            return NULL;
        }
        map[keep[i]] = i;
    }
    long ne = 0;
    for (long k = 0; k < g->ne; k++) if (map[g->edges[k][0]] >= 0 && map[g->edges[k][1]] >= 0) ne++;
    int (*e)[2] = qv_mallocarray((size_t)QV_MAX(ne, 1), sizeof *e);
    ne = 0;
    for (long k = 0; k < g->ne; k++) {
        int a = map[g->edges[k][0]], b = map[g->edges[k][1]];
        if (a >= 0 && b >= 0) { e[ne][0] = a; e[ne][1] = b; ne++; }
    }
    long *labels = qv_mallocarray((size_t)QV_MAX(nkeep, 1), sizeof(long));
    for (int i = 0; i < nkeep; i++) labels[i] = g->label[keep[i]];
    struct graph *s = graph_build(g->kind, nkeep, labels, ne, e);
    if (!s) { free(map); return NULL; }
    s->m = g->m; s->n = g->n; s->t = g->t; s->pvar = g->pvar;
    s->ncolors = g->ncolors;
    for (int i = 0; i < nkeep; i++) {
        s->color[i] = g->color[keep[i]];
        s->x[i] = g->x[keep[i]];
        s->y[i] = g->y[keep[i]];
    }
    /* desc: parent description + " sub N", truncated to fit */
    char d[24];
    snprintf(d, sizeof d, " sub %d", nkeep);
    size_t room = sizeof s->desc - 1 - strlen(d), pl = strnlen(g->desc, sizeof g->desc);
    if (pl > room) pl = room;
    memcpy(s->desc, g->desc, pl);
    memcpy(s->desc + pl, d, strlen(d) + 1);
    free(map);
    return s;
}

struct graph *graph_random_connected_subgraph(const struct graph *g, int nkeep, uint64_t seed)
{
    if (nkeep < 1 || nkeep > g->nv) {
        qv_seterr("subgraph: cannot cut %d nodes from a graph of %d", nkeep, g->nv);
        return NULL;
    }
    struct rng r;
    rng_init(&r, seed, 0x5b);
    int nv = g->nv;
    int *comp = qv_mallocarray((size_t)nv, sizeof(int));
    int *front = qv_mallocarray((size_t)nv, sizeof(int));   /* BFS queue, then the frontier */
    long *csize = qv_mallocarray((size_t)nv, sizeof(long));
    /* connected components, so the start is drawn among nodes whose component is big enough */
    int nc = 0;
    for (int v = 0; v < nv; v++) comp[v] = -1;
    for (int v0 = 0; v0 < nv; v0++) {
        if (comp[v0] >= 0) continue;
        int head = 0, tail = 0;
        front[tail++] = v0; comp[v0] = nc;
        while (head < tail) {
            int v = front[head++];
            for (long a = g->adj_start[v]; a < g->adj_start[v + 1]; a++)
                if (comp[g->adj[a]] < 0) { comp[g->adj[a]] = nc; front[tail++] = g->adj[a]; }
        }
        csize[nc++] = tail;
    }
    long ncand = 0;
    for (int v = 0; v < nv; v++) ncand += csize[comp[v]] >= nkeep;
    struct graph *s = NULL;
    if (ncand == 0) {
        qv_seterr("subgraph: %s has no connected piece of %d nodes", g->desc, nkeep);
    } else {
        long pick = (long)rng_below(&r, (uint64_t)ncand);
        int start = 0;
        for (int v = 0; v < nv; v++)
            if (csize[comp[v]] >= nkeep && pick-- == 0) { start = v; break; }
        /* grow: add a uniformly chosen frontier node until nkeep are in.
         * st: 0 = out, 1 = frontier, 2 = in */
        unsigned char *st = qv_calloc((size_t)nv, 1);
        int *keep = qv_mallocarray((size_t)nkeep, sizeof(int));
        int nk = 0, nf = 0;
        front[nf++] = start; st[start] = 1;
        while (nk < nkeep && nf > 0) {
            int i = (int)rng_below(&r, (uint64_t)nf);
            int v = front[i];
            front[i] = front[--nf];
            st[v] = 2; nk++;
            for (long a = g->adj_start[v]; a < g->adj_start[v + 1]; a++)
                if (st[g->adj[a]] == 0) { st[g->adj[a]] = 1; front[nf++] = g->adj[a]; }
        }
        /* ascending node order, so labels stay sorted like the parent's */
        int w = 0;
        for (int v = 0; v < nv && w < nkeep; v++) if (st[v] == 2) keep[w++] = v;
        s = graph_subgraph(g, nkeep, keep);
        free(st); free(keep);
    }
    free(comp); free(front); free(csize);
    return s;
}

/* ---- checks and summaries ---- */

bool graph_coloring_ok(const struct graph *g)
{
    for (int v = 0; v < g->nv; v++)
        if (g->color[v] < 0 || g->color[v] >= g->ncolors) return false;
    for (long k = 0; k < g->ne; k++)
        if (g->color[g->edges[k][0]] == g->color[g->edges[k][1]]) return false;
    return true;
}

void graph_degree_hist(const struct graph *g, long *hist)
{
    for (int d = 0; d <= g->maxdeg; d++) hist[d] = 0;
    for (int v = 0; v < g->nv; v++) hist[graph_degree(g, v)]++;
}

bool graph_connected(const struct graph *g)
{
    if (g->nv == 0) return true;
    unsigned char *seen = qv_calloc((size_t)g->nv, 1);
    int *stack = qv_mallocarray((size_t)g->nv, sizeof(int));
    int sp = 0, cnt = 1;
    stack[sp++] = 0; seen[0] = 1;
    while (sp) {
        int v = stack[--sp];
        for (long a = g->adj_start[v]; a < g->adj_start[v + 1]; a++)
            if (!seen[g->adj[a]]) { seen[g->adj[a]] = 1; cnt++; stack[sp++] = g->adj[a]; }
    }
    free(seen); free(stack);
    return cnt == g->nv;
}

/* ---- binary form ---- */

#define GRAPH_MAGIC "QVGRAPH1"
struct graph_hdr {
    char magic[8];
    int32_t kind, m, n, t, pvar, nv, ncolors, reserved;
    int64_t ne;
    char desc[64];
};

int graph_serialize(const struct graph *g, unsigned char **out, size_t *len)
{
    size_t nv = (size_t)g->nv, ne = (size_t)g->ne;
    size_t sz = sizeof(struct graph_hdr) + nv * (8 + 4 + 4 + 4) + ne * 8;
    unsigned char *b = qv_calloc(1, sz), *p = b;
    struct graph_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, GRAPH_MAGIC, 8);
    h.kind = g->kind; h.m = g->m; h.n = g->n; h.t = g->t; h.pvar = g->pvar; h.nv = g->nv;
    h.ncolors = g->ncolors; h.ne = g->ne;
    memcpy(h.desc, g->desc, sizeof h.desc);
    memcpy(p, &h, sizeof h); p += sizeof h;
    for (size_t i = 0; i < nv; i++) { int64_t l = g->label[i]; memcpy(p, &l, 8); p += 8; }
    for (size_t k = 0; k < ne; k++) { int32_t e[2] = {g->edges[k][0], g->edges[k][1]}; memcpy(p, e, 8); p += 8; }
    for (size_t i = 0; i < nv; i++) { int32_t c = g->color[i]; memcpy(p, &c, 4); p += 4; }
    memcpy(p, g->x, nv * 4); p += nv * 4;
    memcpy(p, g->y, nv * 4); p += nv * 4;
    *out = b;
    *len = sz;
    return 0;
}

struct graph *graph_deserialize(const unsigned char *buf, size_t len, size_t *used)
{
    struct graph_hdr h;
    if (len < sizeof h) { qv_seterr("graph data: truncated header"); return NULL; }
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.magic, GRAPH_MAGIC, 8) != 0) { qv_seterr("graph data: bad magic"); return NULL; }
    if (h.kind < GRAPH_EDGELIST || h.kind > GRAPH_ZEPHYR || h.nv < 0 || h.ne < 0 ||
        h.pvar < 0 || h.pvar > PEGASUS_NICE || h.ncolors < 0 || h.ncolors > h.nv + 1) {
        qv_seterr("graph data: bad header");
        return NULL;
    }
    if (h.kind == GRAPH_CHIMERA && (h.m < 1 || h.n < 1 || h.t < 1)) { qv_seterr("graph data: bad chimera size"); return NULL; }
    if (h.kind == GRAPH_PEGASUS && h.m < 2) { qv_seterr("graph data: bad pegasus size"); return NULL; }
    if (h.kind == GRAPH_ZEPHYR && (h.m < 1 || h.t < 1)) { qv_seterr("graph data: bad zephyr size"); return NULL; }
    if (size_check(h.nv, (double)h.ne, "graph data") < 0) return NULL;
    /* labels of a topology graph must be indices of that topology (coordinates are derived) */
    double total = h.kind == GRAPH_CHIMERA ? 2.0 * h.m * h.n * h.t
                 : h.kind == GRAPH_PEGASUS ? 24.0 * h.m * (h.m - 1.0)
                 : h.kind == GRAPH_ZEPHYR ? 4.0 * h.t * h.m * (2.0 * h.m + 1) : 9.2e18;
    if (total > 9.2e18) { qv_seterr("graph data: bad topology size"); return NULL; }
    size_t nv = (size_t)h.nv, ne = (size_t)h.ne;
    size_t sz = sizeof h + nv * 20 + ne * 8;
    if (len < sz) { qv_seterr("graph data: truncated (%zu of %zu bytes)", len, sz); return NULL; }
    const unsigned char *p = buf + sizeof h;
    long *labels = qv_mallocarray(QV_MAX(nv, 1), sizeof(long));
    for (size_t i = 0; i < nv; i++) {
        int64_t l;
        memcpy(&l, p, 8); p += 8;
        if (l < 0 || (double)l >= total) { free(labels); qv_seterr("graph data: node label %lld out of range", (long long)l); return NULL; }
        labels[i] = (long)l;
    }
    int (*e)[2] = qv_mallocarray(QV_MAX(ne, 1), sizeof *e);
    for (size_t k = 0; k < ne; k++) { int32_t x[2]; memcpy(x, p, 8); p += 8; e[k][0] = x[0]; e[k][1] = x[1]; }
    struct graph *g = graph_build((enum graph_kind)h.kind, h.nv, labels, (long)ne, e);
    if (!g) { qv_preferr("graph data"); return NULL; }
    if (g->ne != (long)ne) { graph_free(g); qv_seterr("graph data: repeated edges"); return NULL; }
    for (size_t i = 1; i < nv; i++)
        if (g->label[g->label_order[i]] == g->label[g->label_order[i - 1]]) {
            graph_free(g); qv_seterr("graph data: repeated node label"); return NULL;
        }
    g->m = h.m; g->n = h.n; g->t = h.t; g->pvar = (enum pegasus_variant)h.pvar; g->ncolors = h.ncolors;
    memcpy(g->desc, h.desc, sizeof g->desc);
    g->desc[sizeof g->desc - 1] = 0;
    for (size_t i = 0; i < nv; i++) { int32_t c; memcpy(&c, p, 4); p += 4; g->color[i] = c; }
    memcpy(g->x, p, nv * 4); p += nv * 4;
    memcpy(g->y, p, nv * 4); p += nv * 4;
    for (size_t i = 0; i < nv; i++)
        if (!(g->x[i] >= 0 && g->x[i] <= 1 && g->y[i] >= 0 && g->y[i] <= 1)) {
            graph_free(g); qv_seterr("graph data: bad drawing coordinate"); return NULL;
        }
    if (!graph_coloring_ok(g)) { graph_free(g); qv_seterr("graph data: colouring is not proper"); return NULL; }
    if (used) *used = sz;
    return g;
}
