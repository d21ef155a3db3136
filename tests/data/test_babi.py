"""ember/data/datasets/babi.py against the 40 real files (counts from shared/data/README.md)."""

import hashlib
import io
import tarfile

import pytest

import ember.data.datasets.babi as babi_module
from ember.data import DataLoader
from ember.data.datasets.babi import (MD5, TASKS, BabiTask, build_vocab, load_babi, parse_babi,
                                      task_file, tokenize)
from ember.data.errors import DataError, DataNotFoundError

# stories per file, from the README table: task -> (train, test)
STORIES = {1: (200, 200), 2: (200, 200), 3: (200, 200), 4: (1000, 1000), 5: (200, 200),
           6: (200, 200), 7: (200, 200), 8: (200, 200), 9: (200, 200), 10: (200, 200),
           11: (200, 200), 12: (200, 200), 13: (200, 200), 14: (200, 200), 15: (250, 250),
           16: (1000, 1000), 17: (125, 125), 18: (198, 199), 19: (1000, 1000), 20: (94, 93)}
LINES = {(2, "train"): 5338, (2, "test"): 5398, (3, "train"): 15796, (16, "test"): 10000}


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_file_parses_with_the_readme_counts(shared_data, task):
    for i, split in enumerate(("train", "test")):
        path = shared_data / "babi" / task_file(task, split)
        assert hashlib.md5(path.read_bytes()).hexdigest() == MD5[task][i]
        text = path.read_text()
        questions, stories = parse_babi(text, path)
        assert len(questions) == 1000 and stories == STORIES[task][i]
        if (task, split) in LINES:
            assert text.count("\n") == LINES[task, split]


def test_first_question_of_task_one(shared_data):
    questions, _ = parse_babi((shared_data / "babi" / task_file(1, "train")).read_text())
    q = questions[0]
    assert q.story == ("Mary moved to the bathroom.", "John went to the hallway.")
    assert (q.question, q.answer, q.supporting, q.story_index) == ("Where is Mary?", "bathroom",
                                                                   (0,), 0)
    # later questions see the story so far, without the earlier questions
    assert questions[1].story[-1] == "Sandra moved to the garden." and len(questions[1].story) == 4
    assert questions[1].supporting == (2,)
    # in task 1 the single supporting fact always mentions the answer
    assert all(q.answer in q.story[q.supporting[0]] for q in questions)


def test_arrays_for_a_memory_network(shared_data):
    train, test = load_babi(1)
    assert train.vocab is test.vocab and train.vocab.tokens[:2] == ["<pad>", "<unk>"]
    assert train.stories.shape[1:] == test.stories.shape[1:] == (10, 6)
    assert train.queries.shape[1] == test.queries.shape[1]
    assert len(train) == len(test) == 1000 and train.num_stories == 200
    sample = train[0]
    assert set(sample) == {"story", "story_length", "question", "answer", "supporting"}
    vocab = train.vocab
    assert vocab.decode(sample["story"][0][:5]) == ["mary", "moved", "to", "the", "bathroom"]
    assert sample["story_length"] == 2 and (sample["story"][2:] == 0).all()
    assert vocab.decode(sample["question"][:3]) == ["where", "is", "mary"]
    assert vocab.tokens[sample["answer"]] == "bathroom"
    assert sample["supporting"].tolist() == [0]
    answers = [vocab.tokens[i] for i in test.answers]
    assert answers == [q.answer.lower() for q in test.questions]


def test_memory_size_keeps_the_latest_statements(shared_data):
    ds = BabiTask(2, memory_size=5)
    assert ds.stories.shape[1] == 5 and ds.story_lengths.max() == 5
    long = next(i for i, q in enumerate(ds.questions) if len(q.story) > 8)
    q = ds.questions[long]
    dropped = len(q.story) - 5
    assert ds.vocab.decode(ds.stories[long, 0][:2]) == tokenize(q.story[dropped])[:2]
    expected = [s - dropped if s >= dropped else -1 for s in q.supporting]
    assert ds.supporting[long].tolist() == expected


def test_multi_word_answers_are_single_tokens(shared_data):
    ds = BabiTask(19, train=False)
    assert ds.vocab.tokens[ds.answers[0]] == ds.questions[0].answer.lower()
    assert "," in ds.questions[0].answer


def test_batches_are_dicts_from_one_fancy_index(shared_data):
    ds = BabiTask(1)
    batch = next(iter(DataLoader(ds, batch_size=32, shuffle=True, seed=0)))
    assert batch["story"].shape == (32, 10, 6) and batch["answer"].shape == (32,)
    assert batch["supporting"].shape == (32, 1)


@pytest.mark.parametrize("text,message", [
    ("Mary went home.\n", "expected 'ID text'"),
    ("1 A.\n3 B.\n", "line 2: line ID 3 follows 1"),
    ("2 A.\n", "line ID 2 follows 0"),
    ("1 A.\n2 Where?\thome\n", "needs question<TAB>answer<TAB>supporting"),
    ("1 A.\n2 Where?\thome\tx\n", "must be integers"),
    ("1 A.\n2 Where?\thome\t3\n", "supporting fact 3 is not an earlier statement"),
    ("1 Q?\ta\t\n2 Where?\thome\t1\n", "supporting fact 1 is not an earlier statement"),
])
def test_malformed_files_name_the_line(text, message):
    with pytest.raises(DataError, match=message) as info:
        parse_babi(text, "/d/qa1.txt")
    assert info.value.path == "/d/qa1.txt"


def test_vocabulary_counts_shared_story_prefixes_once():
    questions, _ = parse_babi("1 Bill is here.\n2 Where is Bill?\there\t1\n3 Fred is here.\n"
                              "4 Where is Fred?\there\t3\n")
    vocab = build_vocab(questions)
    assert vocab.tokens[:4] == ["<pad>", "<unk>", "is", "here"]
    assert "bill" in vocab and "fred" in vocab


def test_corrupt_and_missing_files(shared_data, tmp_path):
    folder = tmp_path / "babi" / "en"
    folder.mkdir(parents=True)
    for split in ("train", "test"):
        name = task_file(1, split)
        (tmp_path / "babi" / name).write_bytes((shared_data / "babi" / name).read_bytes())
    assert len(BabiTask(1, root=tmp_path)) == 1000
    broken = tmp_path / "babi" / task_file(1, "test")
    broken.write_text(broken.read_text().replace("bathroom", "kitchen", 1))
    with pytest.raises(DataError, match="checksum mismatch") as info:
        BabiTask(1, train=False, root=tmp_path)
    assert info.value.path == str(broken)
    with pytest.raises(DataNotFoundError) as info:
        BabiTask(2, root=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "babi" / task_file(2, "train")) in message
    assert str(tmp_path / "babi" / task_file(2, "test")) in message
    assert "tasks_1-20_v1-2.tar.gz" in message


def test_download_extracts_and_verifies(shared_data, tmp_path, monkeypatch):
    archive = tmp_path / "mirror" / "tasks_1-20_v1-2.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for task in TASKS:
            for split in ("train", "test"):
                name = task_file(task, split)
                data = (shared_data / "babi" / name).read_bytes()
                info = tarfile.TarInfo(f"tasks_1-20_v1-2/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(babi_module, "ARCHIVE_URLS", ("file:///nowhere.tar.gz", archive.as_uri()))
    train, test = load_babi(20, root=tmp_path / "data", download=True, progress=False)
    assert train.num_stories == 94 and test.num_stories == 93
    assert (tmp_path / "data" / "babi" / task_file(7, "test")).is_file()  # all tasks extracted
    with pytest.raises(ValueError, match="1..20"):
        task_file(21, "train")
    with pytest.raises(ValueError, match="split"):
        task_file(1, "valid")
