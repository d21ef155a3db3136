"""A tiny training run that checkpoints and resumes; driven by test_checkpoint.py in a subprocess.

Usage: python _train_worker.py DIRECTORY TOTAL_STEPS EVERY SLEEP_SECONDS OUTPUT

It restores the latest checkpoint of DIRECTORY if there is one, trains an MLP with
dropout (Ember's RNG), Adam and a StepLR schedule on batches drawn from Ember's RNG,
checkpoints every EVERY steps (printing "saved STEP"), and finally writes the weights
and optimizer state to OUTPUT.
"""
import sys
import time

import numpy as np

import ember
from ember import nn, optim
from ember.io import CheckpointManager, save_checkpoint


def main(directory, total_steps, every, sleep, output):
    ember.manual_seed(0)
    data = np.random.default_rng(0)
    inputs = ember.tensor(data.standard_normal((64, 8)).astype(np.float32))
    targets = ember.tensor(data.integers(0, 3, 64))
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Dropout(0.25), nn.Linear(16, 3))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    scheduler = optim.schedule.StepLR(optimizer, step_size=7, gamma=0.5)
    manager = CheckpointManager(directory, keep=2)
    restored = manager.restore(model, optimizer, scheduler)
    start = restored.step + 1 if restored is not None else 0
    print(f"start {start}", flush=True)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(start, total_steps):
        batch = ember.randint(0, 64, (16,))
        loss = loss_fn(model(inputs[batch]), targets[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if (step + 1) % every == 0:
            manager.save(step, model, optimizer, scheduler, metric=loss.item())
            print(f"saved {step}", flush=True)
        time.sleep(sleep)
    save_checkpoint(output, model, optimizer, scheduler, step=total_steps - 1)
    print("done", flush=True)


if __name__ == "__main__":
    directory, total, every, sleep, output = sys.argv[1:6]
    main(directory, int(total), int(every), float(sleep), output)
