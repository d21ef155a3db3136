"""The bAbI question-answering tasks (v1.2, English, 1k examples per task and split).

Files are the original ``en/qa<N>_<name>_<split>.txt`` of ``tasks_1-20_v1-2``,
in ``<data dir>/babi/en/``. Each line is ``ID text``; a question line is
``ID question<TAB>answer<TAB>supporting fact IDs``; IDs restart at 1 with each
new story. :func:`parse_babi` turns a file into :class:`BabiQuestion` records
(the story so far, the question, the answer and the supporting facts), and
:class:`BabiTask` turns those into padded id arrays for memory networks.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..archive import extract_members
from ..dataset import Dataset
from ..download import RemoteFile, candidate_dirs, check_file, download_url, locate, missing_error
from ..errors import DataError
from .text import read_text
from .vocab import Vocabulary

PathLike = Union[str, "os.PathLike[str]"]

#: Task number -> name used in the file names.
TASKS = {
    1: "single-supporting-fact", 2: "two-supporting-facts", 3: "three-supporting-facts",
    4: "two-arg-relations", 5: "three-arg-relations", 6: "yes-no-questions", 7: "counting",
    8: "lists-sets", 9: "simple-negation", 10: "indefinite-knowledge", 11: "basic-coreference",
    12: "conjunction", 13: "compound-coreference", 14: "time-reasoning", 15: "basic-deduction",
    16: "basic-induction", 17: "positional-reasoning", 18: "size-reasoning", 19: "path-finding",
    20: "agents-motivations",
}
#: Task number -> (train MD5, test MD5) of the ``en/`` files.
MD5 = {
    1: ("b3d2196a7dd5d8c65b2ddc17a34d76bd", "d33488e97ced71fabb9381ee273a66d3"),
    2: ("4b0568df2bc9946408b3ba69ef1b78f9", "dd4b3eb2de365efe93eecfa67b3988f0"),
    3: ("f169fe223a687ff3a9e21bf0c98a02b9", "c78f5b0c59c278deae7493dbc5f65626"),
    4: ("a1fc439c292b72657a0bd0a464784c92", "70d4cec7286d2a5ce73501eabba4ffdc"),
    5: ("2bc8cf0da71a900732e2cc647bf4514c", "2cf6f2134b9dac40d1e57a75ed1f4b35"),
    6: ("67ba903b50ba4869ce4d04be578ebc69", "aecebb00ca94af658ea6dd3e2d5a1004"),
    7: ("1a5235bc8cb1ea780f5427b3bb59f089", "f1e78a8a0fd0ed94de4e872a48fe1b28"),
    8: ("e659defa5443771481274b41d7f857ca", "56166f60577ebbac4d195133b54551f0"),
    9: ("86ea0832a682096157fe73003ddf68a7", "69b8ed3da50e03b56c0ad1e44f410731"),
    10: ("0ef5628c13db273e9daae923e03e117d", "f0d77cf3e646b9daa4ec3c2a21a8401d"),
    11: ("c6f9d1123893b567a698b29a3c86a7ec", "037385cbc6f74433d906cb61b5bf0f44"),
    12: ("6385fb8a9e0bd282c38ec82435e8281f", "4b599627b9452558cc9a1875e59dafa9"),
    13: ("e54ff427d64b90e36feb08b3a3dbdc57", "96f6dbbb74b719706d4dfb79546150b8"),
    14: ("5b5be4de2f8edd4351ac1ab9c0beea12", "2f5c0cd4e42f53925be1b677db999cb1"),
    15: ("f7b814a139b1139735ab96b9ac6e3a9a", "135db07bf613444c5c9636aa051fb93d"),
    16: ("69f726fcc30abc3e412483d573f80963", "9ee715176a82862d8fc65440cd1c71d8"),
    17: ("820551ce0c53e61ad3a7ff6185a0cac3", "bb108b8290f963cd361c26f7ef058ec5"),
    18: ("1c32d0545a8cf5a26777041873a2ba55", "a2af390670baf39c72e4052e5c15d083"),
    19: ("42677eed7987c1ded046682743864687", "b317a287f6780b941bb876047418e6ca"),
    20: ("e5114c487cb1cf559a69db30289ea4ab", "3238749cfa9731bcdb0c4d01114385bd"),
}
ARCHIVE = "tasks_1-20_v1-2.tar.gz"
ARCHIVE_URLS = ("https://dl.fbaipublicfiles.com/babi/tasks_1-20_v1-2.tar.gz",
                "http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz",
                "https://s3.amazonaws.com/text-datasets/babi_tasks_1-20_v1-2.tar.gz")
PAD, UNK = "<pad>", "<unk>"
#: Longest line ID accepted: bAbI IDs are small story positions; a 5,000-digit "ID" is
#: damage, and int() would refuse it with a bare ValueError.
_MAX_ID_DIGITS = 9
_ID = re.compile(r"[0-9]{1,%d}" % _MAX_ID_DIGITS, re.ASCII)
#: Padded arrays may hold this many int64 elements per byte of the file (the real
#: files need at most 3.2) before a crafted file is refused: a few long stories with
#: many questions would otherwise ask for questions x longest story x longest sentence.
_ELEMENTS_PER_BYTE = 64
#: Largest task file accepted from the archive (the real ``en/`` files are under 1 MB).
_MAX_FILE_BYTES = 64 << 20


@dataclass(frozen=True)
class BabiQuestion:
    """One question with its context.

    Attributes:
        story: The statements of the story up to the question, in order
            (earlier questions are not statements and are left out).
        question: The question text.
        answer: The answer (a word, or comma-separated words such as ``"n,w"``).
        supporting: Indices into ``story`` of the supporting facts.
        story_index: Which story of the file (0-based) the question belongs to.

    Example:
        >>> q = parse_babi("1 Mary went home.\\n2 Where is Mary?\\thome\\t1\\n")[0][0]
        >>> q.story, q.answer, q.supporting
        (('Mary went home.',), 'home', (0,))
    """

    story: Tuple[str, ...]
    question: str
    answer: str
    supporting: Tuple[int, ...]
    story_index: int


def task_file(task: int, split: str) -> str:
    """Path of a task's file relative to the ``babi`` folder.

    Example:
        >>> task_file(1, "train")
        'en/qa1_single-supporting-fact_train.txt'
    """
    if task not in TASKS:
        raise ValueError(f"bAbI task must be 1..20, got {task!r}")
    if split not in ("train", "test"):
        raise ValueError(f"bAbI split must be 'train' or 'test', got {split!r}")
    return f"en/qa{task}_{TASKS[task]}_{split}.txt"


def parse_babi(text: str, name: PathLike = "<text>") -> Tuple[List[BabiQuestion], int]:
    """Parse a bAbI file's text into questions; also return the number of stories.

    Raises:
        DataError: A malformed line (naming the file and line number): no ID or
            one that is not 1 to 9 ASCII digits, IDs that do not count up from 1
            within a story, an empty statement, a question line without three
            tab-separated fields or with an empty question or answer, or a
            supporting fact that is not an earlier statement of the same story.

    Example:
        >>> questions, stories = parse_babi("1 A is here.\\n2 Where is A?\\there\\t1\\n1 B.\\n")
        >>> len(questions), stories
        (1, 2)
    """
    questions: List[BabiQuestion] = []
    story: List[str] = []
    position: Dict[int, int] = {}  # line ID -> index in `story`
    stories, previous = 0, 0
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        head, _, rest = line.partition(" ")
        # ASCII digits only, and few of them: str.isdigit() accepts '²' and int()
        # refuses more than 4,300 digits, both as bare ValueErrors.
        if not _ID.fullmatch(head):
            raise DataError(f"line {lineno}: expected 'ID text' with an ID of 1 to "
                            f"{_MAX_ID_DIGITS} digits 0-9, got {line[:60]!r}", name)
        line_id = int(head)
        if line_id == 1:
            stories += 1
            story, position = [], {}
        elif line_id != previous + 1:
            raise DataError(f"line {lineno}: line ID {line_id} follows {previous}; IDs must "
                            "count up from 1 within each story", name)
        previous = line_id
        if "\t" not in rest:
            statement = rest.strip()
            if not statement:
                raise DataError(f"line {lineno}: statement {line_id} is empty", name)
            position[line_id] = len(story)
            story.append(statement)
            continue
        fields = rest.split("\t")
        if len(fields) != 3:
            raise DataError(f"line {lineno}: a question line needs question<TAB>answer<TAB>"
                            f"supporting fact IDs, got {len(fields)} field(s)", name)
        question, answer, support = (f.strip() for f in fields)
        if not question or not answer:
            raise DataError(f"line {lineno}: a question line needs a non-empty question and "
                            f"answer, got question {question!r} and answer {answer!r}", name)
        support_ids = []
        for s in support.split():
            if not _ID.fullmatch(s):
                raise DataError(f"line {lineno}: supporting fact IDs must be integers of 1 to "
                                f"{_MAX_ID_DIGITS} digits 0-9, got {support[:60]!r}", name)
            support_ids.append(int(s))
        for s in support_ids:
            if s not in position:
                raise DataError(f"line {lineno}: supporting fact {s} is not an earlier statement "
                                "of this story", name)
        questions.append(BabiQuestion(tuple(story), question, answer,
                                      tuple(position[s] for s in support_ids), stories - 1))
    return questions, stories


def tokenize(sentence: str, lowercase: bool = True) -> List[str]:
    """Words of a sentence, punctuation dropped.

    Example:
        >>> tokenize("Where is Mary? ")
        ['where', 'is', 'mary']
    """
    return re.findall(r"\w+", sentence.lower() if lowercase else sentence)


def find_babi(root: Optional[PathLike] = None, download_missing: bool = False,
              tasks: Sequence[int] = tuple(TASKS), verify: bool = True,
              progress: bool = True) -> Path:
    """The ``babi`` folder holding the files of ``tasks`` (downloading the archive if allowed).

    Example:
        >>> find_babi(tasks=[1]).name  # doctest: +SKIP
        'babi'
    """
    files = [RemoteFile(task_file(t, s), md5=MD5[t][i]) for t in tasks
             for i, s in enumerate(("train", "test"))]
    directory = locate("babi", [f.name for f in files], root)
    if directory is None:
        directory = candidate_dirs("babi", root)[0]
        if not download_missing:
            raise missing_error("bAbI", directory,
                                [f for f in files if not (directory / f.name).is_file()],
                                extra=f"They are the en/ folder of {ARCHIVE} "
                                      f"({', '.join(ARCHIVE_URLS)}).")
        archive = directory / ARCHIVE
        if not archive.is_file():
            download_url(ARCHIVE_URLS, archive, progress=progress)
        everything = [task_file(t, s) for t in TASKS for s in ("train", "test")]
        extract_members(archive, {f"tasks_1-20_v1-2/{n}": directory / n for n in everything},
                        max_size=_MAX_FILE_BYTES)
    if verify:
        for f in files:
            check_file(directory / f.name, md5=f.md5)
    return directory


class BabiTask(Dataset):
    """One bAbI task and split as padded id arrays, ready for a memory network.

    Each sample is a dict:

    * ``"story"``: ``(memory_size, sentence_len)`` word ids of the most recent
      statements (oldest first, zero rows after the last one);
    * ``"story_length"``: number of real statements in ``"story"``;
    * ``"question"``: ``(question_len,)`` word ids;
    * ``"answer"``: the answer's id (answers are single vocabulary tokens, e.g.
      ``"n,w"`` for path finding);
    * ``"supporting"``: ``(max_support,)`` rows of ``"story"`` holding the
      supporting facts, ``-1``-padded (also ``-1`` if the fact fell out of memory).

    Id 0 is padding and id 1 the unknown word. The vocabulary is built from the
    task's training file (pass ``vocab`` to share one); :func:`load_babi` builds
    a matching train/test pair. The parsed records stay in :attr:`questions`.

    Args:
        task: Task number, 1 to 20.
        train: Training split (else test).
        root: Data directory (default: :func:`~ember.data.data_dir`).
        download: Download the archive if files are missing.
        vocab: Vocabulary to use.
        memory_size: Statements kept per story (default: the longest story).
        sentence_len: Words per statement (default: the longest).
        question_len: Words per question (default: the longest).
        lowercase: Lowercase all text.
        verify: Check the files' MD5s.

    Example:
        >>> ds = BabiTask(1)  # doctest: +SKIP
        >>> len(ds), ds.num_stories, ds.questions[0].answer  # doctest: +SKIP
        (1000, 200, 'bathroom')
    """

    def __init__(self, task: int = 1, train: bool = True, root: Optional[PathLike] = None,
                 download: bool = False, vocab: Optional[Vocabulary] = None,
                 memory_size: Optional[int] = None, sentence_len: Optional[int] = None,
                 question_len: Optional[int] = None, lowercase: bool = True,
                 verify: bool = True, progress: bool = True) -> None:
        self.task, self.train, self.lowercase = task, train, lowercase
        self.split = "train" if train else "test"
        directory = find_babi(root, download, [task], verify, progress)
        self.path = directory / task_file(task, self.split)
        self.questions, self.num_stories = parse_babi(read_text(self.path), self.path)
        if not self.questions:
            raise DataError("no questions: not a bAbI task file (or an empty one)", self.path)
        if vocab is None:
            train_path = directory / task_file(task, "train")
            train_questions = self.questions if train else \
                parse_babi(read_text(train_path), train_path)[0]
            vocab = build_vocab(train_questions, lowercase)
        self.vocab = vocab
        self._vectorize(memory_size, sentence_len, question_len)

    def _vectorize(self, memory_size: Optional[int], sentence_len: Optional[int],
                   question_len: Optional[int]) -> None:
        # Stories share most of their sentences (each question repeats its story's
        # prefix), so every distinct sentence is tokenized and encoded once into a
        # table, and the story arrays are one fancy-index into that table.
        table: Dict[str, int] = {}
        encoded: List[np.ndarray] = [np.zeros(0, dtype=np.int64)]  # row 0: padding

        def row(sentence: str) -> int:
            found = table.get(sentence)
            if found is None:
                found = table[sentence] = len(encoded)
                encoded.append(self.vocab.encode(tokenize(sentence, self.lowercase)))
            return found

        refs = [[row(s) for s in q.story] for q in self.questions]
        query_refs = [row(q.question) for q in self.questions]
        memory = memory_size or max(max((len(r) for r in refs), default=1), 1)
        story_rows = {r for rs in refs for r in rs}
        width = sentence_len or max((len(encoded[r]) for r in story_rows), default=1) or 1
        qwidth = question_len or max(len(encoded[r]) for r in query_refs) or 1

        if None in (memory_size, sentence_len, question_len):
            self._check_array_size(len(self.questions), memory, width, qwidth)

        def padded(w: int) -> np.ndarray:
            out = np.zeros((len(encoded), w), dtype=np.int64)
            for i, ids in enumerate(encoded):
                out[i, :min(len(ids), w)] = ids[:w]
            return out

        n = len(self.questions)
        support = max(max((len(q.supporting) for q in self.questions), default=1), 1)
        grid = np.zeros((n, memory), dtype=np.int64)
        self.story_lengths = np.zeros(n, dtype=np.int64)
        self.supporting = np.full((n, support), -1, dtype=np.int64)
        for i, (q, r) in enumerate(zip(self.questions, refs)):
            dropped = max(len(r) - memory, 0)  # keep the most recent statements
            kept = r[dropped:]
            grid[i, :len(kept)] = kept
            self.story_lengths[i] = len(kept)
            self.supporting[i, :len(q.supporting)] = [s - dropped if s >= dropped else -1
                                                      for s in q.supporting]
        self.stories = padded(width)[grid]
        self.queries = padded(qwidth)[np.asarray(query_refs, dtype=np.int64)]
        self.answers = np.array([self.vocab.id(_answer(q.answer, self.lowercase))
                                 for q in self.questions], dtype=np.int64)

    def _check_array_size(self, n: int, memory: int, width: int, qwidth: int) -> None:
        # Sizes derived from the file must stay proportional to it (see _ELEMENTS_PER_BYTE).
        elements = n * (memory * width + qwidth)
        allowed = _ELEMENTS_PER_BYTE * self.path.stat().st_size + (1 << 20)
        if elements > allowed:
            raise DataError(f"padded arrays would hold {elements} elements ({n} questions x "
                            f"{memory} statements x {width} words), more than this file "
                            f"justifies ({allowed}); pass memory_size=, sentence_len= and "
                            "question_len= to bound them", self.path)

    @property
    def memory_size(self) -> int:
        return self.stories.shape[1]

    def __len__(self) -> int:
        return len(self.questions)

    def __getitem__(self, index: int) -> Dict[str, Any]:
        return {"story": self.stories[index], "story_length": self.story_lengths[index],
                "question": self.queries[index], "answer": self.answers[index],
                "supporting": self.supporting[index]}

    def __getitems__(self, indices: Any) -> Dict[str, np.ndarray]:
        idx = np.asarray(indices, dtype=np.intp)
        return {"story": self.stories[idx], "story_length": self.story_lengths[idx],
                "question": self.queries[idx], "answer": self.answers[idx],
                "supporting": self.supporting[idx]}

    def __repr__(self) -> str:
        return (f"BabiTask(task={self.task} {TASKS[self.task]}, split={self.split}, "
                f"questions={len(self)}, stories={self.num_stories}, vocab={len(self.vocab)}, "
                f"story={self.stories.shape[1:]})")


def _answer(answer: str, lowercase: bool) -> str:
    return answer.lower() if lowercase else answer


def build_vocab(questions: Sequence[BabiQuestion], lowercase: bool = True) -> Vocabulary:
    """Vocabulary of the words of stories, questions and answers; ``<pad>`` = 0, ``<unk>`` = 1.

    Example:
        >>> v = build_vocab(parse_babi("1 Mary went home.\\n2 Where is Mary?\\thome\\t1\\n")[0])
        >>> v.tokens[:3]
        ['<pad>', '<unk>', 'mary']
    """
    def words():
        seen_stories = set()
        for q in questions:
            # Consecutive questions share their story prefix; count each story once.
            key = (q.story_index, len(q.story))
            if key not in seen_stories:
                seen_stories.add(key)
                for s in q.story:
                    yield from tokenize(s, lowercase)
            yield from tokenize(q.question, lowercase)
            yield _answer(q.answer, lowercase)
    return Vocabulary.build(words(), specials=[PAD, UNK], unk=UNK)


def load_babi(task: int = 1, root: Optional[PathLike] = None, download: bool = False,
              memory_size: Optional[int] = None, **kwargs) -> Tuple[BabiTask, BabiTask]:
    """Train and test :class:`BabiTask` of one task, sharing vocabulary and array shapes.

    Example:
        >>> train, test = load_babi(1)  # doctest: +SKIP
        >>> train.vocab is test.vocab  # doctest: +SKIP
        True
        >>> train.stories.shape[1:] == test.stories.shape[1:]  # doctest: +SKIP
        True
    """
    train = BabiTask(task, True, root, download, memory_size=memory_size, **kwargs)
    probe = BabiTask(task, False, root, download, vocab=train.vocab, memory_size=memory_size,
                     **kwargs)
    # Size both splits to the larger of the two so batches from either fit one model.
    shape = np.maximum(train.stories.shape[1:], probe.stories.shape[1:])
    qlen = max(train.queries.shape[1], probe.queries.shape[1])
    sizes = dict(memory_size=int(shape[0]), sentence_len=int(shape[1]), question_len=qlen)
    if (train.stories.shape[1:], train.queries.shape[1]) != (tuple(shape), qlen):
        train._vectorize(**sizes)
    if (probe.stories.shape[1:], probe.queries.shape[1]) != (tuple(shape), qlen):
        probe._vectorize(**sizes)
    return train, probe
