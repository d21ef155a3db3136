"""DCGAN: forward passes and one full training step against PyTorch, the paper's initialisation, seeded
reproducibility, shape errors, and a reduced training on the shipped MNIST sample."""
import numpy as np
import pytest

import ember
from ember.data import mnist_sample
from ember.errors import ShapeError
from ember.models.dcgan import (Discriminator, Generator, gan_optimizers, interpolate_latents, to_tanh_range,
                                train_gan_epoch, train_gan_step)


def _gen(seed=0):
    return ember.Generator().manual_seed(seed)


def _nets(width=8, latent=16, seed=0):
    ember.manual_seed(seed)
    return Generator(latent, width), Discriminator(width)


def _torch_nets(torch, width, latent):
    """The same two networks in PyTorch, with the same attribute names (so the state dicts line up)."""
    nn, F = torch.nn, torch.nn.functional

    class TorchGenerator(nn.Module):
        def __init__(self):
            super().__init__()
            self.project = nn.Linear(latent, 2 * width * 49, bias=False)
            self.bn0 = nn.BatchNorm2d(2 * width)
            self.up1 = nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.up2 = nn.ConvTranspose2d(width, 1, 4, 2, 1)

        def forward(self, z):
            h = F.relu(self.bn0(self.project(z).reshape(-1, 2 * width, 7, 7)))
            return torch.tanh(self.up2(F.relu(self.bn1(self.up1(h)))))

    class TorchDiscriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.down1 = nn.Conv2d(1, width, 4, 2, 1)
            self.down2 = nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(2 * width)
            self.classify = nn.Linear(2 * width * 49, 1)

        def forward(self, x):
            h = F.leaky_relu(self.down1(x), 0.2)
            h = F.leaky_relu(self.bn2(self.down2(h)), 0.2)
            return self.classify(h.flatten(1)).squeeze(1)

    return TorchGenerator().double(), TorchDiscriminator().double()


def _copy_into(torch, ours, theirs):
    state = {k: torch.tensor(np.array(v.numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict({k: v.to(theirs.state_dict()[k].dtype) for k, v in state.items()})


def test_shapes_range_and_parameter_count():
    G, D = _nets(width=8, latent=16)
    images = G(ember.randn(5, 16, generator=_gen()))
    assert images.shape == (5, 1, 28, 28)
    assert float(images.abs().max().item()) <= 1.0
    assert D(images).shape == (5,)
    assert sum(p.numel() for p in G.parameters()) == 16 * 16 * 49 + 2 * 16 + 16 * 8 * 16 + 2 * 8 + 8 * 16 + 1
    assert sum(p.numel() for p in D.parameters()) == 16 * 8 + 8 + 8 * 16 * 16 + 2 * 16 + 16 * 49 + 1


def test_initialisation_follows_the_paper():
    G, D = _nets(width=32, latent=100)
    for weight in (G.project.weight, G.up1.weight, D.down2.weight, D.classify.weight):
        values = weight.numpy()
        assert abs(values.mean()) < 2e-3 and abs(values.std() - 0.02) < 1.5e-3
    scales = G.bn0.weight.numpy()
    assert abs(scales.mean() - 1.0) < 0.01 and 0.01 < scales.std() < 0.03
    assert not G.bn0.bias.numpy().any() and not D.down1.bias.numpy().any()


def test_forward_passes_match_pytorch_in_train_and_eval_mode():
    torch = pytest.importorskip("torch")
    G, D = _nets(width=4, latent=8)
    G.to(ember.float64), D.to(ember.float64)
    tG, tD = _torch_nets(torch, 4, 8)
    _copy_into(torch, G, tG), _copy_into(torch, D, tD)
    z = np.random.default_rng(0).standard_normal((6, 8))
    for mode in ("train", "eval"):
        for net in (G, D, tG, tD):
            getattr(net, mode)()
        ours = G(ember.tensor(z))
        theirs = tG(torch.tensor(z))
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(D(ours).numpy(), tD(theirs).detach().numpy(), rtol=1e-9, atol=1e-12)


def test_a_training_step_matches_pytorch():
    """Two alternating steps (losses and every parameter after them) equal the PyTorch DCGAN example's step."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    G, D = _nets(width=4, latent=8, seed=1)
    G.to(ember.float64), D.to(ember.float64)
    tG, tD = _torch_nets(torch, 4, 8)
    _copy_into(torch, G, tG), _copy_into(torch, D, tD)
    opt_g, opt_d = gan_optimizers(G, D)
    t_opt_g = torch.optim.Adam(tG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    t_opt_d = torch.optim.Adam(tD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = np.random.default_rng(2).uniform(-1, 1, (2, 6, 1, 28, 28))
    for step in range(2):
        z = ember.randn(6, 8, generator=_gen(10 + step), dtype=ember.float64).numpy()  # the z the step draws
        ours = train_gan_step(G, D, opt_g, opt_d, ember.tensor(real[step]), _gen(10 + step))
        x, fake = torch.tensor(real[step]), tG(torch.tensor(z))
        loss_d = (F.binary_cross_entropy_with_logits(tD(x), torch.ones(6, dtype=torch.float64))
                  + F.binary_cross_entropy_with_logits(tD(fake.detach()), torch.zeros(6, dtype=torch.float64)))
        t_opt_d.zero_grad(), loss_d.backward(), t_opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(tD(fake), torch.ones(6, dtype=torch.float64))
        t_opt_g.zero_grad(), loss_g.backward(), t_opt_g.step()
        assert ours["loss_d"] == pytest.approx(loss_d.item(), rel=1e-9)
        assert ours["loss_g"] == pytest.approx(loss_g.item(), rel=1e-9)
    for net, tnet in ((G, tG), (D, tD)):
        theirs = tnet.state_dict()
        for name, value in net.state_dict().items():
            np.testing.assert_allclose(value.numpy(), theirs[name].numpy(), rtol=1e-7, atol=1e-10, err_msg=name)


def test_a_step_changes_both_networks_and_is_reproducible_from_a_seed():
    def run(seed):
        G, D = _nets(width=4, latent=8, seed=seed)
        opt_g, opt_d = gan_optimizers(G, D)
        real = to_tanh_range(ember.rand(8, 1, 28, 28, generator=_gen(seed)))
        before = [p.numpy().copy() for p in (*G.parameters(), *D.parameters())]
        losses = train_gan_step(G, D, opt_g, opt_d, real, _gen(seed))
        after = [p.numpy().copy() for p in (*G.parameters(), *D.parameters())]
        return before, after, losses

    before, after, losses = run(3)
    assert all(not np.array_equal(b, a) for b, a in zip(before, after))  # every parameter moved
    again = run(3)
    assert losses == again[2] and all(np.array_equal(a, b) for a, b in zip(after, again[1]))
    assert run(4)[2] != losses


def test_shape_errors_name_the_model_and_the_shape():
    G, D = _nets(width=4, latent=8)
    with pytest.raises(ShapeError, match=r"Generator: expected latents of shape \(N, 8\), got shape \(3, 9\)"):
        G(ember.zeros(3, 9))
    with pytest.raises(ShapeError, match=r"Discriminator: .*\(N, 1, 28, 28\), got shape \(2, 1, 32, 32\)"):
        D(ember.zeros(2, 1, 32, 32))
    with pytest.raises(ShapeError, match=r"Discriminator: .*got shape \(2, 784\)"):
        D(ember.zeros(2, 784))
    opt_g, opt_d = gan_optimizers(G, D)
    with pytest.raises(ShapeError, match=r"train_gan_epoch: .*got shape \(10, 28, 28\)"):
        train_gan_epoch(G, D, opt_g, opt_d, ember.zeros(10, 28, 28), 4)
    with pytest.raises(ShapeError, match="train_gan_epoch: 3 images are fewer than one batch of 4"):
        train_gan_epoch(G, D, opt_g, opt_d, ember.zeros(3, 1, 28, 28), 4)
    with pytest.raises(ShapeError, match=r"interpolate_latents: .*\(2, 8\) and \(3, 8\)"):
        interpolate_latents(ember.zeros(2, 8), ember.zeros(3, 8), 5)


def test_interpolation_runs_along_straight_lines():
    start, end = ember.randn(3, 4, generator=_gen(0)), ember.randn(3, 4, generator=_gen(1))
    path = interpolate_latents(start, end, 5).numpy().reshape(3, 5, 4)
    np.testing.assert_allclose(path[:, 0], start.numpy(), atol=1e-7)
    np.testing.assert_allclose(path[:, -1], end.numpy(), atol=1e-7)
    np.testing.assert_allclose(path[:, 2], (start.numpy() + end.numpy()) / 2, atol=1e-6)


def test_reduced_training_on_mnist_moves_samples_towards_the_data():
    """150 steps on the shipped MNIST sample: the 7x7-pooled samples' Frechet distance to real digits falls."""
    from ember.models.sample_quality import frechet_distance_of_features

    images = (mnist_sample().data[:4800].astype(np.float32) / 255.0)[:, None]
    real = to_tanh_range(ember.tensor(images))
    G, D = _nets(width=16, latent=32)
    opt_g, opt_d = gan_optimizers(G, D)

    def pooled_distance():
        G.eval()
        samples = G.sample(500, _gen(99)).numpy().reshape(500, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(500, 49)
        data = real.numpy()[:500].reshape(500, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(500, 49)
        return frechet_distance_of_features(samples, data)

    initial = pooled_distance()
    stats = train_gan_epoch(G, D, opt_g, opt_d, real, 32, _gen(0), max_steps=150)
    assert stats["steps"] == 150
    assert pooled_distance() < 0.5 * initial
