"""Reports of the registry: functions that turn data into rows, and renderers.

``property_rows`` and ``show_data`` return plain data; ``render_*`` and
``print_*`` turn it into Rich tables, Markdown, CSV or JSON.  Nothing here
decides what is true: that is the registry's declarations and the audit's
measurements.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from actviz.core.formatting import format_param, single_line
from actviz.core.properties import DEFINITIONS, KEYS, Interval, format_value, jsonable
from actviz.core.registry import Activation, params_json

#: short column headers for the terminal table (the legend explains each one shown)
SHORT = {
    "range": "range",
    "derivative_range": "f′ range",
    "monotonic": "mono",
    "continuity": "C^k",
    "derivative_monotonic": "f′mono",
    "identity_at_origin": "id@0",
    "symmetry": "sym",
    "zero_centered": "0-c",
    "saturation": "sat",
    "vanishing_gradient": "vg",
    "exploding_gradient": "eg",
    "dead_neurons": "dead",
}
#: the autograd check's column header
AD_ERR = "AD err"
#: what each column header of the terminal table means
LEGEND = {
    "range": "values f takes",
    "f′ range": "values f′ takes",
    "mono": "monotonic",
    "C^k": "continuity (-1 = jumps)",
    "f′mono": "f′ monotonic",
    "id@0": "identity at origin",
    "sym": "symmetry",
    "0-c": "zero-centred",
    "sat": "saturating side(s)",
    "vg": "vanishing gradient",
    "eg": "exploding gradient",
    "dead": "f′ = 0 on a half-line",
    AD_ERR: "max |analytic f′ − autograd f′| (float64)",
}


def property_rows(acts: Sequence[Activation]) -> list[dict[str, Any]]:
    """One dict per activation: name, aliases, params, the twelve properties, autograd_max_error.

    Property values are Python objects (:class:`Interval`, bool, str, int).
    A broken (plugin) activation gets a row too, with ``broken`` saying what is wrong, its
    properties None and its autograd error NaN; the other rows are unaffected.
    """
    from actviz.facts.audit import BrokenActivation, autograd_max_error, check_contract, properties_of

    rows = []
    for act in acts:
        row: dict[str, Any] = {
            "name": act.name,
            "label": act.label,
            "aliases": list(act.spec.aliases),
            "params": params_json(act),
        }
        try:
            check_contract(act)
        except BrokenActivation as exc:
            row.update({key: None for key in KEYS}, autograd_max_error=math.nan, broken=exc.problem)
            rows.append(row)
            continue
        row.update(properties_of(act).as_dict())
        row["autograd_max_error"] = autograd_max_error(act)
        rows.append(row)
    return rows


def rows_json(rows: list[dict[str, Any]]) -> str:
    """The ``table --format json`` document: a list with one object per row of :func:`property_rows`.

    Each object holds ``name``, ``aliases``, ``params`` (the parameter values bound), the
    twelve properties under their :data:`~actviz.core.properties.KEYS` and
    ``autograd_max_error``, as :func:`~actviz.core.properties.jsonable` writes them: an
    interval as ``[low, high, low_closed, high_closed]``, an unbounded end, an infinite
    or NaN number as the string ``"inf"``, ``"-inf"`` or ``"nan"``.  A broken activation's
    object adds ``broken`` (what is wrong) and has null properties.  Indented by 2, not
    ASCII-escaped.
    """
    out = []
    for row in rows:
        item = {k: jsonable(v) for k, v in row.items() if k != "label"}
        out.append(item)
    return json.dumps(out, indent=2, ensure_ascii=False)


def rows_csv(rows: list[dict[str, Any]]) -> str:
    """CSV with full-precision numbers and ASCII intervals such as ``[0.0, inf)``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["name", "params", *KEYS, "autograd_max_error"])
    for row in rows:
        cells = []
        for key in KEYS:
            v = row[key]
            cells.append(v.as_text() if isinstance(v, Interval) else v)
        params = ";".join(f"{k}={_param_text(v)}" for k, v in row["params"].items())
        writer.writerow([single_line(c) if isinstance(c, str) else c
                         for c in (row["name"], params, *cells, f"{row['autograd_max_error']:.3g}")])
    return buf.getvalue()


def _param_text(v: Any) -> str:
    return format_param(v)


def rows_markdown(rows: list[dict[str, Any]]) -> str:
    """A GitHub-flavoured Markdown table (intervals with ∞, booleans yes/no)."""
    header = ["activation", *KEYS, "autograd max error"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        if row.get("broken"):
            cells = [f"`{row['label']}`", f"broken: {row['broken']}", *("—" for _ in KEYS[1:]), "—"]
        else:
            cells = [f"`{row['label']}`", *(format_value(row[k]) for k in KEYS), _err(row["autograd_max_error"])]
        lines.append("| " + " | ".join(single_line(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _err(e: float) -> str:
    return f"{e:.1e}" if e > 0 else "0"


def table_markdown(acts: Sequence[Activation]) -> str:
    """The property table of ``acts`` as Markdown (used by the gallery's index)."""
    return rows_markdown(property_rows(acts))


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return "[green]✓[/green]" if v else "[dim]·[/dim]"
    return format_value(v)


def _columns() -> list[tuple[str, str | None]]:
    """The terminal table's columns after the activation: (header, property key or None for the autograd error)."""
    return [(SHORT[k], k) for k in KEYS] + [(AD_ERR, None)]


def _parts(n: int) -> list[list[tuple[str, str | None]]]:
    """The columns dealt in order into ``n`` parts of equal share of the properties; the autograd error last."""
    columns = _columns()
    size = -(-len(KEYS) // n)
    parts = [columns[i:i + size] for i in range(0, len(KEYS), size)]
    parts[-1].append(columns[-1])
    return parts


def _rich_part(rows: list[dict[str, Any]], columns: Sequence[tuple[str, str | None]]) -> Any:
    """One Rich table: the activation and ``columns`` (a part of :func:`_columns`); no cell wraps."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=0, header_style="bold")
    table.add_column("activation", style="bold cyan", no_wrap=True)
    for header, key in columns:
        justify = "right" if key is None else "left" if key in ("range", "derivative_range") else "center"
        table.add_column(header, justify=justify, no_wrap=True)
    for row in rows:
        cells = []
        for i, (_, key) in enumerate(columns):
            if row.get("broken"):
                cells.append("[red]broken[/red]" if i == 0 else "—")
            elif key is None:
                err = row["autograd_max_error"]
                cells.append(f"{err:.0e}" if err > 0 else "0")
            else:
                cells.append(_cell(row[key]))
        table.add_row(row["label"], *cells)
    return table


def rows_rich(rows: list[dict[str, Any]], width: int = 200) -> list[Any]:
    """The terminal table in as few stacked Rich tables as fit ``width`` columns with no cell wrapped.

    One table where it fits (about 100 columns); otherwise the properties are dealt, in
    order, into two (at 80 columns: six each) or more tables of equal share, each
    repeating the activation column; the autograd error ends the last.
    """
    from rich.console import Console

    measure = Console(width=max(width, 1000)).measure
    for n in range(1, len(KEYS) + 1):
        tables = [_rich_part(rows, part) for part in _parts(n)]
        if all(measure(t).maximum <= width for t in tables):
            break
    return tables


def legend_lines(headers: Sequence[str], width: int) -> list[str]:
    """The legend of the columns ``headers``, one entry per column, packed into lines of ``width``; no entry split."""
    entries = ["✓ yes", "· no", *(f"{h}: {LEGEND[h]}" for h in headers),
               "A bracket means the end is attained.", "'actviz show NAME' gives the definitions."]
    from rich.cells import cell_len

    lines: list[str] = []
    for entry in entries:
        if lines and cell_len(lines[-1]) + 2 + cell_len(entry) <= width:
            lines[-1] += "  " + entry
        else:
            lines.append(entry)
    return lines


def render_table(rows: list[dict[str, Any]], fmt: str) -> str | None:
    """Text for markdown/csv/json; ``None`` for rich (printed by :func:`print_table`)."""
    if fmt == "json":
        return rows_json(rows)
    if fmt == "csv":
        return rows_csv(rows)
    if fmt == "markdown":
        return rows_markdown(rows)
    return None


def print_table(rows: list[dict[str, Any]], fmt: str) -> None:
    text = render_table(rows, fmt)
    if text is not None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    from rich.console import Console

    console = Console()
    for table in rows_rich(rows, console.width):
        console.print(table)
    for line in legend_lines([h for h, _ in _columns()], console.width):
        console.print(line, style="dim", highlight=False, soft_wrap=True)


# --------------------------------------------------------------------------- list


def print_list(fmt: str) -> None:
    from actviz.core import registry

    specs = registry.specs()
    if fmt == "json":
        rows = [
            {"name": s.name, "aliases": list(s.aliases), "formula": Activation(s).formula,
             "params": {p.name: jsonable(p.default) for p in s.params}, "summary": s.summary}
            for s in specs
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(specs)} registered activations", title_justify="left")
    table.add_column("name", style="bold cyan", no_wrap=True)
    table.add_column("aliases")
    table.add_column("formula")
    for s in specs:
        table.add_row(s.name, ", ".join(s.aliases), Activation(s).formula)
    Console().print(table)


# --------------------------------------------------------------------------- show


def show_data(act: Activation) -> dict[str, Any]:
    """Everything about one activation at its parameters, with the audit's results."""
    from actviz.facts.audit import audit, derivative_points

    result = audit(act)
    spec = act.spec
    return {
        "name": act.name,
        "label": act.label,
        "aliases": list(spec.aliases),
        "summary": spec.summary,
        "formula": act.formula,
        "latex": spec.latex,
        "derivative_formula": act.derivative_formula,
        "reference": spec.reference,
        "kind": spec.kind,
        "params": [
            {"name": p.name, "value": jsonable(act.params[p.name]), "default": jsonable(p.default),
             "doc": p.doc, "learnable": p.learnable}
            for p in spec.params
        ],
        "kinks": [{"x": k.x, "derivative": k.derivative} for k in act.kinks],
        "declared": act.declares_properties,
        "properties": result.declared,
        "measured": result.measured,
        "autograd_max_error": result.autograd_max_error,
        "autograd_points": int(len(derivative_points(act))),
        "findings": [f.message for f in result.findings],
    }


def show_json(data: dict[str, Any]) -> str:
    out = dict(data)
    out["properties"] = data["properties"].to_json()
    out["measured"] = data["measured"].to_json()
    return json.dumps(out, indent=2, ensure_ascii=False)


def print_show(data: dict[str, Any]) -> None:
    from rich.console import Console, Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = Console()
    head = Text()
    head.append(data["label"], style="bold cyan")
    if data["aliases"]:
        head.append(f"  (also {', '.join(data['aliases'])})", style="dim")
    lines: list[Any] = [head]
    if data["summary"]:
        lines.append(Text(data["summary"]))
    lines.append(Text.assemble(("f(x):  ", "bold"), data["formula"]))
    if data["derivative_formula"]:
        lines.append(Text.assemble(("f′(x): ", "bold"), data["derivative_formula"]))
    if data["reference"]:
        lines.append(Text.assemble(("ref:   ", "bold"), (data["reference"], "italic")))
    console.print(Panel(Group(*lines), expand=False))

    if data["params"]:
        pt = Table(title="parameters", title_justify="left", show_edge=False)
        for col in ("name", "value", "default", "meaning"):
            pt.add_column(col)
        for p in data["params"]:
            doc = p["doc"] + (" (learned in training)" if p["learnable"] else "")
            pt.add_row(p["name"], _param_text(p["value"]), _param_text(p["default"]), doc)
        console.print(pt)
    if data["kinks"]:
        kinks = ", ".join(f"f′({k['x']:.6g}) = {k['derivative']:.6g}" for k in data["kinks"])
        console.print(f"[bold]not differentiable at[/bold] {len(data['kinks'])} point(s); value used: {kinks}")
    else:
        console.print("[bold]differentiable everywhere[/bold]")

    props, measured = data["properties"], data["measured"]
    t = Table(title="properties" + ("" if data["declared"] else " (none declared: measured)"),
              title_justify="left", show_edge=False)
    wide = console.width >= 90
    t.add_column("property", style="bold", no_wrap=True)
    t.add_column("declared")
    t.add_column("measured")
    t.add_column("", justify="center")
    if wide:
        t.add_column("meaning", style="dim", overflow="fold")
    from actviz.facts.audit import compare

    bad = {f.key for f in compare(props, measured, data["name"])}
    for key in KEYS:
        mark = "[red]✗[/red]" if key in bad else "[green]✓[/green]"
        cells = [key, format_value(getattr(props, key)), format_value(getattr(measured, key)), mark]
        if not data["declared"]:  # nothing to compare: the measurement is all there is
            cells[1], cells[3] = "[dim]not declared[/dim]", ""
        t.add_row(*cells, *([DEFINITIONS[key]] if wide else []))
    console.print(t)
    err = data["autograd_max_error"]
    ok = not any(m.startswith("analytic") for m in data["findings"])
    verdict = "[green]agrees[/green]" if ok else "[red]DISAGREES[/red]"
    console.print(
        f"[bold]autograd check[/bold]: analytic f′ {verdict} with autograd in float64 at "
        f"{data['autograd_points']} points (kinks and |x| = 1e4 included): max |Δ| = {err:.2g}"
    )
    for message in data["findings"]:
        console.print(f"[red]✗ {message}[/red]")


# --------------------------------------------------------------------------- check


def print_check(audits: Sequence[Any], fmt: str) -> None:
    findings = [f for a in audits for f in a.findings]
    if fmt == "json":
        doc = {
            "ok": not findings,
            "checked": [
                {"name": a.act.name, "label": a.act.label, "params": params_json(a.act),
                 "autograd_max_error": jsonable(a.autograd_max_error), "ok": a.ok,
                 **({"broken": a.broken} if getattr(a, "broken", None) else {})}
                for a in audits
            ],
            "disagreements": [f.to_json() for f in findings],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("activation", style="cyan")
    table.add_column("properties", justify="center")
    table.add_column("autograd max err", justify="right")
    table.add_column("status")
    for a in audits:
        if getattr(a, "broken", None):
            table.add_row(a.act.label, "—", "—", "[red]broken[/red]")
            continue
        n_prop = sum(1 for f in a.findings if f.key in KEYS)
        props = "12/12" if a.act.declares_properties else "measured"
        if n_prop:
            props = f"[red]{12 - n_prop}/12[/red]"
        status = "[green]ok[/green]" if a.ok else f"[red]{len(a.findings)} disagreement(s)[/red]"
        table.add_row(a.act.label, props, f"{a.autograd_max_error:.1e}", status)
    console.print(table)
    for f in findings:
        what = "broken" if f.key == "contract" else ""
        console.print(f"[red]✗[/red] {f.name}: {what + ': ' if what else ''}{f.message}")
    n_broken = sum(1 for a in audits if getattr(a, "broken", None))
    findings = [f for f in findings if f.key != "contract"]
    if n_broken:
        console.print(f"[bold red]{n_broken} of {len(audits)} activation(s) broken[/bold red] "
                      "(they could not be checked)")
    if findings:
        n = len({f.name for f in findings})
        console.print(f"[bold red]{len(findings)} disagreement(s) in {n} of {len(audits)} activation(s)[/bold red]")
    elif n_broken:
        pass
    else:
        who = f"all {len(audits)} activations agree" if len(audits) > 1 else f"{audits[0].act.label} agrees"
        console.print(
            f"[bold green]{who}[/bold green]: declared properties match "
            "their measurement, and analytic derivatives match autograd"
        )
