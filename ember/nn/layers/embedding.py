"""``Embedding``: a learned lookup table of vectors, indexed by integers.

Example:
    >>> import ember, ember.nn as nn
    >>> nn.Embedding(65, 128)(ember.tensor([[1, 2, 3]])).shape
    (1, 3, 128)
"""
from __future__ import annotations

from ...creation import empty
from ...functional.embedding import embedding, normalize_padding_idx
from ...tensor import Tensor, as_tensor
from .. import init
from ..module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``; ``y = weight[indices]``.

    Args:
        num_embeddings: the number of rows (the vocabulary size).
        embedding_dim: the size of each vector.
        padding_idx: a row that starts at zero and never receives gradient
            (for padding tokens); negative values count from the end.

    Attributes:
        weight: ``(num_embeddings, embedding_dim)`` from ``N(0, 1)``, as in PyTorch.

    Example:
        >>> import ember, ember.nn as nn
        >>> emb = nn.Embedding(10, 3, padding_idx=0)
        >>> emb(ember.tensor([0])).tolist()
        [[0.0, 0.0, 0.0]]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype=None, device: str = "cpu") -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = normalize_padding_idx("Embedding", padding_idx, self.num_embeddings)
        self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the table from ``N(0, 1)`` and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None) -> "Embedding":
        """An embedding whose table is a copy of ``embeddings`` (frozen unless ``freeze=False``).

        Example:
            >>> import ember, ember.nn as nn
            >>> emb = nn.Embedding.from_pretrained(ember.eye(3))
            >>> emb(ember.tensor([2])).tolist(), emb.weight.requires_grad
            ([[0.0, 0.0, 1.0]], False)
        """
        embeddings = as_tensor(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: expected a 2-D table, got shape {embeddings.shape}")
        layer = cls(*embeddings.shape, padding_idx=padding_idx, dtype=embeddings.dtype, device=embeddings.device)
        layer.weight._data[...] = embeddings._data
        layer.weight.requires_grad_(not freeze)
        return layer

    def forward(self, indices: Tensor) -> Tensor:
        indices = as_tensor(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"Embedding: expected integer indices, got {indices.dtype} of shape {indices.shape}")
        return embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
