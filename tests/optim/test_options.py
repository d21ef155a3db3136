"""Option rules: one error format for every optimizer and scheduler."""
import numpy as np
import pytest

from ember.optim.options import BETAS, FLAG, NONNEGATIVE, POSITIVE_INT, check_known


def test_rule_accepts_numpy_scalars():
    NONNEGATIVE.check("SGD", "lr", np.float32(0.1))
    FLAG.check("SGD", "nesterov", np.bool_(True))
    BETAS.check("Adam", "betas", [0.5, 0.9])


@pytest.mark.parametrize("rule, value, error", [
    (NONNEGATIVE, True, TypeError), (NONNEGATIVE, float("inf"), TypeError), (NONNEGATIVE, -1e-9, ValueError),
    (POSITIVE_INT, 2.0, TypeError), (POSITIVE_INT, 0, ValueError), (BETAS, (0.9, 0.99, 0.5), TypeError),
])
def test_rule_rejects(rule, value, error):
    with pytest.raises(error, match="Opt: "):
        rule.check("Opt", "x", value)


def test_check_known_suggests_the_closest_name():
    with pytest.raises(ValueError, match=r"SGD: unknown option 'moment' in param group 2; did you mean 'momentum'\? "
                                         r"\(known options: lr, momentum\)"):
        check_known("SGD", ["lr", "moment"], ["lr", "momentum"], " in param group 2")
    check_known("SGD", ["lr"], ["lr", "momentum"])
