"""The model zoo: the lectures' supervised models, ready to train (see MODELS.md)."""
from .autoencoder import DenoisingAutoencoder, StackedDenoisingAutoencoder
from .char_rnn import CharRNN
from .cifar_convnet import CifarConvNet, cifar_augmentation
from .digit_strings import DigitStringNet, DigitStrings, collate_digit_strings
from .classify import ClassifierConfig, random_shift, train_classifier
from .gpt import TinyGPT
from .language import LMTrainingConfig, evaluate_language_model, train_language_model
from .lenet import LeNet5
from .memn2n import MemN2N
from .mlp import MLP
from .rbm import RBM, ContrastiveDivergence
from .sampling import generate, sample, sample_next
from .stack_rnn import StackRNN
from .skipgram import SkipGram, SkipGramConfig, nearest_neighbours, train_skipgram
from .vae import VAE
from .word_lm import ZAREMBA_CONFIGS, WordLM, WordLMConfig, evaluate_word_lm, train_word_lm

__all__ = [
           "MLP",
           "VAE",
           "MemN2N",
           "StackRNN",
           "SkipGram",
           "SkipGramConfig",
           "nearest_neighbours",
           "train_skipgram",
           "WordLM",
           "WordLMConfig",
           "ZAREMBA_CONFIGS",
           "evaluate_word_lm",
           "train_word_lm",
           "RBM",
           "ContrastiveDivergence",
           "DenoisingAutoencoder",
           "StackedDenoisingAutoencoder",
           "CharRNN",
           "CifarConvNet",
           "ClassifierConfig",
           "DigitStringNet",
           "DigitStrings",
           "collate_digit_strings",
           "LMTrainingConfig",
           "LeNet5",
           "TinyGPT",
           "cifar_augmentation",
           "evaluate_language_model",
           "generate",
           "random_shift",
           "sample",
           "sample_next",
           "train_classifier",
           "train_language_model",
]
from . import recipes as _recipes  # noqa: F401 - registers the `ember train` recipes
from . import generative_recipes as _generative_recipes  # noqa: F401 - registers `ember train vae`
