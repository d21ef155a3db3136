"""Data-parallel training over MPI (mpi4py), and its elastic and local variants.

Launch a script on several processes with ``mpiexec -n 2 python -m mpi4py train.py``
(install with ``pip install "ember[mpi]"``); run the same script without
``mpiexec`` and it is a world of one process, with nothing imported from MPI.

* :func:`init`, :func:`rank`, :func:`world_size`, :func:`is_main_process`,
  :func:`barrier`, and buffer collectives (:func:`allreduce`, :func:`broadcast` ...).
* :class:`DataParallel`: wraps a module; every backward averages the gradients
  over the ranks (one flat ``Allreduce``, or overlapped buckets).
* :func:`broadcast_parameters`, :func:`allreduce_gradients`: the same, by hand.
* :class:`LocalSGD`, :class:`EASGD`: optimizer wrappers that average parameters
  every few steps, or tie them to an elastic center variable.
* :class:`ParameterServer`: asynchronous SGD, server ranks holding parameter
  shards, workers pushing gradients without a barrier (bounded staleness).
* :func:`hogwild`: lock-free SGD by several processes of one machine on
  parameters in shared memory (no MPI).
* :func:`allreduce_metric`, :func:`save_checkpoint`, :func:`on_main_process`:
  metrics over all ranks, and one writer for files.
* Each rank's shard of the data: :class:`ember.data.DistributedSampler`.

Example:
    >>> import ember, ember.nn as nn
    >>> from ember import distributed as dist
    >>> net = dist.DataParallel(nn.Linear(4, 2))
    >>> dist.world_size()
    1
"""
from .checkpoint import on_main_process, save_checkpoint
from .comm import (
                   abort,
                   allreduce,
                   allreduce_mean,
                   allreduce_sum,
                   barrier,
                   broadcast,
                   broadcast_value,
                   get_comm,
                   init,
                   is_available,
                   is_initialized,
                   is_main_process,
                   rank,
                   world_size,
)
from .data_parallel import DataParallel, allreduce_gradients, broadcast_parameters
from .easgd import EASGD
from .hogwild_sgd import HogwildResult, hogwild, sparse_sgd_step
from .launch import find_mpiexec, mpi_command, single_thread_env
from .local_sgd import LocalSGD
from .metrics import allreduce_metric
from .parameter_server import ParameterServer, ServerError, ServerReport
from .wrapper import OptimizerWrapper

__all__ = [
                   "EASGD",
                   "HogwildResult",
                   "DataParallel",
                   "LocalSGD",
                   "OptimizerWrapper",
                   "ParameterServer",
                   "ServerError",
                   "ServerReport",
                   "abort",
                   "allreduce",
                   "allreduce_gradients",
                   "allreduce_mean",
                   "allreduce_metric",
                   "allreduce_sum",
                   "barrier",
                   "broadcast",
                   "broadcast_parameters",
                   "broadcast_value",
                   "find_mpiexec",
                   "get_comm",
                   "hogwild",
                   "init",
                   "is_available",
                   "is_initialized",
                   "is_main_process",
                   "mpi_command",
                   "on_main_process",
                   "rank",
                   "save_checkpoint",
                   "single_thread_env",
                   "sparse_sgd_step",
                   "world_size",
]
