"""One writer: under mpiexec only rank 0 writes checkpoints, and every rank waits for it."""
import os
import re

from distributed.mpirun import needs_mpi, run_mpi

from ember import nn
from ember.distributed import on_main_process, save_checkpoint
from ember.io import load_checkpoint


@needs_mpi
def test_checkpoints_are_written_once(tmp_path):
    result = run_mpi("worker_checkpoint.py", tmp_path)
    # The ranks' lines may interleave in the shared pipe: look for each report, not for whole lines.
    assert sorted(re.findall(r"rank \d wrote \d+", result.stdout)) == ["rank 0 wrote 2", "rank 1 wrote 0"]
    assert len(os.listdir(tmp_path)) == 2


def test_single_process_writes(tmp_path):
    net = nn.Linear(2, 2)
    path = save_checkpoint(tmp_path / "c.safetensors", net, epoch=3)
    assert load_checkpoint(path, nn.Linear(2, 2)).epoch == 3
    assert on_main_process(lambda a, b=0: a + b, 1, b=2) == 3
