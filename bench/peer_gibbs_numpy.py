#!/usr/bin/env python3
"""peer_gibbs_numpy.py — the NumPy peer of bench_samplers: block Gibbs by colour class on the
same Boltzmann machine, vectorised across chains the way one writes it in NumPy (padded
neighbour lists, gathers, one exp per update).  Reads the model written by bench_samplers:

    line 1: n ne ncolors
    n lines: b_i colour_i
    ne lines: i j W_ij

Usage: peer_gibbs_numpy.py MODEL CHAINS SWEEPS   → prints "ns_per_update X" (process CPU time;
the machine is shared, so CPU time is the fair per-thread figure) and the wall-clock figure."""
import sys
import time

import numpy as np


def main():
    path, chains, sweeps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(path) as f:
        n, ne, ncol = (int(x) for x in f.readline().split())
        nodes = np.array([f.readline().split() for _ in range(n)], dtype=np.float64)
        edges = np.array([f.readline().split() for _ in range(ne)], dtype=np.float64)
    b = nodes[:, 0].astype(np.float32)
    col = nodes[:, 1].astype(np.int64)
    ei, ej, w = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64), edges[:, 2]
    deg = np.bincount(np.concatenate([ei, ej]), minlength=n)
    dmax = int(deg.max())
    # padded neighbour lists: nbr[i, k] (pad points at unit 0 with weight 0)
    nbr = np.zeros((n, dmax), dtype=np.int64)
    wn = np.zeros((n, dmax), dtype=np.float32)
    fill = np.zeros(n, dtype=np.int64)
    for a, c, x in zip(np.concatenate([ei, ej]), np.concatenate([ej, ei]), np.concatenate([w, w])):
        nbr[a, fill[a]] = c
        wn[a, fill[a]] = x
        fill[a] += 1
    classes = [np.nonzero(col == c)[0] for c in range(ncol)]
    rng = np.random.default_rng(1)
    z = (rng.random((chains, n)) < 0.5).astype(np.float32)
    beta = np.float32(1.0)

    def sweep():
        for idx in classes:
            field = b[idx] + (z[:, nbr[idx]] * wn[idx]).sum(axis=2)   # [chains, |class|]
            p = 1.0 / (1.0 + np.exp(-beta * field))
            z[:, idx] = (rng.random(p.shape, dtype=np.float32) < p)

    sweep()   # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(sweeps):
        sweep()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print("ns_per_update %.4f" % (dc * 1e9 / (chains * n * sweeps)))   # CPU time, like qvae's
    print("wall_ns_per_update %.4f" % (dt * 1e9 / (chains * n * sweeps)))
    print("mean_activity %.4f" % z.mean())


if __name__ == "__main__":
    main()
