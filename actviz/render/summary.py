"""Renderings of a compare summary (``actviz compare``, ``actviz results``).

The input is the ``summary`` list of a results store: one entry per training
configuration with per-activation rows, pairs, verdicts and win/tie/loss (see
:func:`actviz.bench.summary.summarize_configs`).  Formats: Rich tables sized for an
80-column terminal (:func:`rich_blocks`), Markdown, LaTeX (booktabs), CSV and JSON.
Accuracies are shown in percent, differences in percentage points.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from actviz.core.formatting import single_line
from actviz.core.jsonsafe import json_data
from actviz.results import network_label

__all__ = ["FORMATS", "render", "rich_blocks", "to_csv", "to_json", "to_latex", "to_markdown"]

FORMATS = ("rich", "markdown", "latex", "csv", "json")

Summary = Sequence[Mapping[str, Any]]


def _pct(v: float | None, spec: str = ".2f") -> str:
    return "—" if v is None else format(v * 100, spec)


def _ci(ci: Sequence[float] | None, scale: float = 100.0, spec: str = ".2f", sep: str = "–") -> str:
    if not ci:
        return "—"
    return f"{ci[0] * scale:{spec}}{sep}{ci[1] * scale:{spec}}"


def _num(v: float | None, spec: str = ".4f") -> str:
    return "—" if v is None else format(v, spec)


def _wtl(entry: Mapping[str, Any], label: str) -> str:
    w = (entry.get("wins") or {}).get(label)
    return f"{w['win']}/{w['tie']}/{w['loss']}" if w else "—"


def _reach(row: Mapping[str, Any]) -> str:
    e = row.get("epochs_to_target")
    if e is None:
        return "—"
    text = f"{e:.3g}"
    if row.get("reached_target", 0) < row.get("n", 0):
        text += f" ({row['reached_target']}/{row['n']})"
    return text


def _grads(row: Mapping[str, Any]) -> str:
    g = row.get("grad_norm") or []
    return f"{_num(g[0], '.2g')}→{_num(g[-1], '.2g')}" if g else "—"


def _learned(row: Mapping[str, Any]) -> str:
    learned = row.get("learned") or {}
    return "; ".join(f"{k}→{', '.join(f'{x:.3g}' for x in v)}" for k, v in learned.items()) or "—"


def _seeds(entry: Mapping[str, Any]) -> int:
    return max((r.get("n", 0) for r in entry.get("activations", [])), default=0)


def _outside(entry: Mapping[str, Any]) -> list[str]:
    """Runs left out of the statistics, in words."""
    parts = [f"{r['label']} seed {r['seed']} interrupted after {r['epochs']} epoch{'s' if r['epochs'] != 1 else ''}"
             for r in entry.get("interrupted_runs", [])]
    parts += [f"{r['label']} seed {r['seed']} diverged" + (f" in epoch {r['epoch']}" if r.get("epoch") else "")
              for r in entry.get("diverged_runs", [])]
    return parts


def _target(entry: Mapping[str, Any]) -> float:
    rows = entry.get("activations", [])
    return rows[0].get("target", 0.8) if rows else 0.8


def _status(row: Mapping[str, Any]) -> str:
    bits = [str(row.get("n", 0))]
    if row.get("diverged"):
        bits.append(f"{row['diverged']}div")
    if row.get("interrupted"):
        bits.append(f"{row['interrupted']}int")
    return "+".join(bits)


# --------------------------------------------------------------------------- rich


def rich_blocks(summary: Summary, *, title: str = "actviz compare — Fashion-MNIST") -> list[Any]:
    """Rich renderables: per configuration a statistics table, a diagnostics table and the verdicts.

    Every column has a header; numbers are never truncated (only the activation label
    may wrap), so the tables fit an 80-column terminal.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out: list[Any] = []
    for entry in summary:
        rows = entry.get("activations", [])
        cfg = entry.get("config", {})
        n = _seeds(entry)
        target = _target(entry)
        head = f"{title}: {entry.get('config_label', 'defaults')}"
        net = network_label(cfg)
        table = Table(title=head + (f"\n{net}" if net else ""), title_justify="left", box=box.SIMPLE_HEAD,
                      padding=(0, 1), pad_edge=False, collapse_padding=True,
                      caption=(f"test accuracy after the last epoch, completed runs, {n} seed{'s' if n != 1 else ''}"
                               + ("; 95% CI: Student t over seeds" if n > 1 else
                                  "; one seed: no interval (use --seeds 3 or more)")
                               + f"; n: completed runs (+diverged, +interrupted, not counted); ep→{target:g}: "
                               f"epochs to test acc {target:g}"
                               + ("; W/T/L: paired wins/ties/losses (Holm, 5%)" if entry.get("wins") else "")),
                      caption_justify="left")
        table.add_column("activation", overflow="fold", min_width=8)
        table.add_column("acc %", justify="right", no_wrap=True)
        table.add_column("95% CI", justify="right", no_wrap=True)
        table.add_column("sd", justify="right", no_wrap=True)
        table.add_column("n", justify="right", no_wrap=True)
        table.add_column("loss", justify="right", no_wrap=True)
        table.add_column(f"ep→{target:g}", justify="right", no_wrap=True)
        if entry.get("wins"):
            table.add_column("W/T/L", justify="right", no_wrap=True)
        for r in rows:
            cells = [r["label"], _pct(r.get("test_acc_mean")), _ci(r.get("test_acc_ci")),
                     _pct(r.get("test_acc_std")), _status(r), _num(r.get("train_loss_mean")), _reach(r)]
            if entry.get("wins"):
                cells.append(_wtl(entry, r["label"]))
            table.add_row(*cells)
        out.append(table)

        diag = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True,
                     caption="diagnostics after the last epoch (mean over completed runs): dead/sat = hidden "
                     "units never active / mostly saturated; ‖∇W‖ = gradient norm of the input and output "
                     "layers; time per run", caption_justify="left")
        diag.add_column("activation", overflow="fold", min_width=8)
        diag.add_column("dead", justify="right", no_wrap=True)
        diag.add_column("sat", justify="right", no_wrap=True)
        diag.add_column("‖∇W‖ in→out", justify="right", no_wrap=True)
        diag.add_column("time s", justify="right", no_wrap=True)
        learned = any(r.get("learned") for r in rows)
        if learned:
            diag.add_column("learned", overflow="fold")
        for r in rows:
            cells = [r["label"], _num(r.get("dead"), ".1%"), _num(r.get("saturated"), ".1%"), _grads(r),
                     _num(r.get("time_mean"), ".1f")]
            if learned:
                cells.append(_learned(r))
            diag.add_row(*cells)
        out.append(diag)
        lines = Text()
        lines.append("Verdict" + (" (p-values Holm-adjusted over all pairs)" if entry.get("adjusted") else "")
                     + ":\n", style="bold")
        for v in entry.get("verdicts", []):
            lines.append(f"  {v['text']}\n")
        outside = _outside(entry)
        if outside:
            lines.append("Not in the statistics: " + "; ".join(outside) + "\n", style="yellow")
        out.append(lines)
    return out


# --------------------------------------------------------------------------- text formats


_MD_HEAD = ["activation", "n", "test acc %", "95% CI", "sd", "train loss", "loss 95% CI", "ep→target", "W/T/L",
            "dead", "saturated", "‖∇W‖ in→out", "time s"]


def _md_cell(s: str) -> str:
    return single_line(s).replace("|", "\\|")


def to_markdown(summary: Summary) -> str:
    """One section per configuration: the table, the verdicts, the runs left out."""
    parts: list[str] = []
    for entry in summary:
        rows = entry.get("activations", [])
        parts.append(f"### {single_line(entry.get('config_label', 'defaults'))}\n")
        net = network_label(entry.get("config", {}))
        if net:
            parts.append(f"{net}; {_seeds(entry)} seed(s); test accuracy after the last epoch.\n")
        parts.append("| " + " | ".join(_MD_HEAD) + " |")
        parts.append("|" + "|".join(["---"] + ["---:"] * (len(_MD_HEAD) - 1)) + "|")
        for r in rows:
            loss_ci = r.get("train_loss_ci")
            cells = [r["label"], _status(r), _pct(r.get("test_acc_mean")), _ci(r.get("test_acc_ci")),
                     _pct(r.get("test_acc_std")), _num(r.get("train_loss_mean")),
                     _ci(loss_ci, 1.0, ".4f") if loss_ci else "—", _reach(r), _wtl(entry, r["label"]),
                     _num(r.get("dead"), ".1%"), _num(r.get("saturated"), ".1%"), _grads(r),
                     _num(r.get("time_mean"), ".1f")]
            parts.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
        parts.append("")
        for v in entry.get("verdicts", []):
            parts.append(f"- {single_line(v['text'])}")
        outside = _outside(entry)
        if outside:
            parts.append(f"- not in the statistics: {single_line('; '.join(outside))}")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "—": "---", "–": "--",
        "→": r"$\to$", "‖": r"$\|$", "∇": r"$\nabla$"}


def _tex(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in single_line(s))


def to_latex(summary: Summary) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); one block of rows per configuration."""
    multi = len(summary) > 1
    cols = ["Activation", "$n$", r"Test acc.\ (\%)", r"95\% CI", "SD", "Train loss", "W/T/L"]
    lines = [r"% actviz results: test accuracy after the last epoch, mean over seeds;",
             r"% 95% CI: Student t; W/T/L: paired t-tests by seed, Holm-adjusted, 5% level",
             r"\begin{tabular}{l" + "r" * (len(cols) - 1) + "}", r"\toprule",
             " & ".join(cols) + r" \\", r"\midrule"]
    for i, entry in enumerate(summary):
        if multi:
            if i:
                lines.append(r"\midrule")
            lines.append(rf"\multicolumn{{{len(cols)}}}{{l}}{{\emph{{{_tex(entry.get('config_label', 'defaults'))}}}}} \\")
        for r in entry.get("activations", []):
            ci = r.get("test_acc_ci")
            cells = [_tex(r["label"]), str(r.get("n", 0)), _pct(r.get("test_acc_mean")),
                     f"[{ci[0] * 100:.2f}, {ci[1] * 100:.2f}]" if ci else "---",
                     _pct(r.get("test_acc_std")).replace("—", "---"),
                     _num(r.get("train_loss_mean")).replace("—", "---"),
                     _wtl(entry, r["label"]).replace("—", "---")]
            lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    for entry in summary:
        for v in entry.get("verdicts", []):
            lines.append(single_line("% " + (f"[{entry.get('config_label')}] " if multi else "") + v["text"]))
    return "\n".join(lines) + "\n"


_CSV_HEAD = ["config", "label", "activation", "n", "runs", "diverged", "interrupted", "test_acc_mean",
             "test_acc_std", "test_acc_ci_low", "test_acc_ci_high", "train_loss_mean", "train_loss_std",
             "train_loss_ci_low", "train_loss_ci_high", "epochs_to_target", "reached_target", "wins", "ties",
             "losses", "dead", "saturated", "grad_norm_input", "grad_norm_output", "time_mean", "verdict"]


def to_csv(summary: Summary) -> str:
    """One row per configuration × activation, plain numbers (fractions, not percent)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_HEAD)
    for entry in summary:
        verdicts = {v["label"]: v["text"] for v in entry.get("verdicts", [])}
        for r in entry.get("activations", []):
            aci = r.get("test_acc_ci") or [None, None]
            lci = r.get("train_loss_ci") or [None, None]
            wtl = (entry.get("wins") or {}).get(r["label"]) or {}
            g = r.get("grad_norm") or [None]
            row = [entry.get("config_label"), r["label"], r.get("activation"), r.get("n"), r.get("runs"),
                   r.get("diverged"), r.get("interrupted"), r.get("test_acc_mean"), r.get("test_acc_std"), *aci,
                   r.get("train_loss_mean"), r.get("train_loss_std"), *lci, r.get("epochs_to_target"),
                   r.get("reached_target"), wtl.get("win"), wtl.get("tie"), wtl.get("loss"), r.get("dead"),
                   r.get("saturated"), g[0], g[-1], r.get("time_mean"), verdicts.get(r["label"], "")]
            w.writerow(["" if v is None else single_line(v) if isinstance(v, str) else v for v in row])
    return buf.getvalue()


def to_json(summary: Summary) -> str:
    """The summary as strict JSON (a NaN or infinity, e.g. an overflowing mean of hand-made numbers, as null)."""
    return json.dumps(json_data(list(summary), nonfinite="null"), indent=1, allow_nan=False) + "\n"


def render(summary: Summary, fmt: str) -> str:
    """The summary as text in ``fmt`` (markdown, latex, csv or json)."""
    return {"markdown": to_markdown, "latex": to_latex, "csv": to_csv, "json": to_json}[fmt](summary)
