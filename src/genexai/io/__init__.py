"""File input/output and the data helpers every step shares.

Safe AnnData reads and atomic writes (:mod:`._h5ad`), rows and row blocks of
dense or sparse matrices (:mod:`._matrix`), split selection
(:mod:`._splits`), matching by name (:mod:`._align`), checks on matrix
values (:mod:`._values`) and gene sets read from GMT files (:mod:`._gmt`).
The readers of public expression formats live in :mod:`genexai.io.formats`
(used by :mod:`genexai.import_data`).
"""

from __future__ import annotations

from ._align import align_genes, name_order
from ._annotations import read_annotations
from ._gmt import GeneSets, read_gmt
from ._h5ad import (
    atomic_path,
    atomic_paths,
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
from ._matrix import BLOCK_ELEMENTS, dense_rows, row_blocks, stored_blocks
from ._prepared import ScaledRows, expression, is_scaled_sparse, mean_rows
from ._splits import Split, split_indices, split_rows, split_selector
from ._values import looks_like_counts

__all__ = [
    "BLOCK_ELEMENTS",
    "GeneSets",
    "ScaledRows",
    "Split",
    "align_genes",
    "atomic_path",
    "atomic_paths",
    "check_h5ad_size",
    "check_matrix",
    "class_names",
    "dense_rows",
    "expression",
    "is_scaled_sparse",
    "label_codes",
    "looks_like_counts",
    "mean_rows",
    "name_order",
    "read_annotations",
    "read_gmt",
    "read_h5ad",
    "row_blocks",
    "set_memory_limit",
    "share_reads",
    "split_indices",
    "split_rows",
    "split_selector",
    "step_uns",
    "stored_blocks",
    "write_h5ad",
    "write_table",
]
