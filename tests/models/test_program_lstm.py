"""The Learning-to-Execute LSTM: shapes, teacher-forced batches, greedy decoding, accuracy, training, errors."""
import numpy as np
import pytest

import ember
from ember.data.programs import ProgramSampler, generate_addition, generate_program
from ember.errors import ArgumentError, ShapeError
from ember.models.program_lstm import (PROGRAM_CHARS, ProgramLSTM, exact_match_accuracy, program_batch,
                                       program_loss, teacher_forced_accuracy)


def _programs(count, length=3, nesting=2):
    return [generate_program(np.random.default_rng(s), length, nesting) for s in range(count)]


def _always(model, char):
    """Make ``model`` predict ``char`` at every position, whatever it reads."""
    model.head.weight._data[:] = 0
    model.head.bias._data[:] = 0
    model.head.bias._data[PROGRAM_CHARS.index(char) + 1] = 10.0


def test_shapes_vocabulary_and_initialisation():
    ember.manual_seed(0)
    model = ProgramLSTM(hidden_size=24, num_layers=2)
    assert model.vocab_size == len(PROGRAM_CHARS) + 1 == 50
    inputs, labels = program_batch(model, _programs(5))
    assert model(inputs).shape == (5, inputs.shape[1], 50)
    assert model.lstm.num_layers == 2 and model.lstm.hidden_size == 24
    for name, parameter in model.named_parameters():
        assert np.abs(parameter.numpy()).max() <= 0.08, name
    assert not model.embedding.weight.numpy()[0].any()  # padding row


def test_teacher_forced_batch_aligns_program_separator_and_target():
    model = ProgramLSTM(hidden_size=8, num_layers=1)
    programs = _programs(4)
    inputs, labels = program_batch(model, programs)
    x, y = inputs.numpy(), labels.numpy()
    for i, p in enumerate(programs):
        n, t = len(p.source), len(p.target_text)
        assert model.decode(x[i, :n]) == p.source and model.decode(x[i, n:n + 1]) == "@"
        assert model.decode(x[i, n + 1:n + t]) == p.target_text[:-1]
        assert (y[i, :n] == -100).all() and model.decode(y[i, n:n + t]) == p.target_text
        assert (y[i, n + t:] == -100).all() and (x[i, n + t:] == 0).all()


def test_greedy_decoding_stops_at_the_end_token():
    model = ProgramLSTM(hidden_size=8, num_layers=2)
    _always(model, ".")
    assert model.generate("print((1+2))") == ""
    _always(model, "7")
    assert model.generate("print((1+2))", max_output=5) == "77777"  # no end token: stops at the cap


def test_greedy_decoding_reads_its_own_output():
    ember.manual_seed(1)
    model = ProgramLSTM(hidden_size=16, num_layers=2)
    source = "print((12+34))"
    out = model.generate(source, max_output=6)
    # re-run teacher forced on the greedy output: every argmax must reproduce the next greedy char
    tokens = ember.tensor([model.encode(source + "@" + out)])
    with ember.no_grad():
        model.eval()
        argmax = model(tokens).numpy()[0].argmax(-1)
    assert model.decode(argmax[len(source):len(source) + len(out)]) == out


def test_teacher_forced_accuracy_counts_output_characters():
    model = ProgramLSTM(hidden_size=8, num_layers=1)
    programs = _programs(30)
    _always(model, ".")  # right exactly on each end token
    characters = sum(len(p.target_text) for p in programs)
    assert teacher_forced_accuracy(model, programs, batch_size=7) == pytest.approx(30 / characters)
    assert exact_match_accuracy(model, programs) == 0.0


def test_tiny_training_on_addition_reduces_the_loss():
    ember.manual_seed(0)
    model = ProgramLSTM(hidden_size=48, num_layers=2)
    optimizer = ember.optim.Adam(model.parameters(), lr=0.01)
    sampler = ProgramSampler("addition", (2, 1), "train", seed=0)
    held_out = ProgramSampler("addition", (2, 1), "test", seed=0).batch(100)
    before = teacher_forced_accuracy(model, held_out)
    losses = []
    for _ in range(80):
        loss, _ = program_loss(model, sampler.batch(32))
        optimizer.zero_grad()
        loss.backward()
        ember.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:5])
    assert teacher_forced_accuracy(model, held_out) > before + 0.15


def test_errors_name_the_model_and_the_sizes():
    model = ProgramLSTM(hidden_size=8, num_layers=1, max_length=20)
    with pytest.raises(ArgumentError, match=r"ProgramLSTM: character '\$' is not in the vocabulary"):
        model.encode("print($)")
    long = generate_addition(np.random.default_rng(0), 9)  # 28 characters, 39 with "@" and the output
    with pytest.raises(ShapeError, match="ProgramLSTM: sequence of 39 characters exceeds max_length 20"):
        program_batch(model, [long])
    with pytest.raises(ShapeError, match="ProgramLSTM: program of 28 characters plus 20 output characters "
                                         "exceeds max_length 20"):
        model.generate(long.source)
    with pytest.raises(ShapeError, match=r"ProgramLSTM: expected tokens \(N, T\), got shape \(3,\)"):
        model(ember.tensor([1, 2, 3]))
    with pytest.raises(ArgumentError, match="ProgramLSTM: need hidden_size, num_layers >= 1"):
        ProgramLSTM(hidden_size=0)
