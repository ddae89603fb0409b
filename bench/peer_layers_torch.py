#!/usr/bin/env python3
"""peer_layers_torch.py — the peer of bench_layers: the same encoder+decoder stacks in PyTorch.

mlp:     784-512-256-288 (tanh, tanh, linear) and 288-256-512-784 (tanh, tanh, linear)
conv:    Conv2d 1->32 (4x4, s2, p1) tanh, Conv2d 32->64 tanh, Linear 3136->288;
         Linear 288->3136 tanh, ConvTranspose2d 64->32 (4x4, s2, p1) tanh, ConvTranspose2d 32->1
conv+bn: the same with BatchNorm (training mode, eps 1e-2, momentum 0.2 = qvae's 0.8) before
         every hidden tanh (BatchNorm2d per channel after the convolutions and the reshape)
Batch 100, float32, one forward and backward per step of sum(out * c) with c = 1/width (the
image needs no gradient), parameter gradients zeroed each step as an optimiser would.

Usage: peer_layers_torch.py NET STEPS   (run with OMP_NUM_THREADS=1)
prints "cpu_us_per_image X wall_us_per_image Y" (best of 3 runs of STEPS steps).
"""
import sys
import time

import torch
from torch import nn


def build(name):
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.Tanh(), nn.Linear(512, 256), nn.Tanh(),
                             nn.Linear(256, 288), nn.Linear(288, 256), nn.Tanh(),
                             nn.Linear(256, 512), nn.Tanh(), nn.Linear(512, 784))
    bn = name == "conv+bn"

    def norm2d(c):
        return [nn.BatchNorm2d(c, eps=1e-2, momentum=0.2)] if bn else []
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)),
                         nn.Conv2d(1, 32, 4, 2, 1), *norm2d(32), nn.Tanh(),
                         nn.Conv2d(32, 64, 4, 2, 1), *norm2d(64), nn.Tanh(),
                         nn.Flatten(), nn.Linear(3136, 288), nn.Linear(288, 3136),
                         nn.Unflatten(1, (64, 7, 7)), *norm2d(64), nn.Tanh(),
                         nn.ConvTranspose2d(64, 32, 4, 2, 1), *norm2d(32), nn.Tanh(),
                         nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Flatten())


def main():
    name, steps = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(1)
    torch.manual_seed(1)
    net = build(name).train()
    x = (torch.rand(100, 784) < 0.15).float()
    c = torch.full((100, 784), 1.0 / 784)

    def step():
        for p in net.parameters():
            p.grad = None
        (net(x) * c).sum().backward()
    step()
    best_cpu = best_wall = float("inf")
    for _ in range(3):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(steps):
            step()
        best_cpu = min(best_cpu, (time.process_time() - c0) / steps / 100 * 1e6)
        best_wall = min(best_wall, (time.perf_counter() - w0) / steps / 100 * 1e6)
    print("cpu_us_per_image %.3f wall_us_per_image %.3f" % (best_cpu, best_wall))


if __name__ == "__main__":
    main()
