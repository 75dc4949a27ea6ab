"""Reading and writing genexai files safely.

* Reads refuse files that are not what they claim to be, with an
  :class:`~genexai.errors.InputError` naming the file.
* Writes are atomic: a temporary file in the destination folder, then
  :func:`os.replace`, so a crash never leaves a half-written output.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd

from .. import keys
from ..errors import InputError

#: Default refusal threshold for dense ``.h5ad`` inputs, as a multiple of the
#: machine's physical memory (see :func:`check_h5ad_size`).
MAX_MEMORY_FRACTION = 0.5
_memory_limit: int | None = None


def set_memory_limit(gigabytes: float | None) -> None:
    """Set the largest ``X`` (GiB, as float32) that :func:`read_h5ad` accepts.

    ``None`` restores the default, half the physical memory. The bin scripts
    call this from their ``--max-memory-gb`` option.
    """
    global _memory_limit  # noqa: PLW0603  # one process-wide setting, set once by the CLI
    _memory_limit = None if gigabytes is None else int(gigabytes * 2**30)


def _human(n_bytes: float) -> str:
    """``n_bytes`` as MiB or GiB, for messages."""
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.2f} MiB"


def _physical_memory() -> int:
    """Bytes of physical memory on this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_h5ad_size(path: Path, *, max_bytes: int | None = None) -> tuple[int, int]:
    """Read the shape of ``X`` from HDF5 metadata and refuse oversized files.

    Nothing is loaded: only the dataset headers are read.

    Parameters
    ----------
    path
        An ``.h5ad`` file.
    max_bytes
        Largest in-memory size of ``X`` (as float32) that is accepted. Default:
        the limit of :func:`set_memory_limit`, else half the physical memory.

    Returns
    -------
    ``(n_obs, n_vars)``.
    """
    if max_bytes is None:
        max_bytes = _memory_limit or int(_physical_memory() * MAX_MEMORY_FRACTION)
    try:
        with h5py.File(path, "r") as f:
            if "X" not in f:
                msg = f"{path}: not an AnnData file (no 'X' in the HDF5 file)"
                raise InputError(msg)
            x = f["X"]
            if isinstance(x, h5py.Dataset):
                shape = tuple(int(s) for s in x.shape)
                if x.dtype.kind not in "fiub":
                    msg = f"{path}: X has dtype {x.dtype}, expected a numeric matrix"
                    raise InputError(msg)
                n_values = shape[0] * shape[1] if len(shape) == 2 else 0
            else:  # sparse group: shape attribute, nnz from data
                shape = tuple(int(s) for s in x.attrs.get("shape", (0, 0)))
                n_values = int(x["data"].shape[0]) * 2 if "data" in x else 0
    except OSError as exc:
        msg = f"{path}: not a readable HDF5/.h5ad file ({exc.__class__.__name__})"
        raise InputError(msg) from None
    if len(shape) != 2:
        msg = f"{path}: X has shape {shape}, expected a 2-d matrix"
        raise InputError(msg)
    size = n_values * 4
    if size > max_bytes:
        msg = (
            f"{path}: X would need {_human(size)} in memory, above the "
            f"limit of {_human(max_bytes)} (raise it with --max-memory-gb)"
        )
        raise InputError(msg)
    return shape  # type: ignore[return-value]


#: Files read once and handed out as copies (see :func:`share_reads`).
_SHARED: dict[Path, ad.AnnData | None] = {}


def share_reads(paths: Iterable[str | os.PathLike]) -> None:
    """Keep these files in memory after their first :func:`read_h5ad`.

    For :mod:`genexai.batch`, which runs a step several times in one
    process: the prepared file every run reads is read once (SIMU1's takes
    1–2 s), and each read returns a copy, so no run sees another's changes.
    """
    for path in paths:
        _SHARED.setdefault(Path(path).resolve(), None)


def read_h5ad(path: str | os.PathLike, *, max_bytes: int | None = None) -> ad.AnnData:
    """Read an ``.h5ad`` file after checking its size and type.

    Raises :class:`InputError` for a missing, truncated or non-AnnData file,
    an ``X`` that is not numeric, or one too large for memory.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such file"
        raise InputError(msg)
    key = path.resolve()
    if key in _SHARED:
        if _SHARED[key] is None:
            _SHARED[key] = _read_checked(path, max_bytes=max_bytes)
        return _SHARED[key].copy()
    return _read_checked(path, max_bytes=max_bytes)


def _read_checked(path: Path, *, max_bytes: int | None) -> ad.AnnData:
    """:func:`read_h5ad` without the shared-read cache."""
    check_h5ad_size(path, max_bytes=max_bytes)
    try:
        adata = ad.read_h5ad(path)
    except Exception as exc:  # anndata raises many types for corrupt files
        msg = f"{path}: cannot be read as AnnData ({exc.__class__.__name__}: {exc})"
        raise InputError(msg.splitlines()[0]) from None
    check_matrix(adata, where=str(path))
    return adata


def check_matrix(adata: ad.AnnData, *, where: str) -> None:
    """Check that ``adata.X`` is a non-empty, finite numeric matrix."""
    x = adata.X
    if x is None or adata.n_obs == 0 or adata.n_vars == 0:
        msg = f"{where}: empty matrix (shape {adata.shape})"
        raise InputError(msg)
    values = x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else x
    values = np.asarray(values)
    if values.dtype.kind not in "fiub":
        msg = f"{where}: X has dtype {values.dtype}, expected numbers"
        raise InputError(msg)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        msg = f"{where}: X contains NaN or infinite values"
        raise InputError(msg)
    for axis, names in (("obs", adata.obs_names), ("var", adata.var_names)):
        if not names.is_unique:
            dup = names[names.duplicated()][0]
            msg = f"{where}: duplicate {axis} name {dup!r}"
            raise InputError(msg)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        msg = f"{path}: output folder {folder} does not exist"
        raise InputError(msg)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        msg = f"{path}: cannot write here ({exc.strerror})"
        raise InputError(msg) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates files with mode 0600; give them the user's umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_h5ad(adata: ad.AnnData, path: str | os.PathLike, *, compress: bool = True) -> None:
    """Write ``adata`` atomically, LZF-compressed unless ``compress`` is False.

    LZF rather than gzip: on float32 expression gzip saves a little more
    space but costs several times the CPU (tens of seconds on 10k × 20k),
    and every step writes one file. Dense standardised values (PREPARE's
    z-scores, attributions) do not compress at all (SIMU1's prepared file:
    595 MB either way), while LZF doubles the time of every read (2.3 s
    against 1.3 s), and each model run reads them several times.
    """
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp, compression="lzf" if compress else None)


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a tab-separated table atomically, without the index."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)


def step_uns(adata: ad.AnnData, step: str) -> dict:
    """Return (creating it if needed) the ``uns[keys.UNS][step]`` dict."""
    return adata.uns.setdefault(keys.UNS, {}).setdefault(step, {})


def class_names(adata: ad.AnnData, *, where: str) -> list[str]:
    """The task's class names, in class-index order, from ``obs[keys.LABEL]``."""
    if keys.LABEL not in adata.obs:
        msg = f"{where}: obs[{keys.LABEL!r}] is missing"
        raise InputError(msg)
    labels = adata.obs[keys.LABEL]
    if not isinstance(labels.dtype, pd.CategoricalDtype):
        msg = f"{where}: obs[{keys.LABEL!r}] must be categorical, found {labels.dtype}"
        raise InputError(msg)
    return [str(c) for c in labels.cat.categories]


def label_codes(adata: ad.AnnData, classes: Sequence[str], *, where: str) -> np.ndarray:
    """Class indices of ``obs[keys.LABEL]`` in the order of ``classes``.

    Raises :class:`InputError` if a label is not one of ``classes``.
    """
    labels = adata.obs[keys.LABEL].astype(str)
    index = pd.Index(classes)
    codes = index.get_indexer(labels)
    if (codes < 0).any():
        unknown = labels[codes < 0].iloc[0]
        msg = f"{where}: label {unknown!r} is not one of the model's classes {list(classes)}"
        raise InputError(msg)
    return codes.astype(np.int64)
