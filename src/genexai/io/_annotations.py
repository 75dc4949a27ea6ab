"""Reading an ``.h5ad`` file's annotations without its data matrix.

For steps that need the genes, classes, truth and parameters of a prepared
file but not its values: a prepared file of 10^6 samples holds gigabytes of
``X`` (and ``layers``), which are never read here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import anndata as ad
import h5py
import pandas as pd
from anndata.io import read_elem

from .. import keys
from ..errors import InputError
from ._compression import check_input


def read_annotations(
    path: str | os.PathLike,
    *,
    obs: Sequence[str] = (keys.LABEL, keys.SUBCLASS),
    varm: Sequence[str] = (keys.INFORMATIVE,),
) -> ad.AnnData:
    """The file's names, ``var``, ``uns`` and some ``obs``/``varm`` entries; no ``X``.

    Parameters
    ----------
    path
        An ``.h5ad`` file.
    obs, varm
        The ``obs`` columns and ``varm`` entries to read, where the file has
        them (the others are skipped: the file may hold many).

    Returns
    -------
    ``(n_obs, n_vars)`` AnnData, ``X`` None; ``obs`` holds only the columns
    of ``obs`` the file has, ``varm`` likewise; ``var`` and ``uns`` whole.

    Raises
    ------
    InputError
        A missing or unreadable file; not an AnnData file (no ``obs``/``var``).
    """
    path = Path(path)
    check_input(path, what="AnnData file")
    try:
        with h5py.File(path, "r") as f:
            for group in ("obs", "var"):
                if not isinstance(f.get(group), h5py.Group):
                    msg = f"{path}: not an AnnData file (no {group!r} group)"
                    raise InputError(msg)
            var = read_elem(f["var"])
            obs_group = f["obs"]
            names = read_elem(obs_group[obs_group.attrs["_index"]])
            columns = {c: read_elem(obs_group[c]) for c in obs if c in obs_group}
            varm_group = f.get("varm")
            arrays = {
                v: read_elem(varm_group[v])
                for v in varm
                if isinstance(varm_group, h5py.Group) and v in varm_group
            }
            uns = read_elem(f["uns"]) if isinstance(f.get("uns"), h5py.Group) else {}
    except (OSError, KeyError) as exc:
        msg = f"{path}: not a readable .h5ad file ({exc.__class__.__name__}: {exc})"
        raise InputError(msg.splitlines()[0]) from None
    adata = ad.AnnData(obs=pd.DataFrame(columns, index=pd.Index(names).astype(str)), var=var)
    for key, value in arrays.items():
        adata.varm[key] = value
    adata.uns.update(uns)
    return adata
