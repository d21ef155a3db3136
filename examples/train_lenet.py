"""Train LeNet-5 on MNIST (or Fashion-MNIST) with Adam, cosine decay and random 2-pixel shifts.

    python examples/train_lenet.py | tee examples/logs/lenet.log
    python examples/train_lenet.py --dataset fashion-mnist | tee examples/logs/lenet_fashion.log
    python examples/train_lenet.py --variant torch7 --activation tanh   # the lectures' Torch7 listing
"""
from _classifier import run

from ember.models import LeNet5
from ember.models.classify import ClassifierConfig


def build(args, input_shape, classes):
    return LeNet5(input_shape[0], classes, input_shape[-1], activation=args.activation, variant=args.variant)


if __name__ == "__main__":
    run("lenet", build, ClassifierConfig(epochs=10, batch_size=64, optimizer="adam", lr=2e-3, shift=2),
        ("mnist", "fashion-mnist"),
        extra_args=[(("--variant",), {"default": "classic", "choices": ["classic", "torch7"]}),
                    (("--activation",), {"default": "relu", "choices": ["relu", "tanh"]})])
