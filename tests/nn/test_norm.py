"""BatchNorm1d/2d/3d, LayerNorm, RMSNorm, GroupNorm: PyTorch parity (with buffers), gradients, errors."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from nn.oracle import LayerCase, check_against_torch, check_gradients, copy_state_to_torch, normal


def randomized(module):
    """Give the affine parameters (and running statistics) non-trivial values."""
    with ember.no_grad():
        for p in module.parameters():
            p.copy_(ember.randn(*p.shape, dtype=p.dtype) * 0.5 + 1.0)
        for name in ("running_mean", "running_var"):
            buffer = getattr(module, name, None)
            if buffer is not None:
                buffer.copy_(ember.rand(*buffer.shape, dtype=buffer.dtype) + 0.5)
    return module


CASES = [
    LayerCase("BatchNorm1d", lambda: randomized(nn.BatchNorm1d(3)), lambda t: t.nn.BatchNorm1d(3),
              normal(6, 3, scale=2), second_order=True),
    LayerCase("BatchNorm1d-seq", lambda: randomized(nn.BatchNorm1d(3)), lambda t: t.nn.BatchNorm1d(3),
              normal(2, 3, 4)),
    LayerCase("BatchNorm1d-eval", lambda: randomized(nn.BatchNorm1d(3)), lambda t: t.nn.BatchNorm1d(3),
              normal(4, 3), train=False, second_order=True),
    LayerCase("BatchNorm2d", lambda: randomized(nn.BatchNorm2d(3)), lambda t: t.nn.BatchNorm2d(3),
              normal(2, 3, 3, 2), second_order=True),
    LayerCase("BatchNorm2d-eval", lambda: randomized(nn.BatchNorm2d(3)), lambda t: t.nn.BatchNorm2d(3),
              normal(2, 3, 3, 2), train=False),
    LayerCase("BatchNorm2d-no-affine", lambda: nn.BatchNorm2d(2, affine=False),
              lambda t: t.nn.BatchNorm2d(2, affine=False), normal(3, 2, 2, 2)),
    LayerCase("BatchNorm2d-no-bias", lambda: randomized(nn.BatchNorm2d(2, bias=False)),
              lambda t: t.nn.BatchNorm2d(2, bias=False), normal(3, 2, 2, 2)),
    LayerCase("BatchNorm2d-momentum-None", lambda: nn.BatchNorm2d(2, momentum=None),
              lambda t: t.nn.BatchNorm2d(2, momentum=None), normal(3, 2, 2, 2)),
    LayerCase("BatchNorm2d-untracked", lambda: nn.BatchNorm2d(2, track_running_stats=False),
              lambda t: t.nn.BatchNorm2d(2, track_running_stats=False), normal(3, 2, 2, 2)),
    LayerCase("BatchNorm2d-untracked-eval", lambda: nn.BatchNorm2d(2, track_running_stats=False),
              lambda t: t.nn.BatchNorm2d(2, track_running_stats=False), normal(3, 2, 2, 2), train=False),
    LayerCase("BatchNorm3d", lambda: randomized(nn.BatchNorm3d(2)), lambda t: t.nn.BatchNorm3d(2),
              normal(2, 2, 2, 2, 2)),
    LayerCase("LayerNorm", lambda: randomized(nn.LayerNorm(4)), lambda t: t.nn.LayerNorm(4), normal(2, 3, 4),
              second_order=True),
    LayerCase("LayerNorm-2d-shape", lambda: randomized(nn.LayerNorm((3, 4))), lambda t: t.nn.LayerNorm((3, 4)),
              normal(2, 3, 4)),
    LayerCase("LayerNorm-no-bias", lambda: randomized(nn.LayerNorm(4, bias=False)),
              lambda t: t.nn.LayerNorm(4, bias=False), normal(3, 4)),
    LayerCase("LayerNorm-no-affine", lambda: nn.LayerNorm(4, elementwise_affine=False),
              lambda t: t.nn.LayerNorm(4, elementwise_affine=False), normal(3, 4)),
    LayerCase("RMSNorm", lambda: randomized(nn.RMSNorm(4)), lambda t: t.nn.RMSNorm(4), normal(2, 3, 4),
              second_order=True),
    LayerCase("RMSNorm-eps", lambda: randomized(nn.RMSNorm((3, 4), eps=1e-3)), lambda t: t.nn.RMSNorm((3, 4), eps=1e-3),
              normal(2, 3, 4)),
    LayerCase("GroupNorm", lambda: randomized(nn.GroupNorm(2, 4)), lambda t: t.nn.GroupNorm(2, 4),
              normal(2, 4, 3, 2), second_order=True),
    LayerCase("GroupNorm-no-bias", lambda: randomized(nn.GroupNorm(2, 4, bias=False)),
              lambda t: t.nn.GroupNorm(2, 4, bias=False), normal(2, 4, 3)),
    LayerCase("GroupNorm-one-group", lambda: nn.GroupNorm(1, 3, affine=False),
              lambda t: t.nn.GroupNorm(1, 3, affine=False), normal(2, 3, 5)),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    check_against_torch(torch, case)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradcheck_float64(case):
    check_gradients(case)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_running_statistics_follow_pytorch_over_several_steps(momentum):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(3, momentum=momentum), torch.nn.BatchNorm2d(3, momentum=momentum)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = (rng.standard_normal((5, 3, 4, 4)) * 3 + 1).astype(np.float32)
        ours(ember.tensor(x))
        theirs(torch.tensor(x))
    for name, buffer in theirs.named_buffers():
        np.testing.assert_allclose(getattr(ours, name).numpy(), buffer.numpy(), rtol=1e-5, atol=1e-6)
    assert int(ours.num_batches_tracked.item()) == 4
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(ember.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_eval_mode_does_not_touch_the_buffers():
    bn = nn.BatchNorm1d(3).eval()
    before = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    bn(ember.randn(4, 3))
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_state_dict_names_match_pytorch():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)), (nn.LayerNorm(3), torch.nn.LayerNorm(3)),
                         (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)), (nn.RMSNorm(5), torch.nn.RMSNorm(5))):
        assert list(ours.state_dict()) == list(theirs.state_dict())
        copy_state_to_torch(torch, ours, theirs)


def test_half_precision_statistics_do_not_overflow():
    x = ember.tensor(np.full((4, 2), 300.0) + np.arange(8).reshape(4, 2), dtype="float16")
    y = F.batch_norm(x, None, None, training=True)
    assert y.dtype == np.float16 and np.isfinite(y.numpy()).all()


def test_wrong_rank_and_channels_are_reported():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape \(N, C, H, W\), got shape \(2, 3, 4\)"):
        nn.BatchNorm2d(3)(ember.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 3 channels in dimension 1 .* got shape \(2, 5\)"):
        nn.BatchNorm1d(3)(ember.zeros(2, 5))
    with pytest.raises(ValueError, match="BatchNorm3d: expected input of shape"):
        nn.BatchNorm3d(3)(ember.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError,
                       match=r"LayerNorm: expected input whose trailing dimensions are \(4,\), got shape \(2, 5\)"):
        nn.LayerNorm(4)(ember.zeros(2, 5))
    with pytest.raises(ValueError, match=r"GroupNorm: expected input of shape \(N, 4, ...\)"):
        nn.GroupNorm(2, 4)(ember.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="GroupNorm: num_channels"):
        nn.GroupNorm(3, 4)


def test_single_value_per_channel_cannot_train():
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel when training, got input \(1, 3\)"):
        nn.BatchNorm1d(3)(ember.zeros(1, 3))
    nn.BatchNorm1d(3).eval()(ember.zeros(1, 3))  # fine with running statistics


def test_reset_running_stats():
    bn = nn.BatchNorm1d(2)
    bn(ember.randn(8, 2) + 3)
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]
    assert int(bn.num_batches_tracked.item()) == 0
