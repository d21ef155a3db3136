"""Every scheduler of ember.optim.lr_scheduler against torch.optim.lr_scheduler, step by step.

Each test builds the same scheduler over equivalent two-group optimizers and compares the
learning rates (and momenta where the schedule cycles them) after every step within 1e-9.
"""
import pytest
from optim.oracle import assert_same_lrs

from ember.optim import lr_scheduler as L


def test_module_has_pytorchs_names(torch):
    for name in ["LRScheduler", "_LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR",
                 "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
                 "CosineAnnealingWarmRestarts", "ReduceLROnPlateau", "OneCycleLR", "CyclicLR", "SequentialLR",
                 "ChainedScheduler"]:
        assert hasattr(torch.optim.lr_scheduler, name) and hasattr(L, name), name


def test_old_module_name_is_the_same_classes():
    from ember.optim import schedule
    assert schedule.StepLR is L.StepLR and schedule.CosineAnnealingLR is L.CosineAnnealingLR


@pytest.mark.parametrize("name, args", [
    ("StepLR", (3, 0.5)),
    ("MultiStepLR", ([2, 5, 5, 9], 0.3)),
    ("ConstantLR", (0.25, 4)),
    ("LinearLR", (0.2, 0.9, 6)),
    ("ExponentialLR", (0.9,)),
    ("PolynomialLR", (8, 2.0)),
    ("CosineAnnealingLR", (7, 0.001)),
    ("CosineAnnealingWarmRestarts", (3, 2, 0.001)),
    ("CosineAnnealingWarmRestarts", (4, 1)),
])
def test_closed_and_recursive_schedules(torch, name, args):
    assert_same_lrs(torch, lambda o: getattr(L, name)(o, *args),
                    lambda o: getattr(torch.optim.lr_scheduler, name)(o, *args), steps=40)


def test_lambda_and_multiplicative(torch):
    fns = [lambda t: 0.95 ** t, lambda t: 1 / (1 + t)]
    assert_same_lrs(torch, lambda o: L.LambdaLR(o, fns), lambda o: torch.optim.lr_scheduler.LambdaLR(o, fns))
    assert_same_lrs(torch, lambda o: L.MultiplicativeLR(o, lambda t: 0.9 if t % 2 else 1.0),
                    lambda o: torch.optim.lr_scheduler.MultiplicativeLR(o, lambda t: 0.9 if t % 2 else 1.0))


@pytest.mark.parametrize("kwargs", [
    dict(base_lr=0.01, max_lr=0.1, step_size_up=4),
    dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2"),
    dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.95),
])
def test_cyclic_lr_with_momentum(torch, kwargs):
    assert_same_lrs(torch, lambda o: L.CyclicLR(o, **kwargs), lambda o: torch.optim.lr_scheduler.CyclicLR(o, **kwargs),
                    keys=("lr", "momentum"), momentum=0.9)


def test_cyclic_lr_cycles_adams_beta1(torch):
    kwargs = dict(base_lr=0.001, max_lr=0.01, step_size_up=5)
    assert_same_lrs(torch, lambda o: L.CyclicLR(o, **kwargs), lambda o: torch.optim.lr_scheduler.CyclicLR(o, **kwargs),
                    optimizer="Adam", keys=("lr", "betas"))


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle(torch, three_phase):
    kwargs = dict(max_lr=[1.0, 0.5], total_steps=30, three_phase=three_phase)
    assert_same_lrs(torch, lambda o: L.OneCycleLR(o, **kwargs),
                    lambda o: torch.optim.lr_scheduler.OneCycleLR(o, **kwargs), keys=("lr", "momentum"),
                    momentum=0.9, steps=30)


def test_sequential_warmup_then_cosine(torch):
    t = torch.optim.lr_scheduler

    def ours(o):
        return L.SequentialLR(o, [L.LinearLR(o, 0.01, total_iters=5), L.CosineAnnealingLR(o, 20, 1e-4)],
                              milestones=[5])

    def theirs(o):
        return t.SequentialLR(o, [t.LinearLR(o, 0.01, total_iters=5), t.CosineAnnealingLR(o, 20, 1e-4)],
                              milestones=[5])

    seq = assert_same_lrs(torch, ours, theirs, steps=30)
    assert seq[0][0][0] == pytest.approx(0.1 * 0.01) and seq[5][0][0] == pytest.approx(0.1)


def test_sequential_three_phases(torch):
    t = torch.optim.lr_scheduler

    def ours(o):
        return L.SequentialLR(o, [L.ConstantLR(o, 0.5, 3), L.StepLR(o, 4, 0.5), L.ExponentialLR(o, 0.9)],
                              milestones=[3, 12])

    def theirs(o):
        return t.SequentialLR(o, [t.ConstantLR(o, 0.5, 3), t.StepLR(o, 4, 0.5), t.ExponentialLR(o, 0.9)],
                              milestones=[3, 12])

    assert_same_lrs(torch, ours, theirs, steps=25)


def test_chained_schedulers_compose(torch):
    t = torch.optim.lr_scheduler

    def ours(o):
        return L.ChainedScheduler([L.ConstantLR(o, 0.1, 4), L.ExponentialLR(o, 0.9), L.CosineAnnealingLR(o, 10)])

    def theirs(o):
        return t.ChainedScheduler([t.ConstantLR(o, 0.1, 4), t.ExponentialLR(o, 0.9), t.CosineAnnealingLR(o, 10)])

    assert_same_lrs(torch, ours, theirs, steps=25)


def test_two_schedulers_stepping_one_optimizer(torch):
    # Without a ChainedScheduler, stepping both multiplies their effects, as in PyTorch.
    class Both:
        def __init__(self, a, b):
            self.a, self.b, self.optimizer = a, b, a.optimizer

        def step(self):
            self.a.step()
            self.b.step()

        def get_last_lr(self):
            return self.b.get_last_lr()

    t = torch.optim.lr_scheduler
    assert_same_lrs(torch, lambda o: Both(L.StepLR(o, 3, 0.5), L.MultiStepLR(o, [4, 8], 0.1)),
                    lambda o: Both(t.StepLR(o, 3, 0.5), t.MultiStepLR(o, [4, 8], 0.1)))


def test_step_with_epoch_uses_the_closed_form(torch):
    from ember import optim
    import ember

    def jump(make_opt, tensor, lrs):
        opt = make_opt([tensor()], lr=1.0)
        sched = lrs.StepLR(opt, 3, 0.5)
        opt.step()
        with pytest.warns(UserWarning, match="deprecated"):
            sched.step(7)
        return sched.get_last_lr()

    assert jump(optim.SGD, lambda: ember.zeros(1, requires_grad=True), L) == \
        jump(torch.optim.SGD, lambda: torch.zeros(1, requires_grad=True), torch.optim.lr_scheduler) == [0.25]


def test_warm_restarts_fractional_epochs(torch):
    from ember import optim
    import ember

    def run(make_opt, tensor, lrs):
        opt = make_opt([tensor()], lr=1.0)
        sched = lrs.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
        seen = []
        for epoch in [0.5, 1.25, 3.0, 4.5, 9.0, 10.2]:
            sched.step(epoch)
            seen.append(sched.get_last_lr()[0])
        return seen

    ours = run(optim.SGD, lambda: ember.zeros(1, requires_grad=True), L)
    theirs = run(torch.optim.SGD, lambda: torch.zeros(1, requires_grad=True), torch.optim.lr_scheduler)
    assert ours == pytest.approx(theirs, rel=1e-12)
