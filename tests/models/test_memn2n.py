"""MemN2N: position encoding, the forward pass against a NumPy transcription of the paper, float64 gradients
against finite differences, random noise, linear start, errors and a reduced bAbI task 1 training."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.data.datasets.babi import load_babi
from ember.models.memn2n import (
    MemN2N,
    MemN2NConfig,
    add_empty_memories,
    babi_arrays,
    evaluate_memn2n,
    fit_memn2n,
    memory_read,
    position_encoding,
    split_arrays,
)


def test_position_encoding_is_the_papers_formula():
    pe = position_encoding(3, 2, ember.float64).numpy()
    J, d = 3, 2
    expected = [[(1 - j / J) - (k / d) * (1 - 2 * j / J) for k in (1, 2)] for j in (1, 2, 3)]
    np.testing.assert_allclose(pe, expected, rtol=1e-12)


def _tiny(seed=0, hops=2):
    ember.manual_seed(seed)
    model = MemN2N(vocab_size=7, embedding_dim=3, memory_size=4, hops=hops)
    model.to(ember.float64)
    rng = np.random.default_rng(seed)
    story = rng.integers(1, 7, size=(2, 4, 3))
    story[:, :, 2] = 0  # padding words
    story[0, 3] = 0  # story 0 holds 3 statements
    lengths = np.array([3, 4])
    question = rng.integers(1, 7, size=(2, 2))
    return model, story, lengths, question


def _numpy_forward(model, story, lengths, question):
    """The paper's equations, written out for one story at a time."""
    E, T = model.embeddings.detach().numpy(), model.temporal.detach().numpy()
    out = []
    for s, n, q in zip(story, lengths, question):
        d = E.shape[2]
        pe_s = position_encoding(s.shape[1], d, ember.float64).numpy()
        pe_q = position_encoding(len(q), d, ember.float64).numpy()
        u = sum(pe_q[j] * E[0, w] for j, w in enumerate(q) if w)
        for k in range(1, model.hops + 1):
            # slot i holds the (n-1-i)-th most recent sentence; slots >= n are empty and not attended
            def vectors(e):  # memory (e = k - 1) or output (e = k) vectors of the n real sentences
                return np.array([sum(pe_s[j] * E[e, w] for j, w in enumerate(s[i]) if w) + T[e, n - 1 - i]
                                 for i in range(n)])
            m, c = vectors(k - 1), vectors(k)
            scores = m @ u
            p = np.exp(scores - scores.max())
            p /= p.sum()
            u = u + p @ c
        out.append(E[model.hops] @ u)
    return np.array(out)


def test_forward_matches_a_numpy_transcription_of_the_paper():
    model, story, lengths, question = _tiny()
    logits, attention = model(ember.tensor(story), ember.tensor(lengths), ember.tensor(question), return_attention=True)
    np.testing.assert_allclose(logits.numpy(), _numpy_forward(model, story, lengths, question), rtol=1e-10)
    assert len(attention) == 2 and attention[0].numpy()[0, 3] == 0.0  # the empty slot gets no attention
    np.testing.assert_allclose(attention[1].numpy().sum(1), 1.0)


def test_memory_read_gradcheck_float64():
    rng = np.random.default_rng(0)
    u = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    memory = ember.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    output = ember.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    valid = ember.tensor(np.array([[True, True, True, False], [True, True, True, True]]))
    for softmax in (True, False):
        assert gradcheck(lambda a, b, c: memory_read(a, b, c, valid, softmax)[0].sum(), (u, memory, output),
                         check_forward=False)


def test_model_gradients_match_finite_differences_float64():
    model, story, lengths, question = _tiny(1)
    args = (ember.tensor(story), ember.tensor(lengths), ember.tensor(question))
    answer = ember.tensor(np.array([2, 5]))
    for linear_start in (False, True):
        model.linear_start = linear_start
        model.zero_grad()
        loss = ember.nn.functional.cross_entropy(model(*args), answer)
        loss.backward()
        for param in (model.embeddings, model.temporal):
            analytic = param.grad.numpy().copy()
            numeric = np.zeros_like(analytic)
            raw = param.data
            for index in np.ndindex(*analytic.shape):
                original = float(raw[index].item())
                values = []
                for sign in (1, -1):
                    with ember.no_grad():
                        raw[index] = original + sign * 1e-6
                        values.append(float(ember.nn.functional.cross_entropy(model(*args), answer).item()))
                with ember.no_grad():
                    raw[index] = original
                numeric[index] = (values[0] - values[1]) / 2e-6
            np.testing.assert_allclose(analytic, numeric, atol=1e-7)
    assert np.all(model.embeddings.grad.numpy()[0, 0] == 0.0)  # the padding word of E_0 learns nothing


def test_linear_start_removes_the_attention_softmax():
    model, story, lengths, question = _tiny(2, hops=1)
    model.linear_start = True
    _, (p,) = model(ember.tensor(story), ember.tensor(lengths), ember.tensor(question), return_attention=True)
    with ember.no_grad():
        model.linear_start = False
        _, (q,) = model(ember.tensor(story), ember.tensor(lengths), ember.tensor(question), return_attention=True)
    raw = p.numpy()[0, :3]
    np.testing.assert_allclose(q.numpy()[0, :3], np.exp(raw) / np.exp(raw).sum(), rtol=1e-10)  # p = scores there
    assert p.numpy()[0, 3] == 0.0


def test_add_empty_memories():
    story = np.arange(1, 13).reshape(1, 6, 2)
    same, n = add_empty_memories(story, np.array([3]), 0.0)
    assert n.tolist() == [3] and np.array_equal(same, story * (np.arange(6) < 3)[None, :, None])
    full, n = add_empty_memories(story, np.array([4]), 1.0)  # 8 rows do not fit in 6: the oldest go
    assert n.tolist() == [6] and full[0, :, 0].tolist() == [0, 3, 0, 5, 0, 7]
    big = np.ones((400, 50, 1), dtype=np.int64)
    noisy, n = add_empty_memories(big, np.full(400, 20), 0.1, np.random.default_rng(0))
    assert 0.08 < (n - 20).sum() / (400 * 20) < 0.12  # about 10% more memories, all of them empty
    assert ((noisy[:, :, 0] == 0).sum(1) - (50 - n) == n - 20).all()


def test_bad_input_raises_errors_naming_the_sizes():
    model = MemN2N(vocab_size=10, embedding_dim=4, memory_size=5)
    question = ember.tensor([[1, 2]])
    with pytest.raises(ValueError, match=r"MemN2N: stories hold 6 sentences but the model's memory_size is 5"):
        model(ember.zeros(1, 6, 3, dtype=ember.int64), ember.tensor([6]), question)
    with pytest.raises(ValueError, match=r"MemN2N: word ids must lie in \[0, 10\).*got ids in \[1, 12\]"):
        model(ember.full((1, 5, 3), 12, dtype=ember.int64), ember.tensor([5]), question)
    with pytest.raises(ValueError, match=r"MemN2N: expected story \(N, memory, words\)"):
        model(ember.zeros(2, 5, 3, dtype=ember.int64), ember.tensor([5, 5]), question)
    with pytest.raises(ValueError, match=r"story_length must lie in \[0, 5\]"):
        model(ember.zeros(1, 5, 3, dtype=ember.int64), ember.tensor([7]), question)
    with pytest.raises(ValueError, match="must be positive"):
        MemN2N(10, 4, memory_size=0)


def test_training_on_a_babi_task1_subset_learns():
    train, test = load_babi(1, memory_size=50)
    rng = np.random.default_rng(0)
    data = babi_arrays(train)
    rest, valid = split_arrays({k: v[:600] for k, v in data.items()}, 0.1, rng)
    ember.manual_seed(0)
    model = MemN2N(len(train.vocab), 20, 50, 3)
    test_data = {k: v[:300] for k, v in babi_arrays(test).items()}
    before = evaluate_memn2n(model, test_data)[1]
    fit_memn2n(model, rest, valid, MemN2NConfig(epochs=25, decay_every=25), rng)
    error = evaluate_memn2n(model, test_data)[1]
    assert before > 0.6 and error < 0.3, (before, error)
