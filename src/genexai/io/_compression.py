"""Opening text files that may be compressed, recognised by content, not by name.

The pipeline stages every input under a fixed name (``input.data``), so the
compression (gzip, bzip2, xz) is read from the magic bytes.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io as _stdio
import lzma
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from ..errors import InputError

#: Magic bytes and the decompressing reader they call for.
_COMPRESSED: tuple[tuple[bytes, Callable[[BinaryIO], BinaryIO]], ...] = (
    (b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw)),
    (b"BZh", lambda raw: bz2.BZ2File(raw)),
    (b"\xfd7zXZ\x00", lambda raw: lzma.LZMAFile(raw)),
)


@contextlib.contextmanager
def open_text(path: Path, *, what: str) -> Iterator[tuple[TextIO, BinaryIO]]:
    """Open a text file, decompressing by magic bytes; yield ``(text, raw handle)``.

    Parameters
    ----------
    path
        The file.
    what
        What the file should be (``"labels table"``), for the messages.

    Yields
    ------
    ``(text, raw)``: the decoded UTF-8 text (a byte-order mark is dropped)
    and the underlying binary file, whose position counts the bytes read
    from disk (for progress).

    Raises
    ------
    InputError
        The file is missing, a folder, a zip/Excel or HDF5 file; or, while
        the caller reads, it cannot be decoded or decompressed.
    """
    if not path.exists():
        msg = f"{path}: no such file ({what})"
        raise InputError(msg)
    if path.is_dir():
        msg = f"{path}: is a folder, expected a {what} file"
        raise InputError(msg)
    with open(path, "rb") as raw:
        head = raw.read(8)
        raw.seek(0)
        if head.startswith(b"PK\x03\x04"):
            msg = f"{path}: is a zip/Excel file, expected a tab- or comma-separated {what}"
            raise InputError(msg)
        if head.startswith(b"\x89HDF"):
            msg = f"{path}: is an HDF5 (.h5ad) file, expected a text {what} (format h5ad?)"
            raise InputError(msg)
        stream = next((open_ for magic, open_ in _COMPRESSED if head.startswith(magic)), None)
        text = _stdio.TextIOWrapper(stream(raw) if stream else raw, encoding="utf-8-sig")
        try:
            yield text, raw
        except (UnicodeDecodeError, EOFError, OSError, lzma.LZMAError, zlib.error) as exc:
            msg = f"{path}: cannot be read as a text {what} ({exc.__class__.__name__})"
            raise InputError(msg) from None
