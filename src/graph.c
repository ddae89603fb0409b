/* graph.c — the graph core: one builder turns (labels, edges) into the compact CSR form of
 * graph.h; on it edge-list graphs (from pairs or a file), induced and random connected
 * subgraphs, checks and summaries, and the binary form.  The topology generators (Chimera,
 * Pegasus, Zephyr: coordinates, labels and edges, attributes from labels) are graph_topo.c.
 * Node attributes (colour, drawing position) follow from each node's label, so a subgraph or a
 * reloaded graph gets exactly the attributes of its parent.  Rules and test vectors:
 * topologies.md §3. */
#include "graph.h"
#include "graph_priv.h"
#include "rng.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <ctype.h>
#include <errno.h>

/* ---- sizes ---- */

/* Bytes the graph arrays need (generous per-node / per-edge costs incl. temporaries). */
int graph_size_check(double nv, double ne, const char *what)
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
struct graph *graph_build(enum graph_kind kind, int nv, long *labels, long ne, int (*e)[2])
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

/* ---- edge lists ---- */

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
    if (graph_size_check(nv, (double)ne, "edge list") < 0) return NULL;
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
    if (graph_size_check(h.nv, (double)h.ne, "graph data") < 0) return NULL;
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
