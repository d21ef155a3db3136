"""Sequential (with Torch7/Keras-style add), ModuleList and ModuleDict."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn


def test_sequential_add_chains_like_torch7_and_keras():
    net = nn.Sequential()
    assert net.add(nn.Linear(784, 1000)).add(nn.ReLU()).add(nn.Linear(1000, 10)) is net
    net.append(nn.LogSoftmax(dim=1))
    assert len(net) == 4
    assert net(ember.zeros(2, 784)).shape == (2, 10)
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_sequential_add_with_names():
    net = nn.Sequential().add(nn.Linear(2, 3), name="hidden").add(nn.Tanh(), name="act")
    assert net["hidden"] is net[0] and list(dict(net.named_children())) == ["hidden", "act"]


def test_sequential_runs_modules_in_order():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = ember.randn(5, 3)
    expected = net[2](net[1](net[0](x)))
    np.testing.assert_array_equal(net(x).numpy(), expected.numpy())


def test_sequential_indexing_slicing_and_iteration():
    layers = [nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)]
    net = nn.Sequential(*layers)
    assert net[-1] is layers[2] and list(net) == layers
    head = net[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    tail = net[1:]
    assert list(dict(tail.named_children())) == ["1", "2"]  # names are kept, as in PyTorch
    with pytest.raises(IndexError, match="index 3 out of range for 3 modules"):
        net[3]


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="Sequential: argument 1 is a function, not a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    with pytest.raises(TypeError, match="Sequential.add: expected a Module, got int"):
        nn.Sequential().add(3)


def test_sequential_state_dict_names_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(OrderedDict([("conv", nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))),
                                      ("out", nn.Linear(3, 1))]))
    theirs = torch.nn.Sequential(OrderedDict([("conv", torch.nn.Sequential(torch.nn.Linear(2, 3),
                                                                           torch.nn.BatchNorm1d(3))),
                                              ("out", torch.nn.Linear(3, 1))]))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_module_list_registers_its_modules():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(3)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x).tanh()
            return x

    net = Stack()
    assert len(list(net.parameters())) == 6
    assert list(net.state_dict())[:2] == ["layers.0.weight", "layers.0.bias"]
    net(ember.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_module_list_operations():
    items = nn.ModuleList([nn.ReLU()])
    items.append(nn.Tanh()).extend([nn.Sigmoid(), nn.Softsign()])
    assert [type(m).__name__ for m in items] == ["ReLU", "Tanh", "Sigmoid", "Softsign"]
    assert isinstance(items[-1], nn.Softsign) and len(items[1:3]) == 2
    items[0] = nn.ELU()
    assert isinstance(items[0], nn.ELU) and len(items) == 4
    with pytest.raises(NotImplementedError, match="ModuleList is a container"):
        items(ember.ones(1))


def test_module_dict_operations():
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 4)})
    heads["aux"] = nn.Linear(4, 1)
    assert "aux" in heads and len(heads) == 3 and list(heads) == ["cls", "box", "aux"]
    assert list(heads.keys()) == ["cls", "box", "aux"] and isinstance(heads["box"], nn.Linear)
    assert [k for k, _ in heads.items()] == list(heads.keys()) and len(list(heads.values())) == 3
    del heads["aux"]
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "box.weight", "box.bias"]
    with pytest.raises(NotImplementedError, match="ModuleDict is a container"):
        heads(ember.ones(1))


def test_containers_follow_train_and_eval():
    net = nn.Sequential(nn.ModuleList([nn.Dropout()]), nn.ModuleDict({"d": nn.Dropout()}))
    net.eval()
    assert not net[0][0].training and not net[1]["d"].training
