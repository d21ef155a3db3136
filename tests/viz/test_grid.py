"""Image grids and the PNG writer (NumPy only), read back byte for byte."""
import struct
import zlib

import numpy as np
import pytest

import ember.nn as nn
from ember import viz


def read_png(path):
    """Decode a PNG written by save_png (8-bit grey or RGB, filter 0): a reader independent of the writer."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        offset += 12 + length
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 2: 3}[color]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * channels)
    assert depth == 8 and (rows[:, 0] == 0).all()
    pixels = rows[:, 1:].reshape(height, width, channels)
    return pixels[:, :, 0] if channels == 1 else pixels


def test_make_grid_layout_and_padding():
    images = np.arange(6 * 2 * 3, dtype=float).reshape(6, 2, 3)
    grid = viz.make_grid(images, ncols=4, padding=1, normalize=None, pad_value=0.5)
    assert grid.shape == (2 * 3 - 1, 4 * 4 - 1)
    np.testing.assert_array_equal(grid[0:2, 4:7], np.clip(images[1], 0, 1))
    assert (grid[2, :] == 0.5).all() and (grid[3:5, 8:15] == 0.5).all()  # padding and empty cells
    normalized = viz.make_grid(images, normalize="global")
    assert normalized.min() == 0.0 and normalized.max() == 1.0


def test_layouts_and_per_image_normalisation():
    rng = np.random.default_rng(0)
    colour_first = rng.random((4, 3, 5, 5))
    grid = viz.make_grid(colour_first, ncols=2, normalize=None)
    assert grid.shape == (11, 11, 3)
    np.testing.assert_allclose(viz.make_grid(colour_first.transpose(0, 2, 3, 1), ncols=2, normalize=None), grid)
    scaled = np.stack([np.linspace(0, 1, 25).reshape(5, 5), np.linspace(0, 100, 25).reshape(5, 5)])
    each = viz.make_grid(scaled, ncols=2, padding=0, normalize="each")
    np.testing.assert_allclose(each[:, :5], each[:, 5:])
    with pytest.raises(ValueError, match="expected images of shape"):
        viz.make_grid(np.zeros((2, 4, 5, 5)))
    with pytest.raises(ValueError, match="normalize must be"):
        viz.make_grid(np.zeros((1, 2, 2)), normalize="max")


def test_save_png_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.random((7, 9))
    viz.save_png(grey, tmp_path / "g.png")
    np.testing.assert_array_equal(read_png(tmp_path / "g.png"), np.round(grey * 255).astype(np.uint8))
    colour = rng.integers(0, 256, (4, 3, 3), dtype=np.uint8)
    viz.save_png(colour, tmp_path / "sub" / "c.png", scale=2)
    decoded = read_png(tmp_path / "sub" / "c.png")
    np.testing.assert_array_equal(decoded, colour.repeat(2, 0).repeat(2, 1))
    with pytest.raises(ValueError, match=r"expected an \(H, W\) or \(H, W, 3\) image"):
        viz.save_png(np.zeros((2, 2, 4)), tmp_path / "x.png")


def test_pillow_reads_our_png(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    image = np.random.default_rng(1).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    viz.save_png(image, tmp_path / "p.png")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "p.png")), image)


def test_first_layer_filters(tmp_path):
    conv = nn.Conv2d(3, 8, 5)
    grid = viz.plot_filters(conv.weight, tmp_path / "conv.png", ncols=4, scale=3)
    assert grid.shape == (11, 23, 3) and read_png(tmp_path / "conv.png").shape == (33, 69, 3)
    linear = nn.Linear(784, 10)  # rows of an MNIST MLP's first layer are 28x28 templates
    assert viz.plot_filters(linear.weight, ncols=5).shape == (57, 144)
    with pytest.raises(ValueError, match="not square images; pass image_shape"):
        viz.plot_filters(nn.Linear(10, 2).weight)
    assert viz.plot_filters(nn.Linear(10, 2).weight, image_shape=(2, 5)).shape == (2, 11)


def test_save_image_grid_of_samples(tmp_path):
    from ember.data import mnist_sample

    digits = mnist_sample().data[:10]
    grid = viz.save_image_grid(digits, tmp_path / "digits.png", ncols=5, scale=1)
    decoded = read_png(tmp_path / "digits.png")
    assert decoded.shape == grid.shape == (57, 144)
    np.testing.assert_array_equal(decoded[:28, :28], digits[0])  # uint8 pixels in [0, 255] come back exactly
