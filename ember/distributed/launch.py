"""Starting MPI jobs from Python: find ``mpiexec`` and build its command line.

``pip install "ember[mpi]"`` puts MPICH's ``mpiexec`` next to the Python
executable (``<venv>/bin/mpiexec``), which need not be on ``PATH`` (a venv that
is not activated, pyenv shims). :func:`find_mpiexec` looks there first.

Example:
    >>> mpi_command(2, ["train.py"], mpiexec="mpiexec", python="python")
    ['mpiexec', '-n', '2', 'python', '-m', 'mpi4py', 'train.py']
"""
from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Sequence

__all__ = ["THREAD_VARIABLES", "find_mpiexec", "mpi_command", "single_thread_env"]

#: The variables that size BLAS and OpenMP thread pools.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMEXPR_NUM_THREADS")


def find_mpiexec() -> str | None:
    """The path of ``mpiexec``, or None when there is none.

    Looks at ``$EMBER_MPIEXEC``, then beside the running Python (where the ``mpich``
    wheel installs it, also inside a virtual environment), then in the
    interpreter's scripts directory, then on ``PATH``.

    Example:
        >>> path = find_mpiexec()
        >>> path is None or os.path.basename(path).startswith("mpiexec")
        True
    """
    override = os.environ.get("EMBER_MPIEXEC")
    if override:
        return override if os.access(override, os.X_OK) else None
    names = ("mpiexec.exe", "mpiexec") if os.name == "nt" else ("mpiexec",)
    folders = [os.path.dirname(sys.executable), sysconfig.get_path("scripts"),
               os.path.join(sys.prefix, "bin"), os.path.join(sys.prefix, "Scripts")]
    for folder in folders:
        for name in names:
            candidate = os.path.join(folder, name)
            if folder and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return shutil.which("mpiexec")


def mpi_command(processes: int, args: Sequence[str], mpiexec: str | None = None,
                python: str | None = None, mpiexec_options: Sequence[str] = ()) -> list[str]:
    """``mpiexec -n N python -m mpi4py ARGS...`` as an argument list.

    ``-m mpi4py`` makes an uncaught exception on any rank abort the whole job
    (non-zero exit) instead of leaving the other ranks waiting in a collective.

    Args:
        processes: number of ranks.
        args: the script (or ``-m module`` / ``-c code``) and its arguments.
        mpiexec: path of ``mpiexec`` (found with :func:`find_mpiexec` by default).
        python: the interpreter (this one by default).
        mpiexec_options: extra options placed before ``python`` (e.g. ``["-f", "hosts"]``).

    Raises:
        FileNotFoundError: no ``mpiexec`` was found.
    """
    mpiexec = mpiexec or find_mpiexec()
    if mpiexec is None:
        raise FileNotFoundError('mpi_command: no mpiexec found; pip install "ember[mpi]" (mpi4py and mpich)')
    return [mpiexec, "-n", str(int(processes)), *mpiexec_options, python or sys.executable, "-m", "mpi4py",
            *args]


def single_thread_env(threads: int = 1, base: dict | None = None) -> dict:
    """A copy of the environment with every BLAS/OpenMP pool set to ``threads`` threads.

    N ranks on N cores must each use one thread, or they fight over the cores.

    Example:
        >>> single_thread_env(base={})["OMP_NUM_THREADS"]
        '1'
    """
    env = dict(os.environ if base is None else base)
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    return env
