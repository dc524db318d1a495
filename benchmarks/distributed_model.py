"""A model of data-parallel training time on a cluster, for docs/distributed.md.

    python benchmarks/distributed_model.py

Time per step with P nodes and global batch B (strong scaling: B fixed, each node B/P samples):

    T(P) = t0 + (B / P) · ts + T_allreduce(P),
    T_allreduce(P) = 2 (P − 1) / P · M / bandwidth + 2 (P − 1) · latency     (ring Allreduce)

t0 (fixed cost per step: Python, the optimizer's update of every weight) and ts (time per sample)
are fitted to the single-process W1 measurements of benchmarks/distributed.py on this 2-core
machine (1 rank x 2 threads: 1.00 ms per step at batch 128, 4.58 ms at batch 1024); M is the
gradient in bytes (float32). "10x wider" is the 784-2560-1280-10 network: 22x the weights, so
22x the arithmetic per sample and per optimizer step (t0's share of the update, estimated at
half of t0, grows with it) and a 22x larger Allreduce.
"""

from __future__ import annotations

import itertools

NETWORKS = {
    "784-256-128-10 (W1)": (784, 256, 128, 10),
    "784-2560-1280-10 (10x wider)": (784, 2560, 1280, 10),
}
FABRICS = {  # bandwidth (bytes/s), latency (s)
    "InfiniBand HDR (25 GB/s, 1 us)": (25e9, 1e-6),
    "10 Gb Ethernet (1.25 GB/s, 20 us)": (1.25e9, 20e-6),
}
STEP_128, STEP_1024 = 1.00e-3, 4.58e-3  # measured here, seconds per step, 1 process x 2 threads


def parameters(sizes: tuple[int, ...]) -> int:
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


def step_time(nodes: int, batch: int, sizes: tuple[int, ...], fabric: tuple[float, float]) -> float:
    ts = (STEP_1024 - STEP_128) / (1024 - 128)
    t0 = STEP_128 - 128 * ts
    scale = parameters(sizes) / parameters(NETWORKS["784-256-128-10 (W1)"])
    ts, t0 = ts * scale, t0 * (0.5 + 0.5 * scale)
    bandwidth, latency = fabric
    message = 4 * parameters(sizes)
    allreduce = 0.0
    if nodes > 1:
        allreduce = 2 * (nodes - 1) / nodes * message / bandwidth + 2 * (nodes - 1) * latency
    return t0 + batch / nodes * ts + allreduce


def main() -> None:
    nodes = (1, 2, 4, 8, 16, 32, 64)
    for network, sizes in NETWORKS.items():
        for fabric_name, fabric in FABRICS.items():
            for batch in (1024, 8192):
                base = step_time(1, batch, sizes, fabric)
                cells = []
                best, best_nodes = 0.0, 1
                for p in nodes:
                    speedup = base / step_time(p, batch, sizes, fabric)
                    cells.append(f"{speedup:.1f}")
                    if speedup > best * 1.05:  # another doubling that still gains 5%
                        best, best_nodes = speedup, p
                print(f"| {network} | {fabric_name} | {batch} | " + " | ".join(cells)
                      + f" | {best_nodes} |")  # fmt: skip


if __name__ == "__main__":
    print("| network | fabric | global batch | " + " | ".join(f"P={p}" for p in (1, 2, 4, 8, 16,
                                                                                 32, 64))
          + " | worth it up to |")  # fmt: skip
    print("|---|---|---|" + "---|" * 8)
    main()
