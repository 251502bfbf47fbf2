"""Exceptions raised on bad input.

Every user-facing error is a :class:`GDPerceptronError`; the CLI turns it into a
one-line message and a non-zero exit status, never a traceback.
"""

from __future__ import annotations


class GDPerceptronError(ValueError):
    """Bad input: unknown names, malformed data, impossible parameters, missing files."""


class DataFileNotFoundError(GDPerceptronError, FileNotFoundError):
    """A data file that a loader needs is not where it was looked for."""
