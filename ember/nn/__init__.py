"""Neural-network modules: ``Module``, containers, layers, losses, initialisers.

Each family of layers lives in its own file under ``ember/nn/layers/``; this
package re-exports them.
"""
import sys

from . import init, utils  # noqa: F401
from .. import functional  # noqa: F401 - `import ember.nn.functional as F` is ember.functional

sys.modules[__name__ + ".functional"] = functional
from .containers import ModuleDict, ModuleList, Sequential
from .module import IncompatibleKeys, Module, Parameter, StateDictError
from .layers import *  # noqa: F401,F403
from . import modules  # noqa: F401,E402 - torch.nn.modules.<file>.<Class> paths
