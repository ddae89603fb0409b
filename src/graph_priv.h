/* graph_priv.h — what the graph core (graph.c) and the topology generators (graph_topo.c) share;
 * not for other modules. */
#ifndef QV_GRAPH_PRIV_H
#define QV_GRAPH_PRIV_H

#include "graph.h"

/* Refuse graphs whose arrays would need more than GRAPH_MAX_BYTES (generous per-node and
 * per-edge costs, temporaries included); what names the graph in the error. */
int graph_size_check(double nv, double ne, const char *what);
/* Takes ownership of labels [nv] and e [ne] (compact ids).  Normalises each edge to u<v, sorts,
 * merges duplicates, rejects self-loops and out-of-range ids, builds CSR.  NULL + error. */
struct graph *graph_build(enum graph_kind kind, int nv, long *labels, long ne, int (*e)[2]);
/* Colour and drawing position of every node of a Chimera / Pegasus / Zephyr graph from its label. */
void graph_topo_attrs(struct graph *g);

#endif
