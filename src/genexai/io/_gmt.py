"""Gene sets: the GMT format (MSigDB/GSEA) and their membership over a gene order.

A GMT file holds one gene set per line, tab-separated: the set's name, a
description (MSigDB puts a URL there), then its genes. Blank lines are
skipped; there is no header, no comment and no quoting (a quote is plain
text). Each field is stripped of surrounding whitespace, empty gene fields
(a trailing tab) are ignored and a gene repeated within a set is kept once,
at its first place. Genes are matched to the data by exact, case-sensitive
name: ``TP53`` is not ``tp53``, and Ensembl ids do not match symbols.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse

from ..errors import InputError
from ._compression import open_text
from ._text import check_unique

_WHAT = "GMT gene-set file"


@dataclass(frozen=True)
class GeneSets:
    """Named gene sets, each a tuple of gene names.

    Attributes
    ----------
    names
        ``(n_sets,)`` set names, unique.
    descriptions
        ``(n_sets,)`` the GMT description field (may be empty).
    members
        ``(n_sets,)`` the genes of each set, unique within a set, in file order.
    source
        Where the sets come from (the file), for error messages.
    """

    names: tuple[str, ...]
    descriptions: tuple[str, ...]
    members: tuple[tuple[str, ...], ...]
    source: str

    def membership(
        self, genes: Sequence[str] | pd.Index, *, where: str
    ) -> tuple[scipy.sparse.csr_array, np.ndarray]:
        """Which of ``genes`` each set holds, matched by exact name.

        Parameters
        ----------
        genes
            ``(n_genes,)`` the data's gene names, unique, in the data's order.
        where
            The data, for error messages.

        Returns
        -------
        ``(membership, n_not_found)``: ``membership`` is a CSR bool
        ``(n_sets, n_genes)``, True where the set holds the gene;
        ``n_not_found`` is int64 ``(n_sets,)``, the set's genes absent from
        ``genes``.

        Raises
        ------
        InputError
            A duplicate gene name in ``genes``, or no gene of any set among them.
        """
        index = pd.Index([str(g) for g in genes])
        check_unique(index, what="gene name", where=where)
        sizes = np.fromiter((len(m) for m in self.members), dtype=np.int64, count=len(self.members))
        flat = [gene for member in self.members for gene in member]
        rows = np.repeat(np.arange(len(self.members)), sizes)
        columns = index.get_indexer(flat) if flat else np.empty(0, dtype=np.int64)
        found = columns >= 0
        if not found.any():
            example = f"set gene {flat[0]!r}" if flat else "no set gene"
            if len(index):
                example += f", data gene {index[0]!r}"
            msg = (
                f"{self.source}: none of the genes of its {len(self.names)} gene sets is among "
                f"the {len(index)} genes of {where} (e.g. {example}); expected the data's "
                "gene names"
            )
            raise InputError(msg)
        membership = scipy.sparse.csr_array(
            (np.ones(found.sum(), dtype=bool), (rows[found], columns[found])),
            shape=(len(self.members), len(index)),
        )
        n_not_found = np.bincount(rows[~found], minlength=len(self.members)).astype(np.int64)
        return membership, n_not_found


def read_gmt(path: Path | str) -> GeneSets:
    """Read a GMT file (module docstring), possibly compressed.

    Raises
    ------
    InputError
        The file cannot be read or decoded; a line with fewer than 3 fields,
        an empty set name, no gene, or a set name already used on an earlier
        line; no set at all. Each message names the file and the line.
    """
    path = Path(path)
    names: list[str] = []
    descriptions: list[str] = []
    members: list[tuple[str, ...]] = []
    first_line: dict[str, int] = {}
    with open_text(path, what=_WHAT) as (text, _):
        for number, line in enumerate(text, start=1):
            if not line or line.isspace():
                continue
            fields = [f.strip() for f in line.rstrip("\r\n").split("\t")]
            if len(fields) < 3:
                msg = (
                    f"{path}: line {number}: {len(fields)} tab-separated field(s); expected a "
                    "set name, a description and its genes (GMT)"
                )
                raise InputError(msg)
            name = fields[0]
            if not name:
                msg = f"{path}: line {number}: empty gene set name"
                raise InputError(msg)
            if name in first_line:
                msg = (
                    f"{path}: line {number}: duplicate gene set name {name!r} "
                    f"(first on line {first_line[name]})"
                )
                raise InputError(msg)
            genes = tuple(dict.fromkeys(g for g in fields[2:] if g))
            if not genes:
                msg = f"{path}: line {number}: gene set {name!r} lists no gene"
                raise InputError(msg)
            first_line[name] = number
            names.append(name)
            descriptions.append(fields[1])
            members.append(genes)
    if not names:
        msg = f"{path}: no gene set (an empty {_WHAT})"
        raise InputError(msg)
    return GeneSets(
        names=tuple(names),
        descriptions=tuple(descriptions),
        members=tuple(members),
        source=str(path),
    )
