"""Digit-string dataset properties and a short CTC training run of the sliding-window convnet."""
import numpy as np
import pytest

import ember
import ember.functional as F
from ember.data import MNIST
from ember.errors import ArgumentError
from ember.models.digit_strings import DigitStringNet, DigitStrings, collate_digit_strings


@pytest.fixture(scope="module")
def train_strings():
    return DigitStrings(train=True, size=2000, seed=3)


@pytest.fixture(scope="module")
def test_strings():
    return DigitStrings(train=False, size=500, seed=3)


def test_lengths_labels_and_images(train_strings):
    lengths = []
    for i in range(300):
        image, labels = train_strings[i]
        assert image.dtype == np.float32 and image.shape[0] == 28 and 0 <= image.min() and image.max() <= 1
        assert labels.dtype == np.int64 and 3 <= len(labels) <= 8
        lengths.append(len(labels))
        # every digit leaves ink in its own columns
        _, _, offsets = train_strings.layout(i)
        assert np.all(np.diff(offsets) > 0) and image.shape[1] > offsets[-1]
    assert set(lengths) == set(range(3, 9))


def test_label_balance(train_strings):
    counts = np.bincount(np.concatenate([train_strings.layout(i)[0] for i in range(2000)]), minlength=10)
    expected = counts.sum() / 10
    # uniform labels: a chi-square statistic this large has probability below 1e-4 under 9 dof
    assert ((counts - expected) ** 2 / expected).sum() < 33.7
    assert counts.min() > 0.85 * expected


def test_sources_come_from_their_own_split(train_strings, test_strings):
    test_images = MNIST(train=False).data
    test_hashes = {im.tobytes() for im in test_images}
    for i in range(200):
        labels, sources, _ = train_strings.layout(i)
        np.testing.assert_array_equal(train_strings.labels[sources], labels)
        assert all(train_strings.images[s].tobytes() not in test_hashes for s in sources)
    assert len(train_strings.images) == 60000 and len(test_strings.images) == 10000
    for i in range(100):
        labels, sources, _ = test_strings.layout(i)
        assert all(test_images[s].tobytes() in test_hashes for s in sources)
        np.testing.assert_array_equal(test_strings.labels[sources], labels)


def test_images_are_rendered_from_their_layout(test_strings):
    image, labels = test_strings[7]
    _, sources, offsets = test_strings.layout(7)
    for s, o in zip(sources, offsets):
        crop = test_strings._crop(s)
        # the canvas keeps the maximum of overlapping strokes, so it dominates each placed digit
        assert np.all(image[:, o:o + crop.shape[1]] >= crop / 255.0 - 1e-7)


def test_deterministic_from_the_seed():
    a = DigitStrings(train=False, size=50, seed=11)
    b = DigitStrings(train=False, size=50, seed=11)
    c = DigitStrings(train=False, size=50, seed=12)
    for i in (0, 17, 49, 3):                      # any access order
        np.testing.assert_array_equal(a[i][0], b[i][0])
        np.testing.assert_array_equal(a[i][1], b[i][1])
    assert any(not np.array_equal(a[i][1], c[i][1]) for i in range(10))
    with pytest.raises(IndexError, match="DigitStrings: index 50 out of range for 50 strings"):
        a[50]
    with pytest.raises(ArgumentError, match="min_digits <= max_digits"):
        DigitStrings(train=False, min_digits=5, max_digits=4)


def test_collate_pads_and_shifts_labels(test_strings):
    batch = [test_strings[i] for i in range(5)]
    images, targets, widths, lengths = collate_digit_strings(batch)
    assert images.shape[0] == 5 and images.shape[3] % 4 == 0 and images.shape[3] >= widths.max()
    for b, (image, labels) in enumerate(batch):
        np.testing.assert_array_equal(images[b, 0, :, :widths[b]], image)
        assert not images[b, 0, :, widths[b]:].any()
        np.testing.assert_array_equal(targets[b, :lengths[b]], labels + 1)


def test_net_emits_frames_per_column():
    net = DigitStringNet(channels=(4, 8))
    out = net(ember.zeros(3, 1, 28, 40))
    assert out.shape == (10, 3, 11)
    np.testing.assert_allclose(out.exp().sum(2).numpy(), 1.0, rtol=1e-5)
    assert net.frames(np.array([37, 40, 41])).tolist() == [10, 10, 11]


def test_ctc_training_reduces_the_loss():
    """200 small Adam steps (about 8 s on one core): the loss leaves the all-blank plateau."""
    ember.manual_seed(0)
    strings = DigitStrings(train=True, size=256, seed=1, max_digits=5)
    net = DigitStringNet()
    opt = ember.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for step in range(200):
        images, targets, widths, lengths = collate_digit_strings([strings[(step * 16 + i) % 256] for i in range(16)])
        opt.zero_grad()
        loss = F.ctc_loss(net(ember.tensor(images)), ember.tensor(targets), net.frames(widths).tolist(),
                          lengths.tolist())
        loss.backward()
        opt.step()
        losses.append(loss.item())
    plateau, final = np.mean(losses[10:30]), np.mean(losses[-10:])
    assert losses[0] > 2 * plateau                 # first it learns to emit blanks ...
    assert final < 0.75 * plateau                  # ... then the digits


def test_frame_tags_read_back_every_string(test_strings):
    """The CRF's training tags give every digit its own run of frames, in reading order."""
    from ember.models.digit_strings import frame_tags, tags_to_digits
    for i in range(len(test_strings)):
        labels, starts, ends = test_strings.spans(i)
        image, _ = test_strings[i]
        frames = int(DigitStringNet.frames(np.array([image.shape[1]]))[0])
        tags = frame_tags(labels, starts, ends, frames)
        assert tags.shape == (frames,) and tags.min() >= 0 and tags.max() < 21
        assert tags_to_digits(tags) == labels.tolist()
        begins = np.flatnonzero((tags >= 1) & (tags <= 10))
        assert len(begins) == len(labels)
        for k, f in enumerate(begins):          # a digit's begin frame overlaps its columns
            assert 4 * f < ends[k] and starts[k] < 4 * f + 4


def test_frame_tags_keep_equal_neighbours_apart_and_rescue_narrow_digits():
    from ember.models.digit_strings import frame_tags
    assert frame_tags(np.array([3, 3]), np.array([0, 8]), np.array([8, 16]), frames=4).tolist() == [4, 14, 4, 14]
    # digit 1 (columns 5..8) overlaps digit 0 (0..8) and wins no frame by coverage: it takes frame 1.
    tags = frame_tags(np.array([2, 5]), np.array([0, 5]), np.array([8, 8]), frames=3)
    assert tags.tolist() == [3, 6, 0]
    with pytest.raises(ArgumentError, match="frame_tags: the 3 digits"):
        frame_tags(np.array([1, 2, 3]), np.array([0, 1, 2]), np.array([3, 4, 4]), frames=1)


def test_tags_to_digits_and_edit_distance():
    from ember.models.digit_strings import edit_distance, tags_to_digits
    assert tags_to_digits([0, 4, 14, 14, 0, 4, 14, 8, 18]) == [3, 3, 7]
    assert tags_to_digits([14, 14, 0, 18]) == [3, 7]          # inside runs without a begin still read
    assert tags_to_digits([0, 0]) == []
    assert edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert edit_distance([1, 2, 3], [1, 3]) == 1
    assert edit_distance([], [4, 5]) == 2
    assert edit_distance([1, 2, 3, 4], [2, 1, 3, 5]) == 3
    assert edit_distance([7, 8, 9], [9, 8, 7]) == 2


def test_crf_training_on_frame_tags_reduces_the_loss():
    """The sliding-window convnet with a linear-chain CRF on top learns the column tags (about 10 s on one core)."""
    from ember.models.digit_strings import CRF_TAGS, frame_tags
    ember.manual_seed(0)
    strings = DigitStrings(train=True, size=128, seed=2, max_digits=4)
    net, crf = DigitStringNet(classes=CRF_TAGS), ember.nn.CRF(CRF_TAGS)
    opt = ember.optim.Adam(list(net.parameters()) + list(crf.parameters()), lr=3e-3)
    losses = []
    for step in range(60):
        batch = [(step * 16 + i) % 128 for i in range(16)]
        images, _, widths, _ = collate_digit_strings([strings[i] for i in batch])
        frames = DigitStringNet.frames(widths)
        tags = np.zeros((images.shape[3] // 4, 16), dtype=np.int64)
        for b, i in enumerate(batch):
            tags[:frames[b], b] = frame_tags(*strings.spans(i), int(frames[b]))
        mask = ember.tensor(np.arange(tags.shape[0])[:, None] < frames[None, :])
        opt.zero_grad()
        loss = -crf(net(ember.tensor(images)), ember.tensor(tags), mask=mask, reduction="token_mean")
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:5])
