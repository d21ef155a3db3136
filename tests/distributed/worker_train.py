"""MPI worker: train with DataParallel, LocalSGD or EASGD and save each rank's result.

Usage: worker_train.py MODE OUT_PREFIX [--steps K] [--batch B]

Rank r takes the r-th block of B samples of each global batch of ``world * B``
samples, so the ranks together see the batch a single process would. Each rank
seeds its generator differently: equal starting weights prove the broadcast.
Writes ``OUT_PREFIX-<rank>.npz`` with the initial and final weights.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from training import arrays, build, data, optimizer, train

from ember import distributed as dist

parser = argparse.ArgumentParser()
parser.add_argument("mode", choices=["dp", "manual", "overlap", "shared", "penalty", "bn", "local_sgd", "local_sgd_3", "easgd"])
parser.add_argument("out")
parser.add_argument("--steps", type=int, default=5)
parser.add_argument("--batch", type=int, default=8)
args = parser.parse_args()

rank, size = dist.rank(), dist.world_size()
kind = {"shared": "shared", "bn": "bn"}.get(args.mode, "mlp")
model = build(kind, seed=100 + rank)
x, y = data(args.steps * size * args.batch)
per_step = size * args.batch
batches = [(x[k * per_step + rank * args.batch:][:args.batch], y[k * per_step + rank * args.batch:][:args.batch])
           for k in range(args.steps)]
extra = {}
if args.mode in ("dp", "overlap", "shared", "penalty", "bn"):
    # A tiny bucket cap splits even this model into several buckets.
    net = dist.DataParallel(model, overlap=args.mode == "overlap", bucket_cap_mb=200 / 2**20)
    initial = arrays(model)
    train(net, batches, optimizer(model), penalty=1e-3 if args.mode == "penalty" else 0.0)
elif args.mode == "manual":  # the explicit hooks, as a hand-written loop (or fit) would call them
    dist.broadcast_parameters(model)
    initial = arrays(model)
    train(model, batches, optimizer(model), after_backward=lambda: dist.allreduce_gradients(model.parameters()))
elif args.mode.startswith("local_sgd"):
    opt = dist.LocalSGD(optimizer(model), period=3 if args.mode == "local_sgd_3" else 1)
    initial = arrays(model)
    train(model, batches, opt)
else:
    opt = dist.EASGD(optimizer(model, momentum=0.0), period=2)
    initial = arrays(model)
    train(model, batches, opt)
    extra = {f"center_{i}": c for i, c in enumerate(opt.center)}
np.savez(f"{args.out}-{rank}.npz", **{f"init/{k}": v for k, v in initial.items()},
         **{f"final/{k}": v for k, v in arrays(model).items()}, **extra)
