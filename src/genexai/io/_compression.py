"""Opening text files that may be compressed, recognised by content, not by name.

The pipeline stages every input under a fixed name (``input.data``), so the
compression (gzip, bzip2, xz) is read from the magic bytes.
"""

from __future__ import annotations

import bz2
import contextlib
import errno
import gzip
import io as _stdio
import lzma
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from ..errors import InputError

#: Compression name, magic bytes and the decompressing reader they call for.
_COMPRESSED: tuple[tuple[str, bytes, Callable[[BinaryIO], BinaryIO]], ...] = (
    ("gzip", b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw)),
    ("bzip2", b"BZh", lambda raw: bz2.BZ2File(raw)),
    ("xz", b"\xfd7zXZ\x00", lambda raw: lzma.LZMAFile(raw)),
)


def check_input(path: Path, *, what: str, folder: bool = False) -> None:
    """Refuse an input path that cannot be read as ``what``, saying why.

    Parameters
    ----------
    path
        The input.
    what
        What it should be (``"labels table"``), for the messages.
    folder
        ``path`` must be a folder (else a regular file).

    Raises
    ------
    InputError
        Nothing there; a broken symbolic link or a loop of them; a folder
        where a file is expected (or the reverse); a device, FIFO or socket;
        no permission to read it.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            msg = f"{path}: a loop of symbolic links ({what})"
        elif os.path.islink(path):
            msg = f"{path}: a broken symbolic link to {os.readlink(path)!r} ({what})"
        elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
            msg = f"{path}: no such file ({what})"
        elif exc.errno == errno.EACCES:
            msg = f"{path}: permission denied ({what})"
        else:
            msg = f"{path}: cannot be read ({what}: {exc.strerror})"
        raise InputError(msg) from None
    if folder:
        if not stat.S_ISDIR(info.st_mode):
            msg = f"{path}: expected a folder of {what} files, found a file"
            raise InputError(msg)
        kind = None
    elif stat.S_ISDIR(info.st_mode):
        kind = "is a folder, not a file"
    elif not stat.S_ISREG(info.st_mode):
        kind = "is a device, FIFO or socket, not a regular file"
    else:
        kind = None
    if kind is not None:
        msg = f"{path}: {kind} ({what})"
        raise InputError(msg)
    if not os.access(path, os.R_OK | (os.X_OK if folder else 0)):
        msg = f"{path}: permission denied ({what})"
        raise InputError(msg)


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
        The file cannot be read (:func:`check_input`), or is a zip/Excel or
        HDF5 file; or, while the caller reads, it cannot be decoded (not
        UTF-8 text) or decompressed (a truncated or corrupt archive).
    """
    check_input(path, what=what)
    with open(path, "rb") as raw:
        head = raw.read(8)
        raw.seek(0)
        if head.startswith(b"PK\x03\x04"):
            msg = f"{path}: is a zip/Excel file, expected a tab- or comma-separated {what}"
            raise InputError(msg)
        if head.startswith(b"\x89HDF"):
            msg = f"{path}: is an HDF5 (.h5ad) file, expected a text {what} (format h5ad?)"
            raise InputError(msg)
        found = next(
            ((name, open_) for name, magic, open_ in _COMPRESSED if head.startswith(magic)), None
        )
        stream = found[1](raw) if found else raw
        text = _stdio.TextIOWrapper(stream, encoding="utf-8-sig")
        try:
            yield text, raw
        except UnicodeDecodeError as exc:
            byte = exc.object[exc.start : exc.start + 1].hex()
            msg = f"{path}: not UTF-8 text (byte 0x{byte}), expected a text {what}"
            raise InputError(msg) from None
        except (EOFError, OSError, lzma.LZMAError, zlib.error):
            kind = f"{found[0]} data" if found else "file (read error)"
            msg = f"{path}: truncated or corrupt {kind}, expected a text {what}"
            raise InputError(msg) from None
