"""``torch.nn.modules.transformer``: transformer layers, under PyTorch's module path.

The classes are Ember's own (defined under ``ember/nn/layers/``); this module only gives
them the dotted path PyTorch programs name, e.g. in ``torch.serialization.safe_globals([...])``.
"""
from ..layers.transformer import (
    TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder,
    Transformer
)

__all__ = ["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "Transformer"]
