"""The version of actviz, readable without importing the package root (``from actviz._version import __version__``)."""

__version__ = "0.1.0"
