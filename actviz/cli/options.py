"""Options shared by several commands, as ``Annotated`` aliases (``format: FormatOpt = ShowFormat.rich``).

Importing this module is cheap: Typer and the standard library only.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, List, Optional

import typer


class Format(str, enum.Enum):
    """Output of the property table: a Rich table, Markdown, CSV or JSON."""

    rich = "rich"
    markdown = "markdown"
    csv = "csv"
    json = "json"


class ShowFormat(str, enum.Enum):
    """Output of most commands: a Rich rendering or JSON."""

    rich = "rich"
    json = "json"


class ShowFormatAll(str, enum.Enum):
    """Output of ``show``: Rich or JSON; with ``--symbolic`` also Markdown or LaTeX."""

    rich = "rich"
    json = "json"
    markdown = "markdown"
    latex = "latex"


PARAM_HELP = "Parameter override NAME.KEY=VALUE, e.g. elu.alpha=2 (repeatable)."
DATA_DIR_HELP = (
    "Use this directory and no other (files missing there are downloaded into it). "
    "Default: $ACTVIZ_DATA_DIR, else the user cache, else /usr/share/datasets/fashion-mnist."
)

#: ``--format/-f rich|json``
FormatOpt = Annotated[ShowFormat, typer.Option("--format", "-f", help="rich or json.")]
#: ``--format/-f rich|markdown|csv|json`` (the property table)
TableFormatOpt = Annotated[Format, typer.Option("--format", "-f", help="rich, markdown, csv or json.")]
#: ``--param/-p NAME.KEY=VALUE`` (repeatable): parameter overrides of the activations named
ParamOpt = Annotated[Optional[List[str]],
                     typer.Option("--param", "-p", metavar="NAME.KEY=VALUE", help=PARAM_HELP)]
#: ``--data-dir DIR``: where Fashion-MNIST is, kept as the text given (``''`` is an error, not ``.``)
DataDirOpt = Annotated[Optional[str], typer.Option("--data-dir", metavar="DIR", help=DATA_DIR_HELP)]


DEFINE_HELP = (
    "Define an activation by a formula, NAME=EXPR[; PARAM=DEFAULT], e.g. 'sq=max(0,x)**2' or "
    "'sw=x*sigmoid(b*x); b=1.5' (repeatable; also $ACTVIZ_DEFINE, '|'-separated)."
)


def _define(values: Optional[List[str]]) -> Optional[List[str]]:
    """Register each ``--define`` as it is parsed, before the command looks its names up."""
    if values:
        from actviz.facts.define import define_all

        define_all(values)
    return values


#: ``--define NAME=EXPR`` (repeatable): activations from a formula, registered while the options are parsed
DefineOpt = Annotated[Optional[List[str]],
                      typer.Option("--define", metavar="NAME=EXPR", help=DEFINE_HELP, callback=_define)]


def param_option(help: str, metavar: str = "NAME.KEY=VALUE") -> Any:
    """``--param/-p`` with a command's own help: ``Annotated[List[str], param_option("...")]``."""
    return typer.Option("--param", "-p", metavar=metavar, help=help)


__all__ = ["DATA_DIR_HELP", "DEFINE_HELP", "PARAM_HELP", "DataDirOpt", "DefineOpt", "Format", "FormatOpt", "ParamOpt",
           "ShowFormat", "ShowFormatAll",
           "TableFormatOpt", "param_option"]
