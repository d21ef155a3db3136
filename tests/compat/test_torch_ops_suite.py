"""The tinygrad-format op harness and the import rewriter, on inputs written for these tests."""
from __future__ import annotations

import json
import pathlib
import sys
import textwrap

import pytest

pytest.importorskip("torch")
# benchmarks/ is not an installed package: make the repository root importable under plain `pytest`.
_ROOT = str(pathlib.Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks.compat import torch_ops_suite as suite  # noqa: E402
from benchmarks.compat.run_programs import compare_losses, rewrite_imports  # noqa: E402

# A test file in the format of tinygrad's test/backend/test_ops.py. Lambdas that must behave
# differently across the two worlds look at torch.__name__ ("torch" or "ember").
TEST_FILE = textwrap.dedent('''
    import unittest
    import numpy as np
    import torch
    from tinygrad import Tensor, dtypes
    from tinygrad.helpers import getenv

    def helper_test_op(shps, torch_fxn, tinygrad_fxn=None, atol=1e-6, rtol=1e-3, grad_atol=1e-4,
                       grad_rtol=1e-3, forward_only=False, vals=None, low=-2, high=2):
      raise AssertionError("replaced by the harness")

    class TestOps(unittest.TestCase):
      def helper_test_exception(self, shps, torch_fxn, tinygrad_fxn=None, expected=None,
                                forward_only=False, exact=False, vals=None, low=-1.5, high=1.5):
        raise AssertionError("replaced by the harness")

      def test_passes(self):
        helper_test_op([(3, 4)], lambda x: x * 2 + 1, lambda x: x * 2 + 1)
        helper_test_op([(3, 4), (3, 4)], lambda x, y: x * y, Tensor.mul)
        helper_test_op(None, lambda x: x + 1, vals=[[1, 2, 3]], forward_only=True)
        t = Tensor.ones(3)
        assert len(t) == 3  # a tinygrad assertion: removed by the harness

      def test_loop(self):
        for k in (1.0, 2.0, 3.0):
          helper_test_op([(5,)], lambda x: x * k)

      def test_wrong_value(self):
        helper_test_op([(2, 2)], lambda x: x * (2 if torch.__name__ == "torch" else 3))

      def test_wrong_gradient(self):
        helper_test_op([(4,)], lambda x: x * 2 if torch.__name__ == "torch" else x * 2 + (x * 0).detach())
        helper_test_op([(4,)], lambda x: x * 2 if torch.__name__ == "torch" else x.detach() * 2 + x * 0)

      def test_wrong_dtype(self):
        helper_test_op([], lambda: torch.tensor(np.arange(3, dtype=np.int32 if torch.__name__ == "torch" else np.int64)),
                       forward_only=True)

      def test_error(self):
        helper_test_op([(3,)], lambda x: x.relu() if torch.__name__ == "torch" else x.no_such_method())

      def test_body_error(self):
        y = torch.no_such_function() if torch.__name__ != "torch" else torch.ones(3)
        helper_test_op([(3,)], lambda x: x + y)

      def test_exception(self):
        self.helper_test_exception([(2, 3)], lambda x: x.reshape(7), expected=RuntimeError)

      def test_tinygrad_only(self):
        helper_test_op([(3,)], lambda x: Tensor(x.numpy()))

      def test_hang(self):
        helper_test_op([(3,)], lambda x: x if torch.__name__ == "torch" else [None for _ in iter(int, 1)])

      @unittest.skip("not for this backend")
      def test_skipped(self):
        helper_test_op([(3,)], lambda x: x.relu())

      def test_no_cases(self):
        self.assertEqual(Tensor.ones(2).numpy().tolist(), [1.0, 1.0])
''')


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("tinygrad") / "test_ops.py"
    path.write_text(TEST_FILE)
    return suite.run_suite(path, timeout=1.0)


def _case(report, test, index=0):
    return next(c for c in report["cases"] if c["test"] == f"TestOps.{test}" and c["index"] == index)


def test_parser_finds_every_call_site(report):
    assert report["call_sites"] == 14
    assert report["methods"] == 12
    assert report["methods_without_cases"] == ["TestOps.test_no_cases"]


def test_matching_cases_pass_with_their_lambda_source(report):
    cases = [c for c in report["cases"] if c["test"] in ("TestOps.test_passes", "TestOps.test_loop")]
    assert [c["status"] for c in cases] == ["pass"] * 6
    assert cases[0]["source"] == "lambda x: x * 2 + 1"
    assert cases[2]["shapes"] == "vals=[[1, 2, 3]]"


def test_wrong_forward_value_is_reported_as_wrong_value(report):
    case = _case(report, "test_wrong_value")
    assert case["status"] == "wrong_value"
    assert case["cause"] == "forward values differ"
    assert report["causes"]["wrong_value"][0]["cause"] == "forward values differ"


def test_wrong_gradient_is_reported_as_wrong_value(report):
    assert _case(report, "test_wrong_gradient", 0)["status"] == "pass"
    case = _case(report, "test_wrong_gradient", 1)
    assert (case["status"], case["cause"]) == ("wrong_value", "gradient values differ")


def test_dtype_mismatch_is_its_own_class(report):
    case = _case(report, "test_wrong_dtype")
    assert (case["status"], case["cause"]) == ("wrong_dtype", "forward dtype int64 vs int32")


def test_missing_method_is_an_error_named_by_attribute(report):
    case = _case(report, "test_error")
    assert (case["status"], case["cause"]) == ("error", "missing Tensor.no_such_method")


def test_error_in_the_test_body_fails_the_cases_after_it(report):
    case = _case(report, "test_body_error")
    assert (case["status"], case["cause"]) == ("error", "test body: missing ember.no_such_function")


def test_expected_exception_is_checked(report):
    case = _case(report, "test_exception")
    # ember raises some exception for an impossible reshape; anything but silence is visible
    assert case["status"] in ("pass", "error")
    assert case["status"] != "wrong_value"


def test_tinygrad_only_lambdas_and_unconditional_skips_are_skipped(report):
    assert _case(report, "test_tinygrad_only")["cause"] == "uses tinygrad-only name Tensor"
    skipped = _case(report, "test_skipped")
    assert (skipped["status"], skipped["cause"]) == ("skipped", "tinygrad skips this test")


def test_a_hanging_case_times_out_and_the_run_goes_on(report):
    case = _case(report, "test_hang")
    assert (case["status"], case["cause"]) == ("error", "timeout")
    assert _case(report, "test_skipped")["status"] == "skipped"  # later methods still ran


def test_summary_counts_and_json_round_trip(report, tmp_path):
    counts = report["counts"]
    assert sum(counts.values()) == report["total"] == 16
    assert counts["wrong_value"] == 2 and counts["wrong_dtype"] == 1 and counts["skipped"] == 2
    assert report["pass_percent_of_runnable"] == round(100 * counts["pass"] / 14, 1)
    assert json.loads(json.dumps(report, default=str))["total"] == 16


def test_command_line_writes_json(tmp_path, capsys):
    path = tmp_path / "test_ops.py"
    path.write_text(TEST_FILE)
    out = tmp_path / "report.json"
    assert suite.main([str(path), "-k", "test_wrong_value", "--json", str(out), "--timeout", "1"]) == 0
    assert "wrong_value=1" in capsys.readouterr().out
    assert json.loads(out.read_text())["cases"][0]["status"] == "wrong_value"


def test_checkout_without_test_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no test_ops.py"):
        suite.find_test_file(tmp_path)


def test_rewrite_imports_changes_only_imports():
    source = textwrap.dedent('''\
        import os
        import torch
        import torch.nn as nn
        from torch.nn import functional as F
        import torch.onnx
        from torchvision import datasets, transforms
        from torch.utils.data import DataLoader
        x = torch.zeros(3)  # import torch stays in comments
        ''')
    rewritten, changes = rewrite_imports(source)
    assert rewritten == textwrap.dedent('''\
        import os
        import ember as torch
        import ember.nn as nn
        from ember.nn import functional as F
        import ember.onnx; import ember as torch
        from ember.vision import datasets, transforms
        from ember.utils.data import DataLoader
        x = torch.zeros(3)  # import torch stays in comments
        ''')
    assert len(changes) == 6


def test_compare_losses_pairs_in_order():
    assert compare_losses([2.0, 1.0], [2.0, 1.05], 0.1)["agree"] is True
    result = compare_losses([2.0, 1.0], [2.0, 1.5], 0.1)
    assert result["agree"] is False and result["max_rel_diff"] == 0.5
    assert compare_losses([1.0], [], 0.1)["agree"] is False
    # from different initial weights only the first and last pairs are judged
    scattered = ([2.3, 1.5, 0.5], [2.3, 2.0, 0.52])
    assert compare_losses(*scattered, 0.1, same_init=True)["agree"] is False
    assert compare_losses(*scattered, 0.1, same_init=False)["agree"] is True
