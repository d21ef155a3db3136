"""Stateless layer functions (``ember.functional``, imported as ``F`` by convention).

One file per family; each defines ``__all__`` and is re-exported here.
"""
from .activation import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .encoding import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .vision import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .ctc import *  # noqa: F401,F403
from .crf import *  # noqa: F401,F403
from .sampled_softmax import *  # noqa: F401,F403
