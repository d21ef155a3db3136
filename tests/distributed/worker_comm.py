"""MPI worker: the communication helpers on every rank (run by test_comm.py)."""
import numpy as np

from ember import distributed as dist
from ember.data import DistributedSampler

size, rank = dist.world_size(), dist.rank()
assert dist.get_comm() is not None and dist.is_main_process() == (rank == 0)
assert dist.allreduce(np.array([rank + 1.0]))[0] == size * (size + 1) / 2
assert dist.allreduce(np.array([rank], dtype=np.int64), "max")[0] == size - 1
assert dist.allreduce_sum(1.5) == 1.5 * size
# rank r holds the value r for r + 1 samples: the weighted mean over all samples
expected = sum(r * (r + 1) for r in range(size)) / sum(r + 1 for r in range(size))
assert abs(dist.allreduce_mean(float(rank), weight=rank + 1) - expected) < 1e-12
assert dist.broadcast(np.full(3, rank, dtype=np.float32)).tolist() == [0.0, 0.0, 0.0]
assert dist.broadcast_value(10 + rank) == 10 and isinstance(dist.broadcast_value(1.5 * (rank + 1)), float)
sampler = DistributedSampler(range(10), seed=0)
assert (sampler.num_replicas, sampler.rank) == (size, rank)
dist.barrier()
print(f"rank {rank} of {size} ok", flush=True)
