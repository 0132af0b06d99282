"""Exceptions that the command line turns into one line on stderr.

Library code raises these with a message meant for a person; the CLI prints
``error: <message>`` and exits with :attr:`ActvizError.exit_code`.
"""

from __future__ import annotations


class ActvizError(Exception):
    """A failure while running (exit code 1)."""

    exit_code = 1


class UsageError(ActvizError, ValueError):
    """A wrong invocation: unknown name, parameter or value (exit code 2)."""

    exit_code = 2


class UnknownActivationError(UsageError, KeyError):
    """No activation of that name is registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(ActvizError):
    """The data set is missing, corrupt or cannot be fetched (exit code 1)."""
