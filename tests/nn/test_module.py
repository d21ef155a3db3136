"""Module: registration, traversal, modes, gradients, state_dict (PyTorch names), hooks, repr."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn import IncompatibleKeys, Parameter, StateDictError


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.scale = Parameter(ember.ones(3))
        self.register_buffer("count", ember.zeros(1))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.bn = nn.BatchNorm1d(3)
        self.head = nn.Linear(3, 2, bias=False)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.head(self.drop(self.bn(self.block(x))))


def torch_net(torch):
    class TorchBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 3)
            self.scale = torch.nn.Parameter(torch.ones(3))
            self.register_buffer("count", torch.zeros(1))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)
            self.act = torch.nn.Tanh()

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = TorchBlock()
            self.bn = torch.nn.BatchNorm1d(3)
            self.head = torch.nn.Linear(3, 2, bias=False)
            self.drop = torch.nn.Dropout(0.5)

    return TorchNet()


def test_attribute_assignment_registers_parameters_buffers_and_submodules():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "bn.weight", "bn.bias", "head.weight"]
    assert [n for n, _ in net.named_buffers()] == [
        "block.count", "block.scratch", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_children()] == ["block", "bn", "head", "drop"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.act", "bn", "head", "drop"]
    assert len(list(net.parameters())) == 6 and len(list(net.buffers())) == 5
    assert list(net.children())[0] is net.block and list(net.modules())[0] is net


def test_names_and_order_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = Net(), torch_net(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


def test_reassignment_and_deletion():
    net = Block()
    net.fc = nn.Linear(4, 3, bias=False)
    assert "fc.bias" not in dict(net.named_parameters())
    assert [n for n, _ in net.named_children()] == ["fc", "act"]  # re-assignment keeps the position
    net.scale = Parameter(ember.zeros(3))
    net.register_buffer("count", ember.ones(1))
    assert list(net.state_dict()) == ["scale", "count", "fc.weight"]
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'scale'"):
        net.scale = ember.ones(3)
    with pytest.raises(TypeError, match="cannot assign int as submodule 'fc'"):
        net.fc = 3
    del net.act
    assert "act" not in dict(net.named_children())
    net.plain = ember.ones(2)  # a plain tensor attribute is neither a parameter nor a buffer
    assert "plain" not in net.state_dict()


def test_assigning_before_init_explains_the_fix():
    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first in Forgetful.__init__"):
        Forgetful()


def test_shared_parameters_are_listed_once():
    shared = nn.Linear(3, 3)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(net.parameters())) == 2
    assert net.num_parameters() == 12


def test_apply_visits_children_first_then_self():
    seen = []
    net = Net()
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Tanh", "Block", "BatchNorm1d", "Linear", "Dropout", "Net"]


def test_apply_for_custom_initialisation():
    net = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))

    def zero_biases(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)

    net.apply(zero_biases)
    assert net[0].bias.tolist() == [0.0] * 3 and net[2].bias.tolist() == [0.0]


def test_train_and_eval_are_per_module_not_global():
    a, b = Net(), Net()
    a.eval()
    assert not any(m.training for m in a.modules())
    assert all(m.training for m in b.modules())
    a.block.train()
    assert a.block.training and a.block.fc.training and not a.bn.training
    with pytest.raises(TypeError, match="mode must be a bool"):
        a.train("yes")


def test_eval_changes_dropout_and_batchnorm_behaviour():
    net = Net()
    x = ember.randn(8, 4)
    net.eval()
    first, second = net(x).numpy(), net(x).numpy()
    np.testing.assert_array_equal(first, second)
    net.train()
    assert not np.array_equal(net(x).numpy(), net(x).numpy())


def test_every_module_is_callable_with_autograd():
    net = Net()
    x = ember.randn(8, 4, requires_grad=True)
    net(x).sum().backward()
    assert x.grad.shape == (8, 4)
    assert all(p.grad is not None for p in net.parameters())


def test_zero_grad_and_requires_grad():
    net = Net()
    net(ember.randn(8, 4)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all((p.grad.numpy() == 0).all() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.block.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == net.bn.num_parameters() + net.head.num_parameters()
    net(ember.randn(8, 4)).sum().backward()
    assert net.block.fc.weight.grad is None and net.head.weight.grad is not None


def test_parameter_count_of_the_lecture_mlp():
    mlp = nn.Sequential(nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 10), nn.LogSoftmax(dim=1))
    assert mlp.num_parameters() == 784 * 1000 + 1000 + 1000 * 10 + 10


def test_repr_tree_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(784, 1000), nn.ReLU(), nn.Softplus(), nn.Linear(1000, 10), nn.LogSoftmax(dim=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 1000), torch.nn.ReLU(), torch.nn.Softplus(),
                                 torch.nn.Linear(1000, 10), torch.nn.LogSoftmax(dim=1))
    assert repr(ours) == repr(theirs)
    nested_ours = nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.Tanh()), nn.LayerNorm(2))
    nested_theirs = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh()),
                                        torch.nn.LayerNorm(2))
    assert repr(nested_ours) == repr(nested_theirs)


def test_state_dict_round_trips_with_pytorch_both_ways():
    torch = pytest.importorskip("torch")
    ours, theirs = Net(), torch_net(torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    with torch.no_grad():
        for p in theirs.parameters():
            p.mul_(2)
    fresh = Net()
    assert fresh.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}) == ([], [])
    for (name, mine), (_, ref) in zip(fresh.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(mine.numpy(), ref.numpy(), err_msg=name)
    assert fresh.bn.num_batches_tracked.dtype == np.int64


def test_state_dict_excludes_non_persistent_buffers_and_shares_memory():
    net = Block()
    state = net.state_dict()
    assert "scratch" not in state and "count" in state
    with ember.no_grad():
        net.scale.fill_(3.0)
    assert state["scale"].tolist() == [3.0] * 3


def test_load_state_dict_reports_every_problem_and_changes_nothing():
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    state = {k: v.numpy() * 0 for k, v in Net().state_dict().items()}
    del state["head.weight"]
    state["extra.weight"] = np.zeros(2)
    state["block.fc.weight"] = np.zeros((5, 4))
    with pytest.raises(StateDictError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: head.weight" in message
    assert "unexpected keys: extra.weight" in message
    assert "block.fc.weight: checkpoint (5, 4) vs model (3, 4)" in message
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_non_strict_loading_returns_the_incompatible_keys():
    net = Block()
    state = {k: v for k, v in Block().state_dict().items() if k != "scale"}
    state["unknown"] = ember.zeros(1)
    result = net.load_state_dict(state, strict=False)
    assert isinstance(result, IncompatibleKeys)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["unknown"]
    with pytest.raises(StateDictError, match="shape mismatches"):
        net.load_state_dict({"fc.bias": ember.zeros(7)}, strict=False)


def test_loaded_values_are_copies():
    source = Block()
    target = Block()
    target.load_state_dict(source.state_dict())
    with ember.no_grad():
        source.scale.fill_(5.0)
    assert target.scale.tolist() == [1.0] * 3


def test_forward_hooks_see_inputs_and_can_replace_outputs():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].shape)))
    post = layer.register_forward_hook(lambda m, args, out: out * 0)
    assert (layer(ember.ones(3, 2)).numpy() == 0).all()
    assert calls == [("pre", (3, 2))]
    pre.remove()
    post.remove()
    assert not (layer(ember.ones(3, 2)).numpy() == 0).all() and len(calls) == 1


def test_dtype_conversion_keeps_integer_buffers():
    net = Net().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.bn.num_batches_tracked.dtype == np.int64
    net(ember.randn(4, 4, dtype="float64")).sum().backward()
    net.float()
    assert net.head.weight.dtype == np.float32 and net.head.weight.grad.dtype == np.float32


def test_deepcopy_gives_an_independent_module():
    net = Net()
    clone = copy.deepcopy(net)
    with ember.no_grad():
        clone.head.weight.fill_(0.0)
    assert not (net.head.weight.numpy() == 0).all()
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]


def test_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        type("Empty", (nn.Module,), {})()(ember.ones(1))


def test_dir_lists_registered_names():
    assert {"fc", "scale", "count"} <= set(dir(Block()))


def test_sequential_from_ordered_dict_keeps_names():
    net = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("out", nn.Linear(3, 1))]))
    assert list(net.state_dict()) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]


LAYER_REPRS = [
    ("Linear(3, 2)", "Linear(3, 2)"), ("Bilinear(2, 3, 4)", "Bilinear(2, 3, 4)"), ("ReLU()", "ReLU()"),
    ("LeakyReLU(0.1)", "LeakyReLU(0.1)"), ("PReLU(3)", "PReLU(3)"), ("Threshold(0.1, 20)", "Threshold(0.1, 20)"),
    ("ELU()", "ELU()"), ("GELU('tanh')", "GELU('tanh')"), ("Softplus()", "Softplus()"), ("Hardtanh()", "Hardtanh()"),
    ("Softmax(dim=1)", "Softmax(dim=1)"), ("LogSoftmax(dim=-1)", "LogSoftmax(dim=-1)"), ("Flatten()", "Flatten()"),
    ("Unflatten(1, (2, 3))", "Unflatten(1, (2, 3))"), ("BatchNorm2d(3)", "BatchNorm2d(3)"),
    ("BatchNorm1d(3, affine=False, bias=False)", "BatchNorm1d(3, affine=False, bias=False)"),
    ("LayerNorm(3)", "LayerNorm(3)"), ("LayerNorm(3, bias=False)", "LayerNorm(3, bias=False)"),
    ("RMSNorm(4)", "RMSNorm(4)"), ("GroupNorm(2, 4)", "GroupNorm(2, 4)"),
    ("Embedding(10, 3, padding_idx=0)", "Embedding(10, 3, padding_idx=0)"), ("Identity()", "Identity()"),
]


@pytest.mark.parametrize("ours,theirs", LAYER_REPRS, ids=[o for o, _ in LAYER_REPRS])
def test_layer_reprs_match_pytorch(ours, theirs):
    torch = pytest.importorskip("torch")  # noqa: F841 - used by the eval below
    assert repr(eval("nn." + ours)) == repr(eval("torch.nn." + theirs))  # noqa: S307 - fixed strings
