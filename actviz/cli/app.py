"""The ``actviz`` command line: a thin Typer layer over the library.

Each command parses its options, calls a library function that returns data,
and hands that data to a renderer.  Heavy imports (torch, matplotlib) happen
inside the commands that need them, so ``actviz --help`` and ``actviz list``
stay fast.

Errors: every :class:`~actviz.core.errors.ActvizError` and every usage error
becomes one line on stderr and an exit code (2 for a wrong invocation, 1 for a
failure while running, 130 for Ctrl-C).  ``ACTVIZ_DEBUG=1`` shows tracebacks.
"""

from __future__ import annotations

import enum
import os
import sys
from typing import Any, List, Optional

import typer
from typer.core import TyperGroup

from actviz.core.errors import ActvizError, UsageError


def _debug() -> bool:
    return os.environ.get("ACTVIZ_DEBUG", "") not in ("", "0")


# Typer >= 0.2x vendors click; its exception classes are reached through the public
# BadParameter (BadParameter -> UsageError -> ClickException), whichever click it uses.
_ClickUsageError = typer.BadParameter.__mro__[1]
_ClickException = typer.BadParameter.__mro__[2]


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)


class _Group(TyperGroup):
    """The root group: turns every error into one line on stderr and an exit code."""

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
        except _ClickUsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(exc.format_message().strip().rstrip(".") + hint, 2)
        except _ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            typer.echo("aborted", err=True)
            sys.exit(130)
        except ActvizError as exc:
            if _debug():
                raise
            _fail(str(exc), exc.exit_code)
        except BrokenPipeError:  # `actviz table | head`
            sys.stderr.close()
            sys.exit(0)
        except Exception as exc:
            if _debug():
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (set ACTVIZ_DEBUG=1 for the traceback)", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=_Group,
    name="actviz",
    help="Analyse neural-network activation functions: formulas, verified derivatives and "
    "properties, plots, and a Fashion-MNIST training benchmark.",
    no_args_is_help=True,
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    """Analyse neural-network activation functions.

    Every command takes activation names case-insensitively, with '-' and '_'
    alike (Hard-Tanh finds hard_tanh).  Register your own activations with
    actviz.register() in a module named by ACTVIZ_PLUGINS.
    """
    if version:
        from actviz import __version__

        typer.echo(f"actviz {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    from actviz.core.registry import load_plugins

    load_plugins()


class Format(str, enum.Enum):
    rich = "rich"
    markdown = "markdown"
    csv = "csv"
    json = "json"


class ShowFormat(str, enum.Enum):
    rich = "rich"
    json = "json"


# --------------------------------------------------------------------------- registry commands


@app.command("list")
def list_cmd(
    format: ShowFormat = typer.Option(ShowFormat.rich, "--format", "-f", help="rich or json."),
) -> None:
    """List the registered activations with their aliases and formulas."""
    from actviz.render import tables

    tables.print_list(format.value)


def resolve(names: Optional[List[str]], params: Optional[List[str]]) -> list:
    """Activations for NAME... (all when none) with ``NAME.KEY=VALUE`` overrides applied."""
    from actviz.core import registry

    return registry.bind_all(names or registry.names(), params or [],
                             role="among the activations asked for")


_PARAM_HELP = "Parameter override NAME.KEY=VALUE, e.g. elu.alpha=2 (repeatable)."


@app.command("show")
def show_cmd(
    name: str = typer.Argument(..., help="Activation name or alias (case and -/_ forgiven)."),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", metavar="KEY=VALUE",
                                              help="Parameter value, e.g. alpha=2 (repeatable)."),
    format: ShowFormat = typer.Option(ShowFormat.rich, "--format", "-f", help="rich or json."),
) -> None:
    """Show one activation: formula, derivative, parameters, kinks, properties, autograd check."""
    from actviz.core import registry
    from actviz.render import tables

    texts = registry.parse_assignments(param or [], qualified=False).get("", {})
    data = tables.show_data(registry.bind(name, texts))
    if format is ShowFormat.json:
        print(tables.show_json(data))
    else:
        tables.print_show(data)


@app.command("table")
def table_cmd(
    names: Optional[List[str]] = typer.Argument(None, help="Activations to include (default: all)."),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", metavar="NAME.KEY=VALUE", help=_PARAM_HELP),
    format: Format = typer.Option(Format.rich, "--format", "-f", help="rich, markdown, csv or json."),
) -> None:
    """The property report: the twelve properties and the autograd error of every (or each named) activation."""
    from actviz.render import tables

    rows = tables.property_rows(resolve(names, param))
    tables.print_table(rows, format.value)


@app.command("check")
def check_cmd(
    names: Optional[List[str]] = typer.Argument(None, help="Activations to check (default: all)."),
    param: Optional[List[str]] = typer.Option(None, "--param", "-p", metavar="NAME.KEY=VALUE", help=_PARAM_HELP),
    format: ShowFormat = typer.Option(ShowFormat.rich, "--format", "-f", help="rich or json."),
) -> None:
    """Re-derive every property numerically and compare f′ with autograd; exit 1 on any disagreement."""
    from actviz.render import tables
    from actviz.facts.audit import audit

    audits = [audit(act) for act in resolve(names, param)]
    tables.print_check(audits, format.value)
    if any(not a.ok for a in audits):
        raise typer.Exit(1)


def _register_subcommands() -> None:
    from actviz.cli import compare as cli_compare
    from actviz.cli import data as cli_data
    from actviz.cli import lesson as cli_lesson
    from actviz.cli import plot as cli_plot
    from actviz.cli import report as cli_report
    from actviz.cli import results as cli_results

    for module in (cli_plot, cli_compare, cli_data, cli_results, cli_lesson, cli_report):
        module.register(app)


_register_subcommands()


def main() -> None:
    """The console-script entry point."""
    app()


__all__ = ["app", "main", "resolve"]
