"""Train the Keras CIFAR-10 example convnet (RMSprop, batch 32; ``--shift 3 --flip true`` for Keras' augmentation).

    python examples/train_cifar_convnet.py --epochs 50 | tee examples/logs/cifar_convnet.log   # needs CIFAR-10
    python examples/train_cifar_convnet.py --synthetic /tmp/fake-cifar --epochs 3 \
        | tee examples/logs/cifar_convnet_synthetic.log   # pipeline check on a synthetic CIFAR-format file

CIFAR-10 (``cifar-10-binary.tar.gz`` or ``cifar-10-batches-bin/`` in ``$EMBER_DATA/cifar10``) is not stored
on the project's machines; ``--synthetic DIR`` writes a small look-alike in the same binary format into DIR
and trains on that instead (the number it prints says nothing about CIFAR-10).
"""
import os

from _classifier import run

from ember.models import CifarConvNet
from ember.models.cifar_convnet import write_synthetic_cifar10
from ember.models.classify import ClassifierConfig
from ember.train.recipes import load_dataset


def build(args, input_shape, classes):
    return CifarConvNet(input_shape[0], classes, input_shape[-1])


def data(args):
    if args.synthetic:
        write_synthetic_cifar10(args.synthetic, train_per_batch=args.synthetic_size // 5, test=500)
        os.environ["EMBER_DATA"] = args.synthetic
    return load_dataset("cifar10", True), load_dataset("cifar10", False)


if __name__ == "__main__":
    # Keras: RMSprop(lr=1e-4, decay=1e-6), batch 32, 50 epochs (about 79% test accuracy with augmentation).
    run("cifar_convnet", build, ClassifierConfig(epochs=50, batch_size=32, optimizer="rmsprop", lr=1e-4,
                                                 final_lr_fraction=1.0),
        ("cifar10",), data=data,
        extra_args=[(("--synthetic",), {"metavar": "DIR", "help": "train on a synthetic CIFAR-format file"}),
                    (("--synthetic-size",), {"type": int, "default": 2000})])
