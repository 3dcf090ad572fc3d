"""Errors a user can cause and fix. Entry points print them as one line, no traceback."""


class NasError(ValueError):
    """Base class: bad input from the user (an architecture, a config, a file)."""


class ArchParseError(NasError):
    """An architecture string or JSON that cannot be decoded."""


class NotInSpaceError(NasError):
    """An architecture that a search space cannot express."""
