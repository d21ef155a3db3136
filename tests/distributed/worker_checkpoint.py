"""MPI worker: every rank asks for a checkpoint; only rank 0 writes, and all can read it after.

Usage: worker_checkpoint.py DIR   (prints one line per rank: how many writes it made)
"""
import os
import sys

import ember.io
import ember.io.checkpoint
from ember import distributed as dist
from ember import nn

writes = []
real_save = ember.io.save_checkpoint


def counting_save(*args, **kwargs):
    writes.append(args[0])
    return real_save(*args, **kwargs)


# Both doors: ember.io's name (dist.save_checkpoint) and the module's own (CheckpointManager).
ember.io.save_checkpoint = ember.io.checkpoint.save_checkpoint = counting_save
path = os.path.join(sys.argv[1], "ckpt.safetensors")
net = nn.Linear(3, 2)
returned = dist.save_checkpoint(path, net, epoch=1)
assert os.path.exists(path)  # the barrier: no rank goes on before the file is complete
assert (returned is not None) == dist.is_main_process()
manager = ember.io.CheckpointManager(sys.argv[1], keep=2)
# Its constructor deletes temporaries of crashed writes: on rank 1 that could be rank 0's write
# in progress, so every rank builds it before any rank writes.
dist.barrier()
dist.on_main_process(manager.save, 2, net, epoch=2)
assert manager.latest() is not None
print(f"rank {dist.rank()} wrote {len(writes)}", flush=True)
