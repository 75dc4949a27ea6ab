"""File input/output: safe AnnData reads, atomic writes, gene alignment,
and importers for public expression formats (:mod:`genexai.io.formats`)."""

from __future__ import annotations

from ._h5ad import (
    align_genes,
    atomic_path,
    check_h5ad_size,
    check_matrix,
    class_names,
    label_codes,
    read_h5ad,
    set_memory_limit,
    share_reads,
    step_uns,
    write_h5ad,
    write_table,
)

__all__ = [
    "align_genes",
    "atomic_path",
    "check_h5ad_size",
    "check_matrix",
    "class_names",
    "label_codes",
    "read_h5ad",
    "set_memory_limit",
    "share_reads",
    "step_uns",
    "write_h5ad",
    "write_table",
]
