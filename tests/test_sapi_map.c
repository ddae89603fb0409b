/* test_sapi_map.c — the qpu sampler's native mapping of a prior onto a solver's working graph
 * (samp_qpu.c via qpu_fit_graph): smaller Chimera/Pegasus/Zephyr lattices sit inside the ideal
 * full-size graphs edge for edge, and the full lattices fitted to the real solver definitions
 * keep exactly the published working qubits and couplers (DW_2000Q_5: 2030/5909;
 * Advantage_system4.1: 5627/40279; Advantage2_system1.5: 4594/41813). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "sapi.h"
#include "solver.h"

/* A solver whose working graph is the whole ideal graph g (labels = hardware indices). */
static struct solver_props *fake_solver(const struct graph *g, const char *topo, int nshape,
                                        const int *shape, int num_qubits)
{
    struct solver_props *sp = calloc(1, sizeof *sp);
    snprintf(sp->name, sizeof sp->name, "ideal_%s", topo);
    snprintf(sp->topology, sizeof sp->topology, "%s", topo);
    sp->nshape = nshape;
    for (int i = 0; i < nshape; i++) sp->shape[i] = shape[i];
    sp->num_qubits = num_qubits;
    sp->nq = g->nv;
    sp->qubits = malloc(sizeof(int) * (size_t)g->nv);
    for (int i = 0; i < g->nv; i++) sp->qubits[i] = (int)g->label[i];
    /* ascending labels, as SAPI sends them */
    for (int i = 1; i < g->nv; i++) assert_true(sp->qubits[i] > sp->qubits[i - 1]);
    sp->nc = g->ne;
    sp->couplers = malloc(sizeof *sp->couplers * (size_t)g->ne);
    for (long k = 0; k < g->ne; k++) {
        long a = g->label[g->edges[k][0]], b = g->label[g->edges[k][1]];
        sp->couplers[k][0] = (int)(a < b ? a : b);
        sp->couplers[k][1] = (int)(a < b ? b : a);
    }
    return sp;
}

static void fake_free(struct solver_props *sp)
{
    free(sp->qubits); free(sp->couplers); free(sp);
}

static void check_fits(struct graph *small, struct graph *ideal, const char *topo, int nshape,
                       const int *shape, int num_qubits)
{
    struct solver_props *sp = fake_solver(ideal, topo, nshape, shape, num_qubits);
    char rep[800];
    struct graph *f = qpu_fit_graph(small, sp, rep, sizeof rep);
    if (!f) fail_msg("%s: %s", small->desc, qv_errmsg());
    if (!strstr(rep, "fits")) fail_msg("%s in %s: %s", small->desc, ideal->desc, rep);
    assert_int_equal(f->nv, small->nv);
    assert_int_equal(f->ne, small->ne);
    graph_free(f);
    fake_free(sp);
    graph_free(small);
    graph_free(ideal);
}

static void test_sublattices_fit_ideal(void **st)
{
    int c16[3] = {16, 16, 4}, p16[1] = {16}, z12[2] = {12, 4};
    check_fits(graph_chimera(4, 4, 4), graph_chimera(16, 16, 4), "chimera", 3, c16, 2048);
    check_fits(graph_chimera(2, 5, 4), graph_chimera(16, 16, 4), "chimera", 3, c16, 2048);
    check_fits(graph_pegasus(4, PEGASUS_FABRIC), graph_pegasus(16, PEGASUS_FABRIC), "pegasus", 1, p16, 5760);
    check_fits(graph_zephyr(3, 4), graph_zephyr(12, 4), "zephyr", 2, z12, 4800);
    /* too big for the solver: reported, and fitting drops what is outside */
    struct graph *ideal = graph_chimera(4, 4, 4);
    struct solver_props *sp = fake_solver(ideal, "chimera", 3, (int[]){4, 4, 4}, 128);
    struct graph *big = graph_chimera(5, 5, 4);
    char rep[800];
    struct graph *f = qpu_fit_graph(big, sp, rep, sizeof rep);
    assert_non_null(f);
    assert_int_equal(f->nv, 128);
    assert_int_equal(f->ne, ideal->ne);
    assert_int_equal(f->kind, GRAPH_CHIMERA);
    assert_non_null(strstr(rep, "72 qubits missing"));
    graph_free(f);
    /* topology mismatch */
    struct graph *peg = graph_pegasus(2, PEGASUS_FABRIC);
    assert_null(qpu_fit_graph(peg, sp, rep, sizeof rep));
    assert_non_null(strstr(qv_errmsg(), "prior graph is pegasus but solver ideal_chimera is chimera"));
    graph_free(peg); graph_free(big); graph_free(ideal);
    fake_free(sp);
}

static void check_real(const char *name, struct graph *g, int nq, long nc)
{
    struct solver_props *sp = solver_load(name);
    if (!sp) { graph_free(g); print_message("%s not shipped: %s\n", name, qv_errmsg()); skip(); }
    char rep[800];
    struct graph *f = qpu_fit_graph(g, sp, rep, sizeof rep);
    if (!f) fail_msg("%s: %s", name, qv_errmsg());
    print_message("%s\n", rep);
    assert_int_equal(f->nv, nq);
    assert_int_equal(f->ne, nc);
    assert_int_equal(f->nv, sp->nq);
    assert_int_equal(f->ne, sp->nc);
    /* the fitted graph now fits as is */
    struct graph *f2 = qpu_fit_graph(f, sp, rep, sizeof rep);
    assert_non_null(strstr(rep, "fits"));
    graph_free(f2);
    graph_free(f);
    graph_free(g);
    solver_free(sp);
}

static void test_real_solvers(void **st)
{
    check_real("DW_2000Q_5", graph_chimera(16, 16, 4), 2030, 5909);
    check_real("Advantage_system4.1", graph_pegasus(16, PEGASUS_FABRIC), 5627, 40279);
    check_real("Advantage2_system1.5", graph_zephyr(12, 4), 4594, 41813);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sublattices_fit_ideal),
        cmocka_unit_test(test_real_solvers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
