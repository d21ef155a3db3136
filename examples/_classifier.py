"""The command line shared by the image-classifier examples (train_mlp.py, train_lenet.py, train_cifar_convnet.py).

Each prints one line per epoch, the test error, and finally ``RESULT {...}`` (JSON),
which ``examples/render_models_md.py`` copies into MODELS.md.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict, fields

from _report import save_and_report

import ember
from ember.models.classify import ClassifierConfig, train_classifier
from ember.train.recipes import load_dataset


def run(name: str, build, defaults: ClassifierConfig, datasets: tuple, argv=None, extra_args=(), data=None):
    """Parse the command line, build the model with ``build(args, input_shape, classes)``, train, report."""
    parser = argparse.ArgumentParser(description=f"Train {name} and print its test error.")
    parser.add_argument("--dataset", default=datasets[0], choices=datasets)
    for f in fields(ClassifierConfig):
        kind = (lambda s: s.lower() in ("1", "true", "yes")) if f.type in (bool, "bool") else type(f.default)
        parser.add_argument("--" + f.name.replace("_", "-"), type=kind, default=getattr(defaults, f.name))
    parser.add_argument("--max-samples", type=int, help="train and test on at most this many samples")
    parser.add_argument("--out", help="save the weights here (model.safetensors)")
    for flags, options in extra_args:
        parser.add_argument(*flags, **options)
    args = parser.parse_args(argv)
    config = ClassifierConfig(**{f.name: getattr(args, f.name) for f in fields(ClassifierConfig)})

    ember.manual_seed(config.seed)
    (x, y), (x_test, y_test) = data(args) if data else (load_dataset(args.dataset, True),
                                                           load_dataset(args.dataset, False))
    if args.max_samples:
        x, y, x_test, y_test = x[:args.max_samples], y[:args.max_samples], x_test[:args.max_samples], \
            y_test[:args.max_samples]
    model = build(args, x.shape[1:], int(max(y.max(), y_test.max())) + 1)
    print(f"{name} on {args.dataset}: {len(x)} training and {len(x_test)} test images\n{model}\n{config}",
          flush=True)
    started = time.time()
    result = train_classifier(model, x, y, x_test, y_test, config, log=lambda s: print(s, flush=True))
    recorded = {**asdict(config), **{k: v for k, v in vars(args).items() if k not in asdict(config)}}
    return save_and_report(model, result, args.out, started, model=name, dataset=args.dataset, config=recorded)
