"""The registry's commands: ``actviz list``, ``show``, ``table`` and ``check``.

Importing this module is cheap: the renderers (and torch through them) are imported
inside the commands.
"""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from actviz.cli.options import (DefineOpt, Format, FormatOpt, ParamOpt, ShowFormat, TableFormatOpt,
                                 ShowFormatAll, param_option)
from actviz.core.errors import ActvizError


def resolve(names: Optional[List[str]], params: Optional[List[str]]) -> list:
    """Activations for NAME... (all when none) with ``NAME.KEY=VALUE`` overrides applied."""
    from actviz.core import registry

    return registry.bind_all(names or registry.names(), params or [],
                             role="among the activations asked for")


def list_cmd(format: FormatOpt = ShowFormat.rich, define: DefineOpt = None) -> None:  # noqa: ARG001
    """List the registered activations with their aliases and formulas."""
    from actviz.render import tables

    tables.print_list(format.value)


def show_cmd(
    name: Annotated[str, typer.Argument(help="Activation name or alias (case and -/_ forgiven).")],
    param: Annotated[Optional[List[str]],
                     param_option("Parameter value, e.g. alpha=2 (repeatable).", metavar="KEY=VALUE")] = None,
    format: Annotated[ShowFormatAll, typer.Option(
        "--format", "-f", help="rich or json; with --symbolic also markdown or latex.")] = ShowFormatAll.rich,
    symbolic: Annotated[bool, typer.Option(
        "--symbolic", help="The symbolic card: f, f′, f″ in closed form, Taylor series, limits, fixed points, "
        "extrema of f′, and which declared properties sympy confirms.")] = False,
    define: DefineOpt = None,  # noqa: ARG001 - registered by its callback
) -> None:
    """Show one activation: formula, derivative, parameters, kinks, properties, autograd check."""
    from actviz.core import registry
    from actviz.core.errors import UsageError

    texts = registry.parse_assignments(param or [], qualified=False).get("", {})
    act = registry.bind(name, texts)
    if symbolic:
        if not act.symbolic:
            raise UsageError(f"{act.name} has no symbolic form (its record gives none)")
        from actviz.facts.card import card
        from actviz.render.cards import RENDERERS

        typer.echo(RENDERERS[format.value](card(act)), nl=False)
        return
    if format in (ShowFormatAll.markdown, ShowFormatAll.latex):
        raise UsageError(f"--format {format.value} needs --symbolic (show prints rich or json)")
    from actviz.render import tables

    data = tables.show_data(act)
    if format is ShowFormatAll.json:
        print(tables.show_json(data))
    else:
        tables.print_show(data)


def table_cmd(
    names: Annotated[Optional[List[str]], typer.Argument(help="Activations to include (default: all).")] = None,
    param: ParamOpt = None,
    format: TableFormatOpt = Format.rich,
    define: DefineOpt = None,  # noqa: ARG001 - registered by its callback
) -> None:
    """The property report: the twelve properties and the autograd error of every (or each named) activation."""
    from actviz.render import tables

    rows = tables.property_rows(resolve(names, param))
    tables.print_table(rows, format.value)
    broken = [row for row in rows if row.get("broken")]
    if broken:  # listed in the table; the exit code and one line say so too
        raise ActvizError("; ".join(f"activation {row['label']!r} is broken: {row['broken']}" for row in broken))


def check_cmd(
    names: Annotated[Optional[List[str]], typer.Argument(help="Activations to check (default: all).")] = None,
    param: ParamOpt = None,
    format: FormatOpt = ShowFormat.rich,
    define: DefineOpt = None,  # noqa: ARG001 - registered by its callback
) -> None:
    """Re-derive every property numerically and compare f′ with autograd; exit 1 on any disagreement."""
    from actviz.facts.audit import audit_all
    from actviz.render import tables

    audits = audit_all(resolve(names, param))  # a broken plugin is listed as broken; the others still checked
    tables.print_check(audits, format.value)
    if any(not a.ok for a in audits):
        raise typer.Exit(1)


__all__ = ["check_cmd", "list_cmd", "resolve", "show_cmd", "table_cmd"]
