"""Convolution layers and functions: PyTorch parity through state_dict, gradients, init, errors, docs."""
import functools
import math
import pathlib
import re

import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from tests.nn.oracle import LayerCase, check_against_torch, check_gradients, normal

CASES = [
    LayerCase("Conv1d", lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1),
              lambda torch: torch.nn.Conv1d(3, 4, 3, stride=2, padding=1), normal(2, 3, 9)),
    LayerCase("Conv2d-groups-dilation", lambda: nn.Conv2d(4, 6, (3, 2), padding=(1, 0), dilation=(1, 2), groups=2),
              lambda torch: torch.nn.Conv2d(4, 6, (3, 2), padding=(1, 0), dilation=(1, 2), groups=2),
              normal(2, 4, 6, 7), second_order=True),
    LayerCase("Conv2d-same-nobias", lambda: nn.Conv2d(2, 3, 4, padding="same", bias=False),
              lambda torch: torch.nn.Conv2d(2, 3, 4, padding="same", bias=False), normal(2, 2, 5, 5)),
    LayerCase("Conv2d-depthwise", lambda: nn.Conv2d(3, 6, 3, groups=3, stride=2),
              lambda torch: torch.nn.Conv2d(3, 6, 3, groups=3, stride=2), normal(1, 3, 7, 7)),
    LayerCase("Conv3d", lambda: nn.Conv3d(2, 3, 2, padding=1),
              lambda torch: torch.nn.Conv3d(2, 3, 2, padding=1), normal(1, 2, 3, 4, 3)),
    LayerCase("ConvTranspose1d", lambda: nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1),
              lambda torch: torch.nn.ConvTranspose1d(3, 2, 4, stride=2, padding=1), normal(2, 3, 5)),
    LayerCase("ConvTranspose2d", lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1,
                                                            groups=2),
              lambda torch: torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, groups=2),
              normal(1, 4, 3, 4), second_order=True),
    LayerCase("ConvTranspose3d", lambda: nn.ConvTranspose3d(2, 2, 2, stride=2),
              lambda torch: torch.nn.ConvTranspose3d(2, 2, 2, stride=2), normal(1, 2, 2, 3, 2)),
] + [
    LayerCase(f"Conv2d-{mode}", functools.partial(nn.Conv2d, 2, 3, 3, padding=2, padding_mode=mode),
              lambda torch, mode=mode: torch.nn.Conv2d(2, 3, 3, padding=2, padding_mode=mode), normal(1, 2, 4, 5))
    for mode in ("reflect", "replicate", "circular")
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    check_against_torch(torch, case, dtype="float64")
    check_against_torch(torch, case, dtype="float32")


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradients(case):
    check_gradients(case)


@pytest.mark.parametrize("layer,fan_in", [(lambda: nn.Conv2d(6, 16, 5), 150), (lambda: nn.Conv1d(4, 8, 3, groups=2), 6),
                                          (lambda: nn.ConvTranspose2d(16, 6, 5), 150)])
def test_pytorch_default_initialisation(layer, fan_in):
    module = layer()
    bound = 1 / math.sqrt(fan_in)
    for p in (module.weight, module.bias):
        values = p.numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.8 * bound  # spread over the whole interval, not a narrow one
    assert list(module.state_dict()) == ["weight", "bias"]


def test_weight_shapes_follow_pytorch():
    assert nn.Conv2d(6, 16, 5, groups=2).weight.shape == (16, 3, 5, 5)
    assert nn.ConvTranspose2d(6, 16, 5, groups=2).weight.shape == (6, 8, 5, 5)
    assert nn.Conv3d(1, 2, (1, 2, 3), bias=False).bias is None


def test_conv_transpose_output_size_picks_output_padding():
    up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    x = ember.zeros(1, 2, 4, 4)
    assert up(x).shape == (1, 2, 7, 7)
    assert up(x, output_size=(8, 8)).shape == (1, 2, 8, 8)
    with pytest.raises(ValueError, match=r"ConvTranspose2d: output_size \(9, 9\) is not reachable.*between \(7, 7\) and \(8, 8\)"):
        up(x, output_size=(9, 9))


def test_repr_lists_the_non_default_arguments():
    text = repr(nn.Conv2d(3, 8, 3, stride=2, padding="same" if False else 1, groups=1, bias=False))
    assert text == "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)"


def test_functional_forms_match_the_layers():
    layer = nn.Conv2d(3, 4, 3, padding=1)
    x = ember.randn(2, 3, 6, 6)
    np.testing.assert_allclose(F.conv2d(x, layer.weight, layer.bias, padding=1).numpy(), layer(x).numpy())
    assert F.conv1d(ember.ones(1, 2, 5), ember.ones(3, 2, 2)).shape == (1, 3, 4)
    assert F.conv_transpose3d(ember.ones(1, 2, 2, 2, 2), ember.ones(2, 1, 2, 2, 2), stride=2).shape == (1, 1, 4, 4, 4)


@pytest.mark.parametrize("call,message", [
    (lambda: nn.Conv2d(3, 8, 3)(ember.zeros(2, 4, 8, 8)), r"^Conv2d: expected input with 3 channels.*got input of shape \(2, 4, 8, 8\)"),
    (lambda: nn.Conv2d(3, 8, 5)(ember.zeros(2, 3, 4, 4)), r"^Conv2d: kernel size \(5, 5\) is larger than the padded input \(4, 4\)"),
    (lambda: nn.Conv2d(3, 8, 3)(ember.zeros(3, 8)), r"^Conv2d: expected a 4-D input \(N, C, H, W\) or a 3-D unbatched one, got shape \(3, 8\)"),
    (lambda: nn.Conv1d(3, 8, 3)(ember.zeros(2, 3, 4, 4)), r"^Conv1d: expected a 3-D input \(N, C, L\)"),
    (lambda: nn.Conv2d(3, 8, 3, stride=0), r"^Conv2d: stride must be positive, got \(0, 0\)"),
    (lambda: nn.Conv2d(3, 8, 3, stride=2, padding="same"), r"^Conv2d: padding='same' needs stride 1"),
    (lambda: nn.Conv2d(3, 8, 3, groups=2), r"^Conv2d: in_channels \(3\) and out_channels \(8\) must both be divisible"),
    (lambda: nn.Conv2d(3, 8, 3, padding_mode="mirror"), r"^Conv2d: padding_mode must be one of"),
    (lambda: nn.Conv2d(3, 8, 3, padding=3, padding_mode="reflect")(ember.zeros(1, 3, 3, 3)),
     r"^Conv2d: pad: padding size should be less than the corresponding input dimension"),
    (lambda: nn.ConvTranspose2d(3, 8, 3)(ember.zeros(1, 4, 5, 5)), r"^ConvTranspose2d: expected input with 3 channels"),
    (lambda: F.conv2d(ember.zeros(1, 3, 8, 8), ember.zeros(8, 3, 3)), r"^conv2d: expected a 4-D weight"),
    (lambda: nn.Conv2d(3, 8, 3)(ember.zeros(1, 3, 8, 8, dtype="float64")), r"^Conv2d: input dtype float64 differs"),
])
def test_bad_input_names_the_layer_and_shapes(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_lenet_forward_and_backward_match_torch():
    """A whole convnet (conv, tanh, pooling, flatten, linear) against PyTorch with the same weights."""
    torch = pytest.importorskip("torch")

    def lenet(nn):
        return nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.MaxPool2d(2), nn.Conv2d(6, 12, 5, padding=1),
                             nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(12 * 16, 10))

    ours, theirs = lenet(nn).double(), lenet(torch.nn).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 1, 22, 22))  # odd sizes: a partial ceil window
    out, expected = ours(ember.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_conv_guide_examples_run():
    guide = pathlib.Path(__file__).resolve().parents[2] / "docs" / "conv.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), re.DOTALL)
    assert blocks
    namespace = {}
    for block in blocks:
        exec(compile(block, str(guide), "exec"), namespace)  # noqa: S102 - our own docs
