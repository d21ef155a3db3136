"""Standard datasets in their original distribution formats.

* :class:`MNIST`, :class:`FashionMNIST` (IDX ``.gz``), :func:`load_mnist`,
  :func:`load_fashion_mnist`, :func:`mnist_sample` (the test set shipped in the package),
  :func:`mnist_or_sample` (MNIST, or a fixed split of the sample when offline);
* :class:`CIFAR10`, :class:`CIFAR100` (binary version), :func:`load_cifar10`, :func:`load_cifar100`;
* :class:`CharCorpus`, :class:`WordCorpus`, :class:`Vocabulary`, :func:`tiny_shakespeare`;
* :class:`BabiTask`, :func:`load_babi`, :func:`parse_babi`;
* word-level corpora :func:`penn_treebank`, :func:`wikitext2`; translation pairs :func:`multi30k`,
  :func:`tatoeba_fra_eng` with padding and bucketing; word-similarity and analogy test sets
  :func:`wordsim353`, :func:`simlex999`, :func:`google_analogy` with :func:`spearman` (docs/language.md).

Example:
    >>> from ember.data.datasets import mnist_sample
    >>> len(mnist_sample())
    10000
"""

from .babi import BabiQuestion, BabiTask, load_babi, parse_babi
from .cifar import CIFAR10, CIFAR100, load_cifar10, load_cifar100, parse_cifar
from .idx import parse_idx, read_idx
from .mnist import (MNIST, FashionMNIST, load_fashion_mnist, load_mnist, mnist_or_sample,
                    mnist_sample, sample_dir)
from .text import CharCorpus, SequenceWindows, TextCorpus, WordCorpus, tiny_shakespeare
from .vocab import Vocabulary
from .corpora import (WordLevelCorpus, bptt_batches, build_word_vocab, encode_tokens,
                      penn_treebank, read_corpus_file, tokenize_lines, wikitext2)
from .translation import (TranslationBatch, TranslationPairs, bucket_batches,
                          build_translation_vocab, multi30k, pad_sequences, parse_tab_pairs,
                          simple_tokenize, tatoeba_fra_eng)
from .word_similarity import (AnalogyQuestions, WordPairs, average_ranks, evaluate_analogy,
                              evaluate_similarity, google_analogy, simlex999, spearman, wordsim353)

__all__ = [
    "MNIST", "FashionMNIST", "load_mnist", "load_fashion_mnist", "mnist_sample", "sample_dir",
    "mnist_or_sample",
    "CIFAR10", "CIFAR100", "load_cifar10", "load_cifar100", "parse_cifar",
    "read_idx", "parse_idx",
    "Vocabulary", "TextCorpus", "CharCorpus", "WordCorpus", "SequenceWindows", "tiny_shakespeare",
    "BabiQuestion", "BabiTask", "load_babi", "parse_babi",
    "WordLevelCorpus", "bptt_batches", "build_word_vocab", "encode_tokens", "penn_treebank", "read_corpus_file",
    "tokenize_lines", "wikitext2",
    "TranslationBatch", "TranslationPairs", "bucket_batches", "build_translation_vocab", "multi30k",
    "pad_sequences", "parse_tab_pairs", "simple_tokenize", "tatoeba_fra_eng",
    "AnalogyQuestions", "WordPairs", "average_ranks", "evaluate_analogy", "evaluate_similarity",
    "google_analogy", "simlex999", "spearman", "wordsim353",
]
