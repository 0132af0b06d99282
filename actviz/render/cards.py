"""The symbolic card (:mod:`actviz.facts.card`) as terminal text, Markdown, LaTeX or JSON.

The terminal form uses sympy's Unicode pretty-print for f, f′ and f″; LaTeX is for papers
(a ``description`` list of display equations); Markdown puts the LaTeX between ``$$``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from actviz.core.jsonsafe import json_data

_DERIVS = (("f", "f(x)"), ("f′", "f′(x)"), ("f″", "f″(x)"))


def _tails(card: Mapping[str, Any]) -> list[str]:
    out = []
    for t, d in zip(card["tails"], card["derivative_tails"]):
        line = f"x → {t['side']}: f → {t['limit'] if t['limit'] is not None else 'undecided'}"
        if t.get("asymptote"):
            line += f", asymptote y = {t['asymptote']} (f − ({t['asymptote']}) → 0)"
        line += f"; f′ → {d if d is not None else 'undecided'}"
        out.append(line)
    return out


def _fixed(card: Mapping[str, Any]) -> str:
    fp = card["fixed_points"]
    if fp is None:
        return "undecided (sympy finds no closed form)"
    if isinstance(fp, str):
        return fp
    return ", ".join(f"x = {p['x']}" for p in fp) or "none"


def _extrema(card: Mapping[str, Any]) -> list[str]:
    ext = card["derivative_extrema"]
    if ext is None:
        return ["undecided (sympy does not solve f″ = 0)"]
    if not ext:
        return ["none (f″ has no real zero)"]
    return [f"{e['kind']} of f′ at x = {e['x']}: f′ = {e['f′']} ≈ {e['f′_value']:.10g}"
            if e.get("f′_value") is not None else f"{e['kind']} of f′ at x = {e['x']}: f′ = {e['f′']}" for e in ext]


def _props(card: Mapping[str, Any]) -> list[str]:
    return [f"{k} = {v['declared']}: {v['verdict']} ({v['why']})" for k, v in card["properties"].items()]


def facts(card: Mapping[str, Any]) -> list[str]:
    """The card's facts as plain lines (everything but f, f′ and f″)."""
    return [f"Taylor series at 0: {card['taylor'] or 'none (f is not analytic at 0)'}", *_tails(card),
            f"fixed points: {_fixed(card)}", *["extrema of f′: " + e for e in _extrema(card)],
            *_props(card)]


def to_text(card: Mapping[str, Any]) -> str:
    """The card for a terminal: Unicode pretty-print of f, f′, f″ and one line per fact."""
    lines = [f"{card['label']} — symbolic card (sympy)", ""]
    for key, head in _DERIVS:
        pretty = card[key]["pretty"].splitlines()
        lines.append(f"{head} =")
        lines += [f"    {p}" for p in pretty]
        lines.append("")
    lines.append(f"Taylor series at 0 (to order 5): {card['taylor'] or 'none (f is not analytic at 0)'}")
    lines += _tails(card)
    lines.append(f"fixed points (f(x) = x): {_fixed(card)}")
    lines += ["extrema of f′: " + e for e in _extrema(card)]
    if card["properties"]:
        lines.append("declared properties, as sympy sees them:")
        lines += ["  " + p for p in _props(card)]
    return "\n".join(lines) + "\n"


def to_markdown(card: Mapping[str, Any]) -> str:
    """The card as Markdown (math as ``$$ LaTeX $$``)."""
    parts = [f"### {card['label']}", ""]
    for key, head in _DERIVS:
        parts += [f"$$ {head} = {card[key]['latex']} $$", ""]
    parts.append(f"- Taylor series at 0: `{card['taylor'] or 'none (not analytic at 0)'}`")
    parts += [f"- {t}" for t in _tails(card)]
    parts.append(f"- fixed points: {_fixed(card)}")
    parts += [f"- extrema of f′: {e}" for e in _extrema(card)]
    parts += [f"- {p}" for p in _props(card)]
    return "\n".join(parts) + "\n"


def to_latex(card: Mapping[str, Any]) -> str:
    """The card as a LaTeX fragment: f, f′ and f″ as display equations, then the facts."""
    def tex(s: str) -> str:
        return s.replace("_", r"\_").replace("&", r"\&").replace("%", r"\%").replace("#", r"\#")

    lines = [f"% {card['label']}: symbolic card (actviz)", r"\begin{align*}"]
    lines += [rf"  {head.replace('′', chr(39)).replace('″', chr(39) * 2)} &= {card[key]['latex']} \\"
              for key, head in _DERIVS]
    lines.append(r"\end{align*}")
    lines.append(r"\begin{itemize}")
    facts = [f"Taylor series at 0: {card['taylor'] or 'none'}", *_tails(card), f"fixed points: {_fixed(card)}",
             *[f"extrema of f': {e}" for e in _extrema(card)], *_props(card)]
    lines += [rf"  \item {tex(f)}" for f in facts]
    lines.append(r"\end{itemize}")
    return "\n".join(lines) + "\n"


def to_json(card: Mapping[str, Any]) -> str:
    return json.dumps(json_data(card, nonfinite="name"), indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"rich": to_text, "markdown": to_markdown, "latex": to_latex, "json": to_json}

__all__ = ["RENDERERS", "facts", "to_json", "to_latex", "to_markdown", "to_text"]
