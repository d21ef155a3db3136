"""MPI worker: ``Model.fit`` on a DataParallel network, each rank on its DistributedSampler shard.

Usage: worker_fit.py OUT_PREFIX CKPT_DIR [--unchanged]

By default the script applies today's user-level pattern (progress and checkpoints
on rank 0 only). With ``--unchanged`` it calls ``fit`` exactly as a single-process
script would, leaving it to ``fit`` to print and write once.
Writes ``OUT_PREFIX-<rank>.npz`` (initial and final weights, last logged loss).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from training import arrays, build, data, optimizer

from ember import distributed as dist
from ember.data import DataLoader, DistributedSampler, TensorDataset
from ember.train import Model, ModelCheckpoint

BATCH, SAMPLES, EPOCHS = 8, 64, 2
prefix, ckpt_dir = sys.argv[1], sys.argv[2]
unchanged = "--unchanged" in sys.argv
plain = "--plain" in sys.argv  # exactly a single-process script: no DataParallel, no sampler
net = build("mlp", seed=100 + dist.rank())
if plain:
    # fit broadcasts rank 0's weights itself; record them after the first epoch's start
    model = Model(net).compile(optimizer=optimizer(net), loss="cross_entropy", metrics=["accuracy"])
    dist.broadcast_parameters(net)
else:
    model = Model(dist.DataParallel(net)).compile(optimizer=optimizer(net), loss="cross_entropy",
                                                  metrics=["accuracy"])
initial = arrays(net)
x, y = data(SAMPLES)
checkpoint = ModelCheckpoint(os.path.join(ckpt_dir, "epoch-{epoch}.safetensors"), monitor="loss")
main = dist.is_main_process()
if plain:
    history = model.fit(x, y, batch_size=BATCH, shuffle=False, epochs=EPOCHS, verbose=2, callbacks=[checkpoint])
else:
    dataset = TensorDataset(x, y)
    loader = DataLoader(dataset, batch_size=BATCH, sampler=DistributedSampler(dataset, shuffle=False))
    history = model.fit(loader, epochs=EPOCHS, verbose=2 if (unchanged or main) else 0,
                        callbacks=[checkpoint] if (unchanged or main) else [])
np.savez(f"{prefix}-{dist.rank()}.npz", **{f"init/{k}": v for k, v in initial.items()},
         **{f"final/{k}": v for k, v in arrays(net).items()}, loss=history.history["loss"][-1])
