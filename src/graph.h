/* graph.h — hardware graphs (Chimera, Pegasus, Zephyr) and edge-list graphs: compact node
 * numbering 0..nv-1, CSR adjacency, a proper colouring, drawing coordinates, and the map to the
 * topology's linear (hardware) indices.  Rules and test vectors: shared docs topologies.md.
 * CONTRACT shared by several modules: the fields below are stable; the graph module may add
 * fields and functions. */
#ifndef QV_GRAPH_H
#define QV_GRAPH_H
#include "qv.h"

enum graph_kind { GRAPH_EDGELIST, GRAPH_CHIMERA, GRAPH_PEGASUS, GRAPH_ZEPHYR };
enum pegasus_variant { PEGASUS_FABRIC, PEGASUS_FULL, PEGASUS_NICE };

struct graph {
    enum graph_kind kind;
    int m, n, t;                 /* Chimera m,n,t; Pegasus m; Zephyr m,t */
    enum pegasus_variant pvar;
    char desc[64];               /* "chimera 6 6 4" */
    int nv;                      /* nodes, compact 0..nv-1 */
    long ne;                     /* edges */
    int (*edges)[2];             /* [ne] with edges[k][0] < edges[k][1], sorted */
    long *adj_start;             /* [nv+1] CSR offsets */
    int *adj;                    /* [2 ne] neighbour node */
    long *adj_edge;              /* [2 ne] edge index of that adjacency */
    long *label;                 /* [nv] linear (hardware) index of node i in the full topology */
    int ncolors;
    int *color;                  /* [nv] proper colouring, 0..ncolors-1 */
    float *x, *y;                /* [nv] drawing coordinates in [0,1] (y down), for the TUI */
    /* --- added by the graph module --- */
    int *label_order;            /* [nv] node ids sorted by label (graph_find_label) */
    int maxdeg;
};

/* Graphs whose arrays would need more than this many bytes are refused ("too large"). */
#define GRAPH_MAX_BYTES ((size_t)1 << 30)

/* Constructors return NULL with qv_seterr() on bad sizes. Free with graph_free(). */
struct graph *graph_chimera(int m, int n, int t);
struct graph *graph_pegasus(int m, enum pegasus_variant v);
struct graph *graph_zephyr(int m, int t);
/* Edge list over nodes labelled by arbitrary linear indices (labels kept in ->label). */
struct graph *graph_from_edges(int nv, const long *labels, long ne, const long (*edges)[2]);
/* Induced subgraph on the given compact node ids (keeps kind/dims/labels/coordinates). */
struct graph *graph_subgraph(const struct graph *g, int nkeep, const int *keep);
struct graph *graph_clone(const struct graph *g);
void graph_free(struct graph *g);
/* Compact node index of a hardware linear label, or -1. */
int graph_find_label(const struct graph *g, long label);
/* Edge index of (u,v) or -1. */
long graph_edge_index(const struct graph *g, int u, int v);
static inline int graph_degree(const struct graph *g, int i)
{ return (int)(g->adj_start[i + 1] - g->adj_start[i]); }

/* graph_from_edges (above): edges[k] are pairs of LABELS (values of labels[]); labels may be
 * NULL, meaning 0..nv-1.  Labels must be distinct and >= 0; self-loops are an error, repeated
 * edges are merged.  Nodes are numbered in ascending label order; kind GRAPH_EDGELIST, a greedy
 * colouring and a grid layout.  graph_subgraph: node i of the result is keep[i]. */
/* Text edge list: one "U V" pair of non-negative integer labels per line (a line with a single
 * label adds an isolated node), '#' starts a comment.  Errors name the file and line. */
struct graph *graph_load_edges(const char *path);
/* Connected induced subgraph of nkeep nodes grown from a random node by adding random frontier
 * nodes (the "random instance of 12–20 units cut from a topology").  Deterministic in seed. */
struct graph *graph_random_connected_subgraph(const struct graph *g, int nkeep, uint64_t seed);
/* true when no edge joins two nodes of the same colour. */
bool graph_coloring_ok(const struct graph *g);
/* Degree histogram: hist[d] = nodes of degree d, d = 0..maxdeg (caller gives maxdeg+1 slots). */
void graph_degree_hist(const struct graph *g, long *hist);
bool graph_connected(const struct graph *g);

/* Binary form (for sessions): everything needed to rebuild the graph exactly (kind, dims,
 * labels, edges, colours, coordinates).  graph_serialize returns a malloc'ed buffer. */
int graph_serialize(const struct graph *g, unsigned char **out, size_t *len);
/* Parses a buffer from graph_serialize; *used = bytes consumed.  NULL + error if malformed. */
struct graph *graph_deserialize(const unsigned char *buf, size_t len, size_t *used);

/* Linear index <-> coordinates (topologies.md §3).  *_to_linear return -1 when a coordinate is
 * out of range; graph_linear_to_* return -1 when the index is out of range (coordinates of the
 * full topology: a fabric-only Pegasus does not contain every index). */
long graph_chimera_to_linear(int m, int n, int t, const int c[4]);      /* (i,j,u,k) */
int  graph_linear_to_chimera(int m, int n, int t, long lin, int c[4]);
long graph_pegasus_to_linear(int m, const int c[4]);                    /* (u,w,k,z) */
int  graph_linear_to_pegasus(int m, long lin, int c[4]);
/* Nice coordinates (t,y,x,u,k); graph_pegasus_to_nice returns -1 when the node has none. */
int  graph_nice_to_pegasus(int m, const int nice[5], int c[4]);
int  graph_pegasus_to_nice(int m, const int c[4], int nice[5]);
long graph_zephyr_to_linear(int m, int t, const int c[5]);              /* (u,w,k,j,z) */
int  graph_linear_to_zephyr(int m, int t, long lin, int c[5]);

#endif
