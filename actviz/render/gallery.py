"""The gallery: a picture per activation, an overview grid and a Markdown index.

>>> from actviz.render.gallery import build_gallery
>>> build_gallery("gallery")        # doctest: +SKIP

Writes into ``out_dir``: ``<name>.png`` (f and f′ with the autograd overlay,
kinks marked) for every activation, ``overview.png`` (small multiples of f
and f′; ``overview-grid.png`` should an activation be called ``overview``) and ``index.md`` (the pictures, each entry's formula, derivative,
parameters, kinks, summary and reference, and the property table of
:func:`actviz.render.tables.table_markdown`).  Every link in ``index.md`` points to a
file written by the same call.  PNGs are written without a timestamp or version,
so regenerating with nothing changed gives identical files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from actviz.core.errors import ActvizError
from actviz.core.files import write_atomic
from actviz.core.formatting import format_param

#: called as progress(done, total, what) while the gallery is built
Progress = Callable[[int, int, str], None]


def _fmt(v: Any) -> str:
    return format_param(v, parens=True)


def _md_escape(text: str) -> str:
    """Escape the characters that Markdown would read as markup in running text."""
    for ch in ("\\", "*", "_", "`", "|", "[", "]", "<", ">"):
        text = text.replace(ch, "\\" + ch)
    return text


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"`` {text} ``"


def _entry_markdown(act: Any, picture: str) -> list[str]:
    spec = act.spec
    lines = [f"## {act.label}", ""]
    if spec.summary:
        lines += [_md_escape(spec.summary), ""]
    if spec.aliases:
        lines += ["Aliases: " + ", ".join(_code(a) for a in spec.aliases), ""]
    lines += [f"- f: {_code(act.formula)}"]
    if spec.latex:
        lines += [f"- LaTeX: $${spec.latex}$$" if "\n" not in spec.latex else "- LaTeX: (multi-line)"]
    if act.derivative_formula:
        lines += [f"- f′: {_code(act.derivative_formula)}"]
    if spec.params:
        lines += ["- parameters: " + "; ".join(
            f"{_code(p.name + '=' + _fmt(act.params[p.name]))}" + (f" ({_md_escape(p.doc)})" if p.doc else "")
            for p in spec.params)]
    kinks = act.kinks
    if kinks:
        lines += ["- not differentiable at: " + ", ".join(
            f"x = {_fmt(float(k.x))} (f′ = {_fmt(float(k.derivative))} there)" for k in kinks)]
    if spec.kind == "maxout":
        lines += ["- in a network: a layer (k linear maps, then the max); the picture is its 1-D unit"]
    if spec.reference:
        lines += [f"- reference: {_md_escape(spec.reference)}"]
    lines += ["", f"![{act.label}: f and f′]({picture})", ""]
    return lines


def build_gallery(
    out_dir: str | os.PathLike[str],
    *,
    acts: Iterable[Any] | None = None,
    progress: Progress | None = None,
    xmin: float | None = None,
    xmax: float | None = None,
) -> list[Path]:
    """Write the gallery into ``out_dir`` (created if needed); returns the paths written.

    ``acts`` are names or :class:`~actviz.core.registry.Activation` objects (default:
    every registered activation).  The last path is ``index.md``.  Without ``xmin``/``xmax``
    each picture has its activation's default range: [−6, 6], widened to hold its kinks.
    """
    import matplotlib

    from actviz.core import registry
    from actviz.facts.audit import check_contract
    from actviz.render.plotting import STYLE, plot_activations, plot_overview, save_figure
    from actviz.render.sampling import resolve_activation

    acts = [resolve_activation(a) for a in (registry.names() if acts is None else acts)]
    if not acts:
        raise ActvizError("no activations to put in the gallery")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from actviz.core.files import os_reason

        raise ActvizError(f"cannot create the gallery directory {str(out)!r}: {os_reason(out, exc)}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ActvizError(f"cannot write into {str(out)!r}: the directory is not writable")

    for act in acts:  # a broken (plugin) activation is named before anything is written
        check_contract(act)
    names = _file_names(acts)
    total = len(acts) + 2
    written: list[Path] = []
    pictures: dict[str, str] = {}
    fig = None
    with matplotlib.rc_context(STYLE):
        for i, act in enumerate(acts):
            if progress:
                progress(i, total, act.label)
            fig = plot_activations([act], derivative=True, xmin=xmin, xmax=xmax, fig=fig)
            written.append(save_figure(fig, out / names[i]))
            pictures[act.label] = names[i]
        if progress:
            progress(len(acts), total, "overview")
        overview = plot_overview(acts, xmin=xmin, xmax=xmax)
        written.append(save_figure(overview, out / names[-1]))
    if progress:
        progress(len(acts) + 1, total, "index")
    index = out / "index.md"
    write_atomic(index, index_markdown(acts, pictures, overview=names[-1]).encode("utf-8"))
    written.append(index)
    if progress:
        progress(total, total, "done")
    return written


def _file_stem(act: Any) -> str:
    """``gelu``; with non-default parameters (or odd characters) a file-name-safe form of the label."""
    safe = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in act.label)
    return safe.strip("_.") or "activation"


def _file_names(acts: list[Any]) -> list[str]:
    """A distinct ``.png`` name per activation, then one for the overview grid (last).

    Activations keep ``<name>.png``; the grid is ``overview.png`` unless an activation
    took that name (a plugin called ``overview``), then ``overview-grid.png`` and so on.
    Names are compared case-insensitively (macOS and Windows file systems).
    """
    taken: set[str] = {"index.md"}
    names = []

    def claim(stem: str) -> str:
        candidate, n = f"{stem}.png", 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{stem}-{n}.png"
        taken.add(candidate.lower())
        return candidate

    for act in acts:
        names.append(claim(_file_stem(act)[:120]))
    grid = "overview.png" if "overview.png" not in taken else claim("overview-grid")
    taken.add(grid)
    names.append(grid)
    return names


def index_markdown(acts: list[Any], pictures: dict[str, str], *, overview: str = "overview.png") -> str:
    """The text of ``index.md``: links only to ``overview`` and the values of ``pictures``."""
    from actviz.render import tables

    lines = [
        "# actviz gallery",
        "",
        f"{len(acts)} activation functions: each picture shows f (left) and its derivative f′ (right), "
        "the analytic f′ as a line with the autograd f′ (float64) overlaid as crosses. "
        "Filled circles mark the points where f is not differentiable, at the value of f′ used there "
        "(PyTorch's conventions); open circles are the one-sided limits where f′ jumps. "
        "Generated by `actviz gallery`; do not edit by hand.",
        "",
        "## Overview",
        "",
        f"![f and f′ of every activation]({overview})",
        "",
        "## Properties",
        "",
        tables.table_markdown(acts).rstrip(),
        "",
        "## The activations",
        "",
        " · ".join(a.label for a in acts),
        "",
    ]
    for act in acts:
        lines += _entry_markdown(act, pictures[act.label])
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["build_gallery", "index_markdown"]
