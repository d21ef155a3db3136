"""The generated shape-caption set: determinism, held-out pairs, captions and masks matching the pixels."""
import numpy as np
import pytest

from ember.data.shapes_captions import (COLOURS, SHAPES, encode_captions, make_shape_captions, object_pairs,
                                        render_shape, shape_caption_splits, shape_caption_vocab,
                                        shape_word_objects)


@pytest.fixture(scope="module")
def splits():
    return shape_caption_splits(n_train=400, n_test=100, seed=5, n_held_out=8)


def test_same_seed_same_set_other_seed_differs():
    a, b, c = make_shape_captions(20, seed=3), make_shape_captions(20, seed=3), make_shape_captions(20, seed=4)
    assert np.array_equal(a.images, b.images) and a.captions == b.captions and np.array_equal(a.masks, b.masks)
    assert not np.array_equal(a.images, c.images)


def test_held_out_pairs_never_in_training(splits):
    assert len(splits.held_out) == 8 and len(set(splits.held_out)) == 8
    train_pairs, test_pairs = set(splits.train.pairs()), set(splits.test.pairs())
    assert not train_pairs & set(splits.held_out)
    assert test_pairs <= set(splits.held_out) and len(test_pairs) > 1
    # No caption of the training set names a held-out pair either.
    named = {frozenset({(c[1], c[2]), (c[-2], c[-1])}) for c in splits.train.captions}
    assert not named & set(splits.held_out)
    # Every object kind is still seen in training: the test asks for new combinations only.
    kinds = {k for pair in train_pairs for k in pair}
    assert kinds == {(c, s) for c in COLOURS for s in SHAPES}


def test_captions_match_layout(splits):
    data = splits.train
    for caption, objects, cells in zip(data.captions, data.objects, data.cells):
        (r0, c0), (r1, c1) = cells
        assert (caption[1], caption[2]) == objects[0] and (caption[-2], caption[-1]) == objects[1]
        relation = " ".join(caption[3:-3])
        expected = {(True, False): "left of" if c0 < c1 else "right of",
                    (False, True): "above" if r0 < r1 else "below"}[(r0 == r1, c0 == c1)]
        assert relation == expected
    assert {" ".join(c[3:-3]) for c in data.captions} == {"above", "below", "left of", "right of"}


def test_masks_match_colours_and_cells(splits):
    data = splits.train
    cell = data.images.shape[-1] // 3
    for n in range(50):
        for k, (colour, _) in enumerate(data.objects[n]):
            mask = data.masks[n, k]
            assert mask.sum() > 40
            assert np.abs(data.images[n][:, mask].mean(axis=1) - COLOURS[colour]).max() < 0.05
            rows, cols = np.nonzero(mask)
            assert set(rows // cell) == {data.cells[n, k, 0]} and set(cols // cell) == {data.cells[n, k, 1]}
        background = ~(data.masks[n, 0] | data.masks[n, 1])
        assert data.images[n][:, background].mean() < 0.05
        assert not (data.masks[n, 0] & data.masks[n, 1]).any()


def test_render_shape_areas():
    square, circle, triangle = (render_shape(s, 64, (32.0, 32.0), 20) for s in ("square", "circle", "triangle"))
    assert square.sum() == 400
    assert abs(circle.sum() - np.pi * 100) < 15 and abs(triangle.sum() - 200) < 15
    assert triangle[22:27].sum() < triangle[37:42].sum()     # it points up
    with pytest.raises(ValueError, match="render_shape: unknown shape 'hexagon'"):
        render_shape("hexagon", 8, (4.0, 4.0), 4)


def test_vocab_and_encoding_use_translation_specials():
    vocab = shape_caption_vocab()
    assert vocab.tokens[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    ids, lengths = encode_captions(vocab, [["a", "red", "circle", "left", "of", "a", "blue", "square"],
                                           ["a", "red", "circle", "above", "a", "blue", "square"]])
    assert lengths.tolist() == [10, 9] and ids.shape == (2, 10) and ids[1, -1] == 0
    assert vocab.decode(ids[0, 1:-1]) == ["a", "red", "circle", "left", "of", "a", "blue", "square"]


def test_shape_word_objects_matching():
    objects = [("red", "circle"), ("blue", "square")]
    assert shape_word_objects("a blue square below a red circle".split(), objects) == [(2, 1), (6, 0)]
    assert shape_word_objects("a green square".split(), objects) == [(2, 1)]     # the only square
    assert shape_word_objects("a red triangle".split(), objects) == []           # not in the image
    assert shape_word_objects("a green circle".split(), [("red", "circle"), ("blue", "circle")]) == []


def test_argument_errors():
    assert len(object_pairs()) == 66
    with pytest.raises(ValueError, match="shape_caption_splits: n_held_out must be in \\[1, 65\\], got 0"):
        shape_caption_splits(10, 10, n_held_out=0)
    with pytest.raises(ValueError, match="make_shape_captions: size 50 must be a multiple of grid 3"):
        make_shape_captions(2, size=50)
