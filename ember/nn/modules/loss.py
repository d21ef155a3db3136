"""``torch.nn.modules.loss``: losses, under PyTorch's module path.

The classes are Ember's own (defined under ``ember/nn/layers/``); this module only gives
them the dotted path PyTorch programs name, e.g. in ``torch.serialization.safe_globals([...])``.
"""
from ..layers.loss import (
    CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss,
    BCEWithLogitsLoss, HingeEmbeddingLoss, MultiMarginLoss, MarginRankingLoss, KLDivLoss,
    CosineEmbeddingLoss
)
from ..layers.ctc import CTCLoss

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiMarginLoss", "MarginRankingLoss", "KLDivLoss", "CosineEmbeddingLoss", "CTCLoss"]
