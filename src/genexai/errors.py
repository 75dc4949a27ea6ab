"""The one user-facing error type."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the user: a file, an option or a field.

    The message is one line: where (file, option or field), what was
    expected, and what was found. The bin scripts turn it into
    ``Error: <step>: <message>`` and exit code 2.
    """
