"""Pictures of training: learning curves, filters, samples, confusion matrices.

Image grids (:func:`save_image_grid`, :func:`plot_filters`, :func:`make_grid`,
:func:`save_png`) need only NumPy. Charts (:func:`plot_history`,
:func:`plot_confusion_matrix`, :func:`plot_images`) need matplotlib, an optional
dependency (``pip install matplotlib``); importing ``ember.viz`` never requires it.

Example:
    >>> import numpy as np, os, tempfile
    >>> from ember import viz
    >>> folder = tempfile.mkdtemp()
    >>> grid = viz.save_image_grid(np.random.default_rng(0).random((8, 28, 28)), os.path.join(folder, "x.png"))
"""
from .grid import make_grid, plot_filters, save_image_grid, save_png
from .plots import plot_confusion_matrix, plot_history, plot_images

__all__ = ["make_grid", "save_png", "save_image_grid", "plot_filters", "plot_history", "plot_confusion_matrix",
           "plot_images"]
