"""Set before NumPy loads: how long OpenBLAS's idle worker threads spin.

After each call OpenBLAS keeps its workers spinning for about 2**28 cycles (~0.1 s)
by default. On a small machine they then occupy the very cores that Ember's own
kernel threads (:mod:`ember.parallel`) need next: measured on the 2-core machine,
the CIFAR-10 convnet step took 96 ms with the default spin against 55 ms with
``OPENBLAS_THREAD_TIMEOUT=4`` (workers sleep right away). OpenBLAS reads the
variable once, when it is loaded, so it only takes effect if ``ember`` is
imported before NumPy (or the user sets it). Where it did not, Ember keeps its
kernels on one thread unless told otherwise (``ember.set_num_threads`` or
``EMBER_NUM_THREADS``), which is as fast as before the threads existed.
"""
import os
import sys

#: Whether OpenBLAS's workers stop spinning soon enough for Ember's threads to share the cores.
BLAS_SPIN_IS_SHORT = "numpy" not in sys.modules or "OPENBLAS_THREAD_TIMEOUT" in os.environ
if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
