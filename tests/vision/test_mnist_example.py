"""The data pipeline of pytorch/examples' MNIST program, with only its imports changed."""
import numpy as np
import torch

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms


def _example_loader():
    # pytorch/examples mnist/main.py, verbatim but for `torch` -> `ember` imports
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,))
    ])
    dataset1 = datasets.MNIST('../data', train=True, download=True, transform=transform)
    train_kwargs = {'batch_size': 64}
    cuda_kwargs = {'num_workers': 1, 'pin_memory': True, 'shuffle': True}
    train_kwargs.update(cuda_kwargs)
    return dataset1, DataLoader(dataset1, **train_kwargs)


class TorchVisionMNIST(torch.utils.data.Dataset):
    """What torchvision's MNIST + ToTensor + Normalize compute, on the same NumPy arrays."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = torch.from_numpy(self.images[i][:, :, None].transpose((2, 0, 1))).contiguous().float().div(255)
        img = img.sub_(torch.as_tensor((0.1307,)).view(-1, 1, 1)).div_(torch.as_tensor((0.3081,)).view(-1, 1, 1))
        return img, int(self.labels[i])


def test_first_batch_matches_torch(tmp_path, monkeypatch):
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")  # '../data' does not exist: the files come from EMBER_DATA
    ember.manual_seed(1)
    dataset, loader = _example_loader()
    data, target = next(iter(loader))
    assert isinstance(data, ember.Tensor) and isinstance(target, ember.Tensor)
    assert data.shape == (64, 1, 28, 28) and str(data.dtype) == "float32"
    assert target.shape == (64,) and str(target.dtype) == "int64"
    assert len(loader) == 938

    # Which samples did the shuffle pick? Find each image among the raw ones.
    images, labels = dataset.data.numpy(), dataset.targets.numpy()
    raw = np.round((data.numpy()[:, 0] * 0.3081 + 0.1307) * 255).astype(np.uint8)
    where = {images[i].tobytes(): i for i in range(len(images))}
    order = [where[r.tobytes()] for r in raw]
    assert order != list(range(64))

    reference = torch.utils.data.DataLoader(TorchVisionMNIST(images, labels), batch_size=64, sampler=order)
    ref_data, ref_target = next(iter(reference))
    np.testing.assert_array_equal(data.numpy(), ref_data.numpy())
    np.testing.assert_array_equal(target.numpy(), ref_target.numpy())


def test_shuffle_follows_manual_seed(tmp_path, monkeypatch):
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")
    firsts = []
    for _ in range(2):
        ember.manual_seed(3)
        _, loader = _example_loader()
        firsts.append(next(iter(loader))[1].tolist())
    assert firsts[0] == firsts[1]
