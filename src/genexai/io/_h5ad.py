"""Reading and writing genexai files safely.

* Reads refuse files that are not what they claim to be, with an
  :class:`~genexai.errors.InputError` naming the file.
* Writes are atomic: a temporary file in the destination folder, then
  :func:`os.replace`, so a crash never leaves a half-written output.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import keys
from ..errors import InputError
from ._compression import check_input
from ._matrix import row_blocks, stored_blocks

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


def _matrix_name(layer: str | None, *, use_raw: bool) -> str:
    return f"layer {layer!r}" if layer is not None else "raw.X" if use_raw else "X"


def _choose_matrix(f: h5py.File, path: Path, *, layer: str | None, use_raw: bool) -> h5py.HLObject:
    """The HDF5 node of the matrix a step reads: ``X``, ``layers/<layer>`` or ``raw/X``."""
    if layer is not None:
        layers = f.get("layers")
        if not isinstance(layers, h5py.Group) or layer not in layers:
            names = list(layers) if isinstance(layers, h5py.Group) else []
            shown = ", ".join(repr(n) for n in names[:12]) or "none"
            msg = f"{path}: no layer {layer!r} (layers: {shown})"
            raise InputError(msg)
        return layers[layer]
    if use_raw:
        raw = f.get("raw")
        if not isinstance(raw, h5py.Group) or "X" not in raw:
            msg = f"{path}: use_raw is set, but the file has no raw"
            raise InputError(msg)
        return raw["X"]
    if "X" not in f:
        layers = list(f["layers"]) if isinstance(f.get("layers"), h5py.Group) else []
        if "obs" in f and layers:
            shown = ", ".join(repr(n) for n in layers[:12])
            msg = (
                f"{path}: has no X; its data is in layers ({shown}): import it naming one as layer"
            )
        else:
            msg = f"{path}: not an AnnData file (no 'X' in the HDF5 file)"
        raise InputError(msg)
    return f["X"]


def _decoded_bytes(f: h5py.File) -> int:
    """Bytes of every dataset of the file once read into memory (uncompressed)."""
    total = 0

    def visit(name: str, node: h5py.HLObject) -> None:
        nonlocal total
        if isinstance(node, h5py.Dataset):
            total += int(np.prod(node.shape, dtype=np.int64)) * node.dtype.itemsize

    f.visititems(visit)
    return total


def check_h5ad_size(
    path: Path,
    *,
    max_bytes: int | None = None,
    keep_sparse: bool = False,
    dense_rows: int | None = None,
    layer: str | None = None,
    use_raw: bool = False,
    rows: np.ndarray | None = None,
) -> tuple[int, int]:
    """Read the shape of the data matrix from HDF5 metadata and refuse oversized files.

    Nothing is loaded: only the dataset headers are read. The memory
    counted is what reading the file and using its matrix allocate: every
    dataset of the file, uncompressed (what :func:`anndata.read_h5ad`
    loads), plus the dense float32 copy of the matrix a step works on, for
    a sparse matrix (unless ``keep_sparse``) or a dense one of another dtype.
    A sparse matrix that stays sparse is charged its stored arrays only
    (data + indices + indptr). A step that densifies only some rows says so
    with ``dense_rows`` and is charged those rows. A tiny file declaring a
    sparse 10^5 × 10^5 ``X`` is refused here, before any allocation.

    Parameters
    ----------
    path
        An ``.h5ad`` file.
    max_bytes
        Largest number of bytes accepted. Default: the limit of
        :func:`set_memory_limit`, else half the physical memory.
    keep_sparse
        The caller keeps a sparse matrix sparse: its dense copy is not counted.
    dense_rows
        The caller holds a dense float32 copy of at most this many rows (all
        columns), whatever the input's kind or dtype, instead of the whole
        matrix: charged ``min(dense_rows, n_obs) × n_vars × 4`` bytes on top
        of the file's arrays (``keep_sparse`` is then moot).
    layer
        The matrix is ``layers[layer]`` (then ``X`` may be absent).
    use_raw
        The matrix is ``raw.X``.
    rows
        Only these rows are read (sorted row indices, :func:`read_h5ad`'s
        ``rows``): ``X`` and the arrays of ``layers`` and ``obsm`` are charged
        those rows' share (a CSR matrix its rows' stored values, and all of
        ``indptr``), and ``dense_rows`` is at most ``len(rows)``.

    Returns
    -------
    ``(n_obs, n_vars)`` of the matrix.

    Raises
    ------
    InputError
        Not a readable HDF5 file; no such matrix; a matrix that is not a
        numeric 2-d array or sparse matrix; more memory than ``max_bytes``.
    """
    if max_bytes is None:
        max_bytes = _memory_limit or int(_physical_memory() * MAX_MEMORY_FRACTION)
    name = _matrix_name(layer, use_raw=use_raw)
    try:
        with h5py.File(path, "r") as f:
            x = _choose_matrix(f, path, layer=layer, use_raw=use_raw)
            if isinstance(x, h5py.Dataset):
                shape, dtype, sparse = tuple(int(s) for s in x.shape), x.dtype, False
                nnz = 0
            elif isinstance(x, h5py.Group) and isinstance(x.get("data"), h5py.Dataset):
                shape = tuple(int(s) for s in np.ravel(x.attrs.get("shape", ())))
                dtype, sparse, nnz = x["data"].dtype, True, int(x["data"].shape[0])
            else:
                msg = f"{path}: {name} is neither an array nor a sparse matrix"
                raise InputError(msg)
            loaded = _decoded_bytes(f)
            if rows is not None:
                row_nodes = [x, *_children(f, "layers"), *_children(f, "obsm")]
                loaded -= sum(_unread_bytes(node, rows) for node in row_nodes)
    except OSError as exc:
        msg = f"{path}: not a readable HDF5/.h5ad file ({exc.__class__.__name__})"
        raise InputError(msg) from None
    if dtype.kind not in "fiub":
        msg = f"{path}: {name} has dtype {dtype}, expected a numeric matrix"
        raise InputError(msg)
    if len(shape) != 2 or min(shape) < 0:
        msg = f"{path}: {name} has shape {shape}, expected a 2-d matrix"
        raise InputError(msg)
    # Python ints: a declared 10^6 × 10^5 shape must not overflow.
    n_read = shape[0] if rows is None else len(rows)
    if dense_rows is not None:
        n_dense = min(int(dense_rows), n_read)
        densified = f", {n_dense} rows of it made dense (float32)"
    elif (sparse and not keep_sparse) or (not sparse and dtype != np.float32):
        n_dense = n_read
        densified = ", made dense (float32) to be used" if sparse else ", copied as float32"
    else:
        n_dense, densified = 0, ""
    size = loaded + n_dense * shape[1] * 4
    if size > max_bytes:
        kind = "sparse" if sparse else "dense"
        stored = f" ({nnz} non-zeros stored)" if sparse else ""
        msg = (
            f"{path}: {name} is a {kind} {shape[0]} × {shape[1]} matrix{densified}; reading "
            f"it{stored} needs {_human(size)} in memory, above the limit of {_human(max_bytes)} "
            "(raise it with --max-memory-gb)"
        )
        raise InputError(msg)
    return shape  # type: ignore[return-value]


def _unread_bytes(x: h5py.HLObject, rows: np.ndarray) -> int:
    """Bytes of the matrix node ``x`` that reading only ``rows`` leaves on disk."""
    if isinstance(x, h5py.Dataset):
        n_obs = int(x.shape[0]) if x.ndim else 0
        return (n_obs - len(rows)) * (x.size // max(n_obs, 1)) * x.dtype.itemsize
    if _encoding(x) != "csr_matrix":
        return 0  # read whole, then subset (see _read_rows)
    indptr = x["indptr"][:]
    unread = int(indptr[-1]) - int(np.diff(indptr)[rows].sum())
    return unread * (x["data"].dtype.itemsize + x["indices"].dtype.itemsize)


def _children(f: h5py.File, group: str) -> list[h5py.HLObject]:
    """The nodes of ``f[group]`` (none when it is absent)."""
    node = f.get(group)
    return list(node.values()) if isinstance(node, h5py.Group) else []


def _encoding(node: h5py.HLObject) -> str:
    """anndata's ``encoding-type`` of an HDF5 node (``""`` when it has none)."""
    value = node.attrs.get("encoding-type", "")
    return value.decode() if isinstance(value, bytes) else str(value)


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


def read_h5ad(
    path: str | os.PathLike,
    *,
    max_bytes: int | None = None,
    keep_sparse: bool = False,
    dense_rows: int | None = None,
    layer: str | None = None,
    use_raw: bool = False,
    rows: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> ad.AnnData:
    """Read an ``.h5ad`` file after checking its size and type.

    Parameters
    ----------
    path
        The file.
    max_bytes, keep_sparse, dense_rows
        See :func:`check_h5ad_size`: by default a sparse matrix counts as
        the dense float32 matrix the steps make of it.
    layer, use_raw
        The data matrix is ``layers[layer]`` (``X`` may then be absent) or
        ``raw.X``, instead of ``X``: it is the one checked and counted.
    rows
        Given the file's ``obs``, the row indices the caller uses: only they
        are read (``X``, ``obs``, ``obsm``, ``layers``; a CSR matrix a block
        of rows at a time, so an atlas's other rows never reach memory), and
        the result holds them in file order. ``var``, ``varm`` and ``uns``
        are read whole. Not with ``layer`` or ``use_raw``.

    Raises
    ------
    InputError
        A missing, unreadable, truncated or non-AnnData file; a data matrix
        that is absent, empty, not numeric (or, for ``X``, not finite), or
        too large for memory; duplicate obs or var names.
    """
    path = Path(path)
    check_input(path, what="AnnData file")
    key = path.resolve()
    if rows is not None and key not in _SHARED:
        return _read_rows(
            path, rows, max_bytes=max_bytes, keep_sparse=keep_sparse, dense_rows=dense_rows
        )
    options = {
        "max_bytes": max_bytes,
        "keep_sparse": keep_sparse,
        "dense_rows": dense_rows,
        "layer": layer,
        "use_raw": use_raw,
    }
    if key in _SHARED and layer is None and not use_raw:
        if _SHARED[key] is None:
            _SHARED[key] = _read_checked(path, **options)
        whole = _SHARED[key]
        if rows is None:
            return whole.copy()
        # A batch's shared file: read whole once, each run given its rows.
        return _subset(whole, np.unique(np.asarray(rows(whole.obs), dtype=np.int64)))
    return _read_checked(path, **options)


def _read_checked(
    path: Path,
    *,
    max_bytes: int | None,
    keep_sparse: bool,
    dense_rows: int | None,
    layer: str | None,
    use_raw: bool,
) -> ad.AnnData:
    """:func:`read_h5ad` without the shared-read cache."""
    check_h5ad_size(
        path,
        max_bytes=max_bytes,
        keep_sparse=keep_sparse,
        dense_rows=dense_rows,
        layer=layer,
        use_raw=use_raw,
    )
    try:
        with warnings.catch_warnings():
            # Duplicate names are refused below, in one line: not warned about first.
            warnings.filterwarnings(
                "ignore", message=".* names are not unique", category=UserWarning
            )
            adata = ad.read_h5ad(path)
    except Exception as exc:  # anndata raises many types for corrupt files
        msg = f"{path}: cannot be read as AnnData ({exc.__class__.__name__}: {exc})"
        raise InputError(msg.splitlines()[0]) from None
    if layer is None and not use_raw:
        check_matrix(adata, where=str(path))
        return adata
    x, var_names = (adata.raw.X, adata.raw.var_names) if use_raw else (adata.layers[layer], None)
    if adata.n_obs == 0 or x.shape[1] == 0:
        msg = f"{path}: empty matrix ({_matrix_name(layer, use_raw=use_raw)} has shape {x.shape})"
        raise InputError(msg)
    for axis, names in (("obs", adata.obs_names), ("var", var_names)):
        if names is not None and not names.is_unique:
            msg = f"{path}: duplicate {axis} name {names[names.duplicated()][0]!r}"
            raise InputError(msg)
    return adata


#: Stored values read per block by :func:`_csr_rows` (32 Mi: 256 MiB of
#: float32 data and int32 indices, beside the rows kept).
READ_BLOCK = 1 << 25


def _read_rows(
    path: Path,
    select: Callable[[pd.DataFrame], np.ndarray],
    *,
    max_bytes: int | None,
    keep_sparse: bool,
    dense_rows: int | None,
) -> ad.AnnData:
    """:func:`read_h5ad` of the rows ``select`` picks from the file's ``obs``."""
    from anndata.io import read_elem

    try:
        with h5py.File(path, "r") as f:
            obs = read_elem(f["obs"])
    except (OSError, KeyError) as exc:
        msg = f"{path}: cannot be read as AnnData ({exc.__class__.__name__}: {exc})"
        raise InputError(msg.splitlines()[0]) from None
    rows = np.unique(np.asarray(select(obs), dtype=np.int64))
    check_h5ad_size(
        path, max_bytes=max_bytes, keep_sparse=keep_sparse, dense_rows=dense_rows, rows=rows
    )
    try:
        with h5py.File(path, "r") as f:
            parts = {
                "X": _node_rows(f["X"], rows),
                "obs": obs.iloc[rows],
                **{k: read_elem(f[k]) for k in ("var", "uns", "varm") if k in f},
            }
            for name in ("obsm", "layers"):
                if name in f:
                    parts[name] = {k: _node_rows(v, rows) for k, v in f[name].items()}
            if len(f.get("obsp", ())) or "raw" in f:
                # Rare in prepared files: read whole, then subset.
                whole = ad.read_h5ad(path)[rows]
                parts.update(obsp=dict(whole.obsp), raw=whole.raw)
    except InputError:
        raise
    except Exception as exc:  # anndata and h5py raise many types for corrupt files
        msg = f"{path}: cannot be read as AnnData ({exc.__class__.__name__}: {exc})"
        raise InputError(msg.splitlines()[0]) from None
    adata = ad.AnnData(**parts)
    check_matrix(adata, where=str(path))
    return adata


def _subset(adata: ad.AnnData, rows: np.ndarray) -> ad.AnnData:
    """``rows`` of an in-memory AnnData as :func:`_read_rows` gives them (every
    category kept, no view)."""
    return ad.AnnData(
        X=adata.X[rows],
        obs=adata.obs.iloc[rows],
        var=adata.var.copy(),
        uns=copy.deepcopy(adata.uns),
        obsm={k: v[rows] for k, v in adata.obsm.items()},
        varm={k: v.copy() for k, v in adata.varm.items()},
        layers={k: v[rows] for k, v in adata.layers.items()},
    )


def _node_rows(node: h5py.HLObject, rows: np.ndarray) -> Any:
    """Rows ``rows`` (sorted) of an anndata matrix node: CSR streamed, others read whole."""
    from anndata.io import read_elem

    if isinstance(node, h5py.Group) and _encoding(node) == "csr_matrix":
        return _csr_rows(node, rows)
    if isinstance(node, h5py.Dataset) and node.ndim == 2:
        # Blocks of consecutive rows: h5py's point selection of many rows is slow.
        out = np.empty((len(rows), node.shape[1]), dtype=node.dtype)
        at = 0
        for block in row_blocks(node.shape[0], node.shape[1]):
            kept = rows[(rows >= block.start) & (rows < block.stop)] - block.start
            if len(kept):
                out[at : at + len(kept)] = node[block][kept]
                at += len(kept)
        return out
    value = read_elem(node)
    return value.iloc[rows] if isinstance(value, pd.DataFrame) else value[rows]


def _csr_rows(group: h5py.Group, rows: np.ndarray) -> sp.csr_matrix:
    """Rows ``rows`` (sorted) of an HDF5 CSR matrix, read :data:`READ_BLOCK` values at a time.

    Peak memory: the kept rows plus one block, whatever the matrix's size.
    """
    n_obs, n_vars = (int(s) for s in group.attrs["shape"])
    indptr = group["indptr"][:].astype(np.int64)
    lengths = np.diff(indptr)
    out_ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths[rows], out=out_ptr[1:])
    data = np.empty(int(out_ptr[-1]), dtype=group["data"].dtype)
    indices = np.empty(int(out_ptr[-1]), dtype=group["indices"].dtype)
    wanted = np.zeros(n_obs, dtype=bool)
    wanted[rows] = True
    at = 0
    for block in stored_blocks(indptr, max_stored=READ_BLOCK):
        keep = np.repeat(wanted[block], lengths[block])
        n = int(np.count_nonzero(keep))
        if n:
            lo, hi = int(indptr[block.start]), int(indptr[block.stop])
            data[at : at + n] = group["data"][lo:hi][keep]
            indices[at : at + n] = group["indices"][lo:hi][keep]
            at += n
    if out_ptr[-1] < np.iinfo(np.int32).max and indices.dtype == np.int32:
        out_ptr = out_ptr.astype(np.int32)
    return sp.csr_matrix((data, indices, out_ptr), shape=(len(rows), n_vars))


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
    An existing ``path`` must be a regular file: a folder, device, FIFO or
    socket is refused (:class:`InputError`), never replaced.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path()
    if path.exists() and not path.is_file():
        msg = f"{path}: not a regular file (a folder, device, FIFO or socket); not replacing it"
        raise InputError(msg)
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


@contextlib.contextmanager
def atomic_paths(*paths: str | os.PathLike) -> Iterator[tuple[Path, ...]]:
    """:func:`atomic_path` for several outputs: all of them are written, or none.

    Yields one temporary path per path, in order. Only when the block ends
    without an exception are they renamed to ``paths``; on any exception
    every temporary file is removed and no path is touched. Steps with
    several outputs write them through this, so that a failure in a later
    one never leaves the earlier ones behind.
    """
    with contextlib.ExitStack() as stack:
        yield tuple(stack.enter_context(atomic_path(path)) for path in paths)


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
