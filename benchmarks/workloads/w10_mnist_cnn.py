"""W10, pytorch/examples' MNIST CNN: one training step, Ember against PyTorch.

``mnist/main.py``'s ``Net`` as written there (conv 1->32 3x3, ReLU, conv
32->64 3x3, ReLU, max-pool 2, dropout 0.25, flatten, linear 9216->128, ReLU,
dropout 0.5, linear 128->10, ``log_softmax``) and its ``train()`` step
(``zero_grad``, forward, ``nll_loss``, backward, ``Adadelta`` at lr 1.0) on a
fixed batch of 64 normalised random 28x28 images.
"""
from __future__ import annotations

import numpy as np

from ..registry import register
from .w4_char_lstm import _libraries

BATCH = 64


def mnist_cnn_step(framework: str):
    """A zero-argument callable running one W10 training step in ``framework``."""
    lib, nn, optim, F, _, wrap = _libraries(framework)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = lib.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    rng = np.random.default_rng(0)
    images = ((rng.random((BATCH, 1, 28, 28)) - 0.1307) / 0.3081).astype(np.float32)
    data, target = wrap(images), wrap(rng.integers(0, 10, BATCH))
    model = Net()
    model.train()
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)

    def step():
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        return loss

    return step


@register("W10", "pytorch/examples MNIST CNN training step: conv32 3x3, conv64 3x3, maxpool2, dropout, "
          "9216-128-10, batch 64, Adadelta", target=1.15)
def w10(framework):
    return mnist_cnn_step(framework)
