"""ember.vision.transforms against torchvision's definitions, computed with torch."""
import numpy as np
import pytest
import torch

import ember
from ember.vision import transforms

RNG = np.random.default_rng(0)
GREY = RNG.integers(0, 256, (28, 28), dtype=np.uint8)
COLOUR = RNG.integers(0, 256, (32, 30, 3), dtype=np.uint8)


def _torch_to_tensor(picture):
    # torchvision.transforms.functional.to_tensor on an ndarray
    if picture.ndim == 2:
        picture = picture[:, :, None]
    img = torch.from_numpy(picture.transpose((2, 0, 1))).contiguous()
    return img.to(dtype=torch.get_default_dtype()).div(255) if img.dtype == torch.uint8 else img


@pytest.mark.parametrize("picture", [GREY, COLOUR], ids=["grey", "colour"])
def test_to_tensor_matches_torchvision(picture):
    ours = transforms.ToTensor()(picture)
    assert isinstance(ours, ember.Tensor) and str(ours.dtype) == "float32"
    np.testing.assert_array_equal(ours.numpy(), _torch_to_tensor(picture).numpy())


def test_to_tensor_batch_equals_per_sample():
    pictures = RNG.integers(0, 256, (5, 32, 30, 3), dtype=np.uint8)
    batch = transforms.ToTensor().batch(pictures)
    assert batch.shape == (5, 3, 32, 30)
    np.testing.assert_array_equal(batch.numpy()[2], transforms.ToTensor()(pictures[2]).numpy())


def test_to_tensor_keeps_non_byte_arrays_and_accepts_pil():
    floats = RNG.random((4, 5))
    out = transforms.ToTensor()(floats)
    assert str(out.dtype) == "float64" and out.shape == (1, 4, 5)
    np.testing.assert_array_equal(out.numpy()[0], floats)
    PIL = pytest.importorskip("PIL.Image")
    np.testing.assert_array_equal(transforms.ToTensor()(PIL.fromarray(COLOUR)).numpy(),
                                  _torch_to_tensor(COLOUR).numpy())


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        transforms.ToTensor()([1, 2])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions"):
        transforms.ToTensor()(np.zeros((1, 2, 2, 2), np.uint8))


def test_normalize_matches_torchvision():
    x = transforms.ToTensor()(COLOUR)
    mean, std = (0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)
    ours = transforms.Normalize(mean, std)(x)
    t = torch.from_numpy(x.numpy().copy())
    theirs = t.sub_(torch.as_tensor(mean).view(-1, 1, 1)).div_(torch.as_tensor(std).view(-1, 1, 1))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(transforms.Normalize(mean, std).batch(ember.stack([x, x])).numpy()[1],
                                  theirs.numpy())


def test_normalize_errors():
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        transforms.Normalize((0.5,), (0.5,))(GREY)
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        transforms.Normalize((0.5,), (0.5,))(ember.tensor(np.zeros((1, 2, 2), np.int64)))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        transforms.Normalize((0.5,), (0.0,))(ember.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size \(..., C, H, W\)"):
        transforms.Normalize((0.5,), (0.5,))(ember.zeros(2, 2))


def _windows(padded, size):
    h, w = size
    return [padded[i:i + h, j:j + w] for i in range(padded.shape[0] - h + 1)
            for j in range(padded.shape[1] - w + 1)]


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_random_crop_is_a_window_of_the_padded_image(mode):
    out = transforms.RandomCrop(28, padding=4, padding_mode=mode, fill=7)(GREY)
    if mode == "symmetric":  # torch.nn.functional.pad has no symmetric mode; NumPy's is the definition
        padded = np.pad(GREY, 4, mode="symmetric")
    else:
        torch_mode = {"edge": "replicate"}.get(mode, mode)
        extra = {"value": 7.0} if mode == "constant" else {}
        image = torch.from_numpy(GREY.astype(np.float64))[None, None]
        padded = torch.nn.functional.pad(image, (4, 4, 4, 4), mode=torch_mode, **extra)[0, 0].numpy()
    assert out.shape == (28, 28)
    assert any(np.array_equal(out, window) for window in _windows(padded, (28, 28)))


def test_random_crop_reproducible_and_batch_equals_per_sample():
    crop = transforms.RandomCrop((20, 24), padding=(2, 3))
    pictures = RNG.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    ember.manual_seed(11)
    one_by_one = np.stack([crop(p) for p in pictures])
    ember.manual_seed(11)
    np.testing.assert_array_equal(crop.batch(pictures), one_by_one)
    assert one_by_one.shape == (6, 20, 24)
    tensors = transforms.ToTensor().batch(pictures)
    ember.manual_seed(11)
    np.testing.assert_array_equal(crop.batch(tensors).numpy(),
                                  transforms.ToTensor().batch(one_by_one).numpy())


def test_random_crop_errors_and_pad_if_needed():
    with pytest.raises(ValueError, match=r"Required crop size \(30, 30\) is larger than input image size \(28, 28\)"):
        transforms.RandomCrop(30)(GREY)
    assert transforms.RandomCrop(30, pad_if_needed=True)(GREY).shape == (30, 30)


def test_horizontal_flip():
    assert np.array_equal(transforms.RandomHorizontalFlip(p=1.0)(COLOUR), COLOUR[:, ::-1])
    assert np.array_equal(transforms.RandomHorizontalFlip(p=0.0)(COLOUR), COLOUR)
    x = transforms.ToTensor()(COLOUR)
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(1.0)(x).numpy(),
                                  torch.from_numpy(x.numpy()).flip(-1).numpy())
    ember.manual_seed(0)
    flips = [not np.array_equal(transforms.RandomHorizontalFlip()(GREY), GREY) for _ in range(200)]
    assert 60 < sum(flips) < 140


def test_center_crop_follows_torchvision_rounding_and_padding():
    image = np.arange(35).reshape(5, 7)
    # torchvision: top = round((5 - 2) / 2) = 2 (banker's rounding of 1.5), left = round(2.5) = 2
    np.testing.assert_array_equal(transforms.CenterCrop((2, 3))(image), image[2:4, 2:5])
    padded = transforms.CenterCrop(4)(np.ones((2, 3), np.uint8))
    expected = np.zeros((4, 4), np.uint8)
    expected[1:3, 0:3] = 1  # left pad (4-3)//2 = 0, right (4-3+1)//2 = 1; top/bottom 1
    np.testing.assert_array_equal(padded, expected)


@pytest.mark.parametrize("size, antialias, mode", [
    ((14, 10), True, "bilinear"), ((14, 10), False, "bilinear"), ((40, 50), True, "bilinear"),
    ((9, 13), True, "nearest"), ((60, 33), True, "nearest")])
def test_resize_matches_torch_interpolate(size, antialias, mode):
    x = transforms.ToTensor()(COLOUR)
    ours = transforms.Resize(size, interpolation=mode, antialias=antialias)(x)
    kwargs = {"antialias": antialias, "align_corners": False} if mode == "bilinear" else {}
    theirs = torch.nn.functional.interpolate(torch.from_numpy(x.numpy())[None], size=size, mode=mode, **kwargs)[0]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=2e-6)


def test_resize_smaller_edge_rule():
    assert transforms.Resize(16)(COLOUR).shape == (17, 16, 3)  # 32x30: width is the short edge
    assert transforms.Resize(16)(transforms.ToTensor()(COLOUR)).shape == (3, 17, 16)
    assert transforms.Resize(20, max_size=21)(np.zeros((10, 40), np.uint8)).shape == (5, 21)
    out = transforms.Resize((10, 10))(GREY)
    assert out.dtype == np.uint8 and out.shape == (10, 10)


def test_compose_and_lambda():
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda t: t * 2)])
    np.testing.assert_allclose(pipeline(GREY).numpy(), _torch_to_tensor(GREY).numpy() * 2)
    batch = pipeline.batch(np.stack([GREY, GREY]))
    assert isinstance(batch, ember.Tensor) and batch.shape == (2, 1, 28, 28)
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        transforms.Lambda(3)
    assert "ToTensor()" in repr(pipeline)
