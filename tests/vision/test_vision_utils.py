"""make_grid / save_image against torchvision's algorithm, written out with torch."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.vision.utils import make_grid, save_image


def torchvision_make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
                          pad_value=0.0):
    """torchvision.utils.make_grid (v0.15+), transcribed."""
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = torch.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = torch.cat((tensor, tensor, tensor), 1)
    if normalize:
        tensor = tensor.clone()

        def norm_ip(img, low, high):
            img.clamp_(min=low, max=high)
            img.sub_(low).div_(max(high - low, 1e-5))

        def norm_range(t):
            if value_range is not None:
                norm_ip(t, value_range[0], value_range[1])
            else:
                norm_ip(t, float(t.min()), float(t.max()))

        if scale_each:
            for t in tensor:
                norm_range(t)
        else:
            norm_range(tensor)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(
                2, x * width + padding, width - padding).copy_(tensor[k])
            k += 1
    return grid


IMAGES = np.random.default_rng(0).normal(size=(11, 1, 5, 6)).astype(np.float32)


@pytest.mark.parametrize("kwargs", [
    {}, {"nrow": 4, "padding": 1, "pad_value": 0.5}, {"normalize": True}, {"nrow": 20},
    {"normalize": True, "scale_each": True}, {"normalize": True, "value_range": (-1.0, 1.0)}])
def test_make_grid_matches_torchvision(kwargs):
    ours = make_grid(ember.tensor(IMAGES), **kwargs)
    theirs = torchvision_make_grid(torch.from_numpy(IMAGES), **kwargs)
    assert isinstance(ours, ember.Tensor) and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape", [(5, 6), (1, 5, 6), (3, 5, 6), (1, 3, 5, 6), (4, 3, 5, 6)])
def test_make_grid_shapes_match_torchvision(shape):
    data = np.random.default_rng(1).random(shape).astype(np.float32)
    np.testing.assert_array_equal(make_grid(ember.tensor(data)).numpy(),
                                  torchvision_make_grid(torch.from_numpy(data)).numpy())


def test_make_grid_accepts_a_list_and_checks_value_range():
    assert make_grid([ember.zeros(1, 4, 4)] * 3, padding=0).shape == (3, 4, 12)
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(ember.zeros(2, 1, 4, 4), normalize=True, value_range=[0, 1])


def test_save_image_writes_torchvision_bytes(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    data = np.random.default_rng(2).random((6, 3, 8, 8)).astype(np.float32)
    path = tmp_path / "grid.png"
    save_image(ember.tensor(data), path, nrow=3)
    grid = torchvision_make_grid(torch.from_numpy(data), nrow=3)
    expected = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    np.testing.assert_array_equal(np.asarray(Image.open(path)), expected)
    with open(tmp_path / "file.png", "wb") as handle:
        save_image(ember.tensor(data), handle, nrow=3)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "file.png")), expected)
