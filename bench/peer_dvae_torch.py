#!/usr/bin/env python3
"""peer_dvae_torch.py — the peer of bench_train: the same DVAE training step in PyTorch.

784-512-256-288 tanh encoder, GumBolt relaxation (tau 0.5), mirrored decoder, Bernoulli pixel
likelihood from logits, a Boltzmann-machine prior on Chimera C(6,6,4) (288 units, 816 couplers)
whose negative phase comes from 100 persistent block-Gibbs chains (2 colour classes), Adam with
L2 weight decay 1e-4, batch 100.  Written the way one would in PyTorch: dense masked coupling
matrix for the chains, autograd for everything else, prior samples as constants.

With MODEL "bn-g2" it is qvae's `model new --bn --groups 2` instead: batch norm before every tanh
(momentum 0.2 in PyTorch's convention = DVAE#'s 0.8, eps 1e-2), the encoder cut into two groups by
the prior's colour classes (Chimera's shores), group 1's encoder seeing [x − mean(x), ζ of group 0],
log q of each unit at its own logit.

Usage: peer_dvae_torch.py THREADS SWEEPS [STEPS [MODEL]]   (THREADS 0: PyTorch's defaults;
MODEL plain (default) or bn-g2)
prints "images_per_s X cpu_images_per_s Y" (wall clock and process CPU time).
"""
import sys
import time

import torch


def chimera_edges(m, n, t):
    def idx(r, c, s, k):
        return ((r * n + c) * 2 + s) * t + k
    edges = []
    for r in range(m):
        for c in range(n):
            for a in range(t):
                for b in range(t):
                    edges.append((idx(r, c, 0, a), idx(r, c, 1, b)))
            for k in range(t):
                if r + 1 < m:
                    edges.append((idx(r, c, 0, k), idx(r + 1, c, 0, k)))
                if c + 1 < n:
                    edges.append((idx(r, c, 1, k), idx(r, c + 1, 1, k)))
    colour = [0] * (m * n * 2 * t)
    for r in range(m):
        for c in range(n):
            for s in range(2):
                for k in range(t):
                    colour[idx(r, c, s, k)] = (s + r + c) % 2
    return edges, colour


def main():
    threads = int(sys.argv[1])
    sweeps = int(sys.argv[2])
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    if threads > 0:
        torch.set_num_threads(threads)
    torch.set_flush_denormal(True)   # as qvae and bench_train do (src/nn.h)
    torch.manual_seed(1)
    D, H1, H2, N, B, CH, tau = 784, 512, 256, 288, 100, 100, 0.5
    edges, colour = chimera_edges(6, 6, 4)
    eu = torch.tensor([e[0] for e in edges])
    ev = torch.tensor([e[1] for e in edges])
    colour = torch.tensor(colour)
    masks = [colour == c for c in range(2)]

    model = sys.argv[4] if len(sys.argv) > 4 else "plain"
    hier = model == "bn-g2"

    def mlp(sizes):
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                if hier:
                    layers.append(torch.nn.BatchNorm1d(sizes[i + 1], eps=1e-2, momentum=0.2))
                layers.append(torch.nn.Tanh())
        return torch.nn.Sequential(*layers)

    g0 = torch.nonzero(colour == 0).flatten()   # group 0: one shore; group 1: the other
    g1 = torch.nonzero(colour == 1).flatten()
    if hier:
        encs = [mlp([D, H1, H2, len(g0)]), mlp([D + len(g0), H1, H2, len(g1)])]
    else:
        encs = [mlp([D, H1, H2, N])]
    dec = mlp([N, H2, H1, D])
    xmean = torch.full((D,), 0.13)
    b = torch.zeros(N, requires_grad=True)
    w = torch.zeros(len(edges), requires_grad=True)
    params = [p for e in encs for p in e.parameters()] + list(dec.parameters()) + [b, w]
    opt = torch.optim.Adam(params, lr=3e-3, weight_decay=1e-4)
    chains = (torch.rand(CH, N) < 0.5).float()
    data = (torch.rand(8, B, D) < 0.13).float()   # binarised-MNIST-like density

    def energy(z):   # E(z) = -b.z - sum_e w_e z_u z_v, rows of z
        return -(z @ b) - ((z[:, eu] * z[:, ev]) @ w)

    def gibbs(z, k):
        with torch.no_grad():
            W = torch.zeros(N, N)
            W[eu, ev] = w
            W = W + W.t()
            for _ in range(k):
                for m in masks:
                    field = b + z @ W
                    p = torch.sigmoid(field[:, m])
                    z[:, m] = (torch.rand_like(p) < p).float()
        return z

    def step(x):
        nonlocal chains
        chains = gibbs(chains, sweeps)
        def relax(l):
            u = torch.rand_like(l).clamp(1e-7, 1 - 1e-7)
            return torch.sigmoid((l + torch.log(u) - torch.log1p(-u)) / tau)
        if hier:
            xc = x - xmean
            l0 = encs[0](xc)
            z0 = relax(l0)
            l1 = encs[1](torch.cat([xc, z0], 1))
            z1 = relax(l1)
            l = torch.empty(x.shape[0], N)
            zeta = torch.empty(x.shape[0], N)
            l = l.index_copy(1, g0, l0).index_copy(1, g1, l1)
            zeta = zeta.index_copy(1, g0, z0).index_copy(1, g1, z1)
        else:
            l = encs[0](x)
            zeta = relax(l)
        xl = dec(zeta)
        rec = -torch.nn.functional.binary_cross_entropy_with_logits(xl, x, reduction='none').sum(1)
        logq = (zeta * l - torch.nn.functional.softplus(l)).sum(1)
        kl = logq + energy(zeta) - energy(chains).mean()
        loss = (-rec + kl).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(20):
        step(data[i % 8])
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        step(data[i % 8])
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print("images_per_s %.1f cpu_images_per_s %.1f" % (steps * B / dt, steps * B / dc))


if __name__ == "__main__":
    main()
