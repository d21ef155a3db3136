"""Train the lectures' MLP 784-1000-10 (ReLU) on MNIST with SGD + momentum; prints the test error.

    python examples/train_mlp.py | tee examples/logs/mlp.log
"""
from _classifier import run

from ember.models import MLP
from ember.models.classify import ClassifierConfig


def build(args, input_shape, classes):
    size = 1
    for side in input_shape:
        size *= side
    return MLP(size, (args.hidden,), classes, dropout=args.dropout)


if __name__ == "__main__":
    run("mlp", build, ClassifierConfig(epochs=12, batch_size=128, optimizer="sgd", lr=0.05, momentum=0.9),
        ("mnist", "fashion-mnist"),
        extra_args=[(("--hidden",), {"type": int, "default": 1000}),
                    (("--dropout",), {"type": float, "default": 0.0})])
