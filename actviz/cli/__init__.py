"""The command line: a thin Typer layer over the library (``actviz.cli.app:main``)."""
