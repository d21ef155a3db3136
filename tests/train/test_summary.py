"""Model.summary: layers in call order, output shapes, parameter counts (checked against PyTorch's numbers)."""
import numpy as np

import ember.nn as nn
from ember.train import Model


def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84),
                         nn.Tanh(), nn.Linear(84, 10))


def test_lenet_summary():
    text = Model(lenet(), name="LeNet-5").summary(input_shape=(1, 28, 28), print_fn=None)
    lines = text.splitlines()
    assert lines[0] == 'Model: "LeNet-5"'
    rows = [line for line in lines if line.split(" ")[0].isdigit()]
    assert len(rows) == 12
    assert rows[0].split()[:2] == ["0", "(Conv2d)"] and "(None, 6, 28, 28)" in rows[0] and rows[0].endswith("156")
    assert "(None, 16, 5, 5)" in rows[5] and "(None, 400)" in rows[6]
    assert "Total params: 61,706" in text and "Non-trainable params: 0" in text  # LeNet-5's well-known count


def test_shapes_from_the_last_fit_and_frozen_parameters():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    net[0].requires_grad_(False)
    model = Model(net).compile("sgd", "cross_entropy")
    assert "?" in model.summary(print_fn=None)  # no shapes known yet
    model.fit(np.zeros((8, 3), np.float32), np.zeros(8, np.int64), epochs=1, verbose=0)
    text = model.summary(print_fn=None)
    assert "(None, 2)" in text and "Trainable params: 10" in text and "Non-trainable params: 16" in text


def test_custom_module_order_and_direct_parameters():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.late = nn.Linear(5, 2)  # declared first, called second
            self.early = nn.Linear(3, 5)
            self.unused = nn.Linear(2, 2)

        def forward(self, x):
            return self.late(self.early(x))

    printed = []
    Model(Net()).summary(input_shape=(3,), print_fn=printed.append)
    rows = [line.split()[0] for line in printed[0].splitlines() if line.startswith(("early", "late", "unused"))]
    assert rows == ["early", "late", "unused"]
    assert "unused (Linear)" in printed[0] and "?" in printed[0]
