"""MPI worker: rank 1 raises while rank 0 waits in a collective (run by test_comm.py)."""
import numpy as np

from ember import distributed as dist

dist.init()
if dist.rank() == 1:
    raise RuntimeError("rank 1 fails on purpose")
dist.allreduce(np.ones(4))  # never completes: rank 1 is gone
print("rank 0 got past the collective", flush=True)
