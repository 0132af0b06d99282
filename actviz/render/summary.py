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
import re
from collections.abc import Callable, Mapping, Sequence
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


#: what the "f+f′ µs" column holds
TIME_NOTE = ("f+f′ µs: the activation's own forward and backward per training step, all hidden layers "
             "(a timed probe of the code training runs, fastest of 5, mean over seeds; the matrix products "
             "every activation shares are left out)")


def _time(row: Mapping[str, Any]) -> str:
    v = row.get("act_seconds")
    return "—" if v is None else f"{v * 1e6:.3g}"


def _wall(entry: Mapping[str, Any]) -> str:
    """A run's wall time, said once: the activations of a seed train together and share it."""
    times = [r.get("time_mean") for r in entry.get("activations", []) if r.get("time_mean") is not None]
    if not times:
        return ""
    return (f"; wall time per run {max(times):.3g} s (the activations of a seed train together, "
            "on the same batches: their cost is told apart by f+f′)")


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


def _interval_note(entry: Mapping[str, Any], n: int) -> str:
    """What the interval column holds, and why it is empty where it is."""
    if n == 0:
        return "no completed run: no statistics"
    if n == 1:
        return "1 seed: no interval and no test (use --seeds 3 or more)"
    text = f"{n} seeds; 95% CI: Student t over seeds"
    cut = [r["label"] for r in entry.get("activations", []) if r.get("test_acc_ci_clipped")]
    if cut:
        text += ", cut at 0 or 100% (" + ", ".join(cut) + ")"
    return text


def _legend(entry: Mapping[str, Any], n: int) -> str:
    """The caption of a configuration's statistics table: every column and notation explained."""
    target = _target(entry)
    text = (f"test accuracy after the last epoch over completed runs, rows by mean (highest first); "
            f"{_interval_note(entry, n)}; n: completed runs (+div diverged, +int interrupted: not counted); "
            f"ep→{target:g}: mean epochs to reach test acc {target:g} over the runs that did (— none did"
            + _partial_example(entry) + ")")
    if entry.get("wins"):
        text += "; W/T/L: paired wins/ties/losses (Holm, 5%)"
    return text


def _partial_example(entry: Mapping[str, Any]) -> str:
    """How to read ``2 (1/3)``, with the first such cell of the table (nothing when there is none)."""
    for r in entry.get("activations", []):
        if r.get("epochs_to_target") is not None and r.get("reached_target", 0) < r.get("n", 0):
            return f"; {_reach(r)}: {r['reached_target']} of {r['n']} runs did"
    return ""


def _verdict_head(entry: Mapping[str, Any]) -> str:
    if entry.get("adjusted"):
        return "Verdict (p-values and intervals Holm-adjusted over all pairs):"
    return "Verdict:"


def _status(row: Mapping[str, Any]) -> str:
    bits = [str(row.get("n", 0))]
    if row.get("diverged"):
        bits.append(f"{row['diverged']}div")
    if row.get("interrupted"):
        bits.append(f"{row['interrupted']}int")
    return "+".join(bits)


# --------------------------------------------------------------------------- rich


def rich_blocks(summary: Summary, *, title: str = "actviz compare — Fashion-MNIST", width: int | None = None,
                sweep: Mapping[str, Any] | None = None) -> list[Any]:
    """Rich renderables: per configuration a statistics table, a diagnostics table and the verdicts.

    Every column has a header and numbers are never truncated.  Labels stay on one line:
    where a table would be wider than ``width``, the labels drop their parameter names
    (``leaky_relu(0.3)``, the full name said below the table), and only a label still too
    long folds.  With ``sweep`` (:func:`actviz.bench.summary.sweep`), the configurations
    side by side follow.
    """
    out: list[Any] = []
    for entry in summary:
        names = {r["label"]: r["label"] for r in entry.get("activations", [])}
        table = _stats_table(entry, title, names, fold=False)
        if width is not None and not _fits(table, width):
            names = {label: _short(label) for label in names}
            table = _stats_table(entry, title, names, fold=not _fits(_stats_table(entry, title, names, False), width))
        out.append(table)
        out.append(_diag_table(entry, names, fold=width is not None and not _fits(_diag_table(entry, names), width)))
        out.append(_verdict_block(entry, names))
        out.extend(f"{line}" for line in _definitions(entry))
    if sweep:
        out.extend(_sweep_blocks(sweep))
    return out


def _definitions(entry: Mapping[str, Any]) -> list[str]:
    """``pswish is defined as pswish=x*sigmoid(1.5*x)``: one line per activation defined by a formula."""
    return [f"{r['label']} is defined as {single_line(r['definition'])}"
            for r in entry.get("activations", []) if r.get("definition")]


def _fits(table: Any, width: int) -> bool:
    from rich.console import Console

    return Console(width=100_000, file=io.StringIO()).measure(table).maximum <= width


def _short(label: str) -> str:
    """A label without its parameters' names: ``leaky_relu(negative_slope=0.3)`` → ``leaky_relu(0.3)``."""
    return re.sub(r"(?<=[(,]) ?[A-Za-z_][A-Za-z0-9_]*=", lambda m: " " if m.group(0).startswith(" ") else "", label)


def _stats_table(entry: Mapping[str, Any], title: str, names: Mapping[str, str], fold: bool) -> Any:
    from rich import box
    from rich.table import Table

    rows = entry.get("activations", [])
    cfg = entry.get("config", {})
    n = _seeds(entry)
    target = _target(entry)
    head = f"{title}: {entry.get('config_label', 'defaults')}"
    net = network_label(cfg)
    table = Table(title=head + (f"\n{net}" if net else ""), title_justify="left", box=box.SIMPLE_HEAD,
                  padding=(0, 1), pad_edge=False, collapse_padding=True, caption=_legend(entry, n),
                  caption_justify="left")
    table.add_column("activation", overflow="fold", no_wrap=not fold, min_width=8)
    for head in ("acc %", "95% CI", "sd", "n", "loss", f"ep→{target:g}") + (("W/T/L",) if entry.get("wins") else ()):
        table.add_column(head, justify="right", no_wrap=True)
    for r in rows:
        cells = [names[r["label"]], _pct(r.get("test_acc_mean")), _ci(r.get("test_acc_ci")),
                 _pct(r.get("test_acc_std")), _status(r), _num(r.get("train_loss_mean")), _reach(r)]
        if entry.get("wins"):
            cells.append(_wtl(entry, r["label"]))
        table.add_row(*cells)
    return table


def _diag_table(entry: Mapping[str, Any], names: Mapping[str, str], fold: bool = False) -> Any:
    from rich import box
    from rich.table import Table

    rows = entry.get("activations", [])
    diag = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True,
                 caption="diagnostics after the last epoch (mean over completed runs): dead/sat = hidden "
                 "units never active / mostly saturated; ‖∇W‖ = gradient norm of the input and output "
                 f"layers; {TIME_NOTE}{_wall(entry)}", caption_justify="left")
    diag.add_column("activation", overflow="fold", no_wrap=not fold, min_width=8)
    for head in ("dead", "sat", "‖∇W‖ in→out", "f+f′ µs"):
        diag.add_column(head, justify="right", no_wrap=True)
    learned = any(r.get("learned") for r in rows)
    if learned:
        diag.add_column("learned", overflow="fold")
    for r in rows:
        cells = [names[r["label"]], _num(r.get("dead"), ".1%"), _num(r.get("saturated"), ".1%"), _grads(r),
                 _time(r)]
        if learned:
            cells.append(_learned(r))
        diag.add_row(*cells)
    return diag


def _verdict_block(entry: Mapping[str, Any], names: Mapping[str, str]) -> Any:
    """The verdicts, one per activation, wrapped under a hanging indent; the runs left out; shortened labels."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    parts: list[Any] = [Text(_verdict_head(entry), style="bold")]
    parts += [Padding(Text(v["text"]), (0, 0, 0, 2)) for v in entry.get("verdicts", [])]
    outside = _outside(entry)
    if outside:
        parts.append(Text("Not in the statistics: " + "; ".join(outside), style="yellow"))
    short = [f"{s} = {label}" for label, s in names.items() if s != label]
    if short:
        parts.append(Text("Labels shortened in the tables: " + "; ".join(short)))
    parts.append(Text(""))
    return Group(*parts)


def _sweep_blocks(sweep: Mapping[str, Any]) -> list[Any]:
    """The configurations × activations of a sweep (mean and 95% CI), the best per activation and overall."""
    from rich import box
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    configs = sweep["configurations"]
    heads = {label: _short(label) for label in sweep["activations"]}
    short = [f"{s} = {label}" for label, s in heads.items() if s != label]
    table = Table(title="The sweep: test accuracy % (95% CI) per configuration"
                  + (f"\nevery configuration: {sweep['common']}" if sweep.get("common") else ""), title_justify="left",
                  box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True,
                  caption="rows: configurations in the order run; columns: activations by their best mean; "
                  "* the best configuration of each activation" + ("; " + "; ".join(short) if short else ""),
                  caption_justify="left")
    table.add_column("configuration", overflow="fold")
    best = {p["label"]: set(p["tied"]) for p in sweep["per_activation"]}
    for label in sweep["activations"]:
        table.add_column(heads[label], justify="right", overflow="fold")
    for cfg in configs:
        cells = []
        for label in sweep["activations"]:
            c = sweep["cells"].get(label, {}).get(cfg)
            mark = "*" if cfg in best.get(label, ()) else ""
            cells.append("—" if not c or c["mean"] is None else
                         f"{c['mean'] * 100:.2f}{mark}" + (f"\n({_ci(c['ci'])})" if c.get("ci") else ""))
        table.add_row(cfg, *cells)
    parts: list[Any] = [Text("Best configuration (paired by seed):", style="bold")]
    parts += [Padding(Text(p["text"]), (0, 0, 0, 2)) for p in sweep["per_activation"]]
    parts.append(Padding(Text(sweep["overall"]["text"], style="bold"), (0, 0, 0, 2)))
    return [table, Group(*parts)]


# --------------------------------------------------------------------------- text formats


_MD_HEAD = ["activation", "n", "test acc %", "95% CI", "sd", "train loss", "loss 95% CI", "ep→target", "W/T/L",
            "dead", "saturated", "‖∇W‖ in→out", "f+f′ µs"]


def _md_cell(s: str) -> str:
    return single_line(s).replace("|", "\\|")


def to_markdown(summary: Summary, sweep: Mapping[str, Any] | None = None) -> str:
    """One section per configuration: the table, the verdicts, the runs left out; then the sweep's."""
    parts: list[str] = []
    for entry in summary:
        rows = entry.get("activations", [])
        parts.append(f"### {single_line(entry.get('config_label', 'defaults'))}\n")
        net = network_label(entry.get("config", {}))
        parts.append((f"{net}; " if net else "") + f"{_legend(entry, _seeds(entry))}; {TIME_NOTE}{_wall(entry)}.\n")
        parts.append("| " + " | ".join(_MD_HEAD) + " |")
        parts.append("|" + "|".join(["---"] + ["---:"] * (len(_MD_HEAD) - 1)) + "|")
        for r in rows:
            loss_ci = r.get("train_loss_ci")
            cells = [r["label"], _status(r), _pct(r.get("test_acc_mean")), _ci(r.get("test_acc_ci")),
                     _pct(r.get("test_acc_std")), _num(r.get("train_loss_mean")),
                     _ci(loss_ci, 1.0, ".4f") if loss_ci else "—", _reach(r), _wtl(entry, r["label"]),
                     _num(r.get("dead"), ".1%"), _num(r.get("saturated"), ".1%"), _grads(r),
                     _time(r)]
            parts.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
        parts.append("")
        for v in entry.get("verdicts", []):
            parts.append(f"- {single_line(v['text'])}")
        outside = _outside(entry)
        if outside:
            parts.append(f"- not in the statistics: {single_line('; '.join(outside))}")
        parts += [f"- {_md_cell(line)}" for line in _definitions(entry)]
        parts.append("")
    if sweep:
        parts += _sweep_markdown(sweep)
    return "\n".join(parts).rstrip() + "\n"


def _sweep_cell(sweep: Mapping[str, Any], label: str, cfg: str, ci_text: Callable[[Sequence[float]], str]) -> str:
    c = sweep["cells"].get(label, {}).get(cfg)
    if not c or c["mean"] is None:
        return "—"
    best = next((p for p in sweep["per_activation"] if p["label"] == label), {})
    return (f"{c['mean'] * 100:.2f}" + (f" ({ci_text(c['ci'])})" if c.get("ci") else "")
            + ("*" if cfg in best.get("tied", ()) else ""))


def _sweep_markdown(sweep: Mapping[str, Any]) -> list[str]:
    acts = sweep["activations"]
    common = f" Every configuration: {sweep['common']}." if sweep.get("common") else ""
    parts = ["### The sweep\n", ("Test accuracy % (95% CI) per configuration; * the best configuration of each "
                                  f"activation (paired by seed).{common}\n"),
             "| configuration | " + " | ".join(_md_cell(a) for a in acts) + " |",
             "|---|" + "---:|" * len(acts)]
    for cfg in sweep["configurations"]:
        parts.append(f"| {_md_cell(cfg)} | " + " | ".join(_sweep_cell(sweep, a, cfg, _ci) for a in acts) + " |")
    parts.append("")
    parts += [f"- {p['text']}" for p in sweep["per_activation"]] + [f"- **{sweep['overall']['text']}**", ""]
    return parts


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "—": "---", "–": "--",
        "→": r"$\to$", "‖": r"$\|$", "∇": r"$\nabla$"}


def _tex(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in single_line(s))


def to_latex(summary: Summary, sweep: Mapping[str, Any] | None = None) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); one block of rows per configuration."""
    multi = len(summary) > 1
    cols = ["Activation", "$n$", r"Test acc.\ (\%)", r"95\% CI", "SD", "Train loss", "W/T/L"]
    clipped = any(r.get("test_acc_ci_clipped") for e in summary for r in e.get("activations", []))
    lines = [r"% actviz results: test accuracy after the last epoch, mean over seeds, rows by mean (highest first);",
             r"% 95% CI: Student t" + (" (cut at 0 or 100%)" if clipped else "")
             + r"; W/T/L: paired t-tests by seed, Holm-adjusted, 5% level",
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
    if sweep:
        lines += _sweep_latex(sweep)
    return "\n".join(lines) + "\n"


def _sweep_latex(sweep: Mapping[str, Any]) -> list[str]:
    acts = sweep["activations"]

    def ci(c: Sequence[float]) -> str:
        return f"{c[0] * 100:.2f}, {c[1] * 100:.2f}"

    lines = [r"% the sweep: test accuracy (\%) and 95% CI per configuration; * the best configuration of each activation"
             + (f"; every configuration: {sweep['common']}" if sweep.get("common") else ""),
             r"\begin{tabular}{l" + "r" * len(acts) + "}", r"\toprule",
             " & ".join(["Configuration", *(_tex(a) for a in acts)]) + r" \\", r"\midrule"]
    for cfg in sweep["configurations"]:
        cells = [_tex(_sweep_cell(sweep, a, cfg, ci)) for a in acts]
        lines.append(" & ".join([_tex(cfg), *cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += ["% " + p["text"] for p in sweep["per_activation"]] + ["% " + sweep["overall"]["text"]]
    return lines


_CSV_HEAD = ["config", "label", "activation", "n", "runs", "diverged", "interrupted", "test_acc_mean",
             "test_acc_std", "test_acc_ci_low", "test_acc_ci_high", "train_loss_mean", "train_loss_std",
             "train_loss_ci_low", "train_loss_ci_high", "epochs_to_target", "reached_target", "wins", "ties",
             "losses", "dead", "saturated", "grad_norm_input", "grad_norm_output", "time_mean", "act_seconds", "verdict",
             "sweep_best_for_activation", "sweep_best_overall", "sweep_verdict"]


def to_csv(summary: Summary, sweep: Mapping[str, Any] | None = None) -> str:
    """One row per configuration × activation, plain numbers (fractions, not percent).

    In a sweep, ``sweep_best_for_activation`` marks each activation's best configuration,
    ``sweep_best_overall`` the overall best, and ``sweep_verdict`` says how the
    activation's configurations compare (empty with one configuration).
    """
    per = {p["label"]: p for p in (sweep or {}).get("per_activation", [])}
    overall = (sweep or {}).get("overall") or {}
    names = list((sweep or {}).get("configurations") or [None] * len(summary))  # the sweep's name of each entry
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_HEAD)
    for entry, name in zip(summary, names):
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
                   r.get("saturated"), g[0], g[-1], r.get("time_mean"), r.get("act_seconds"),
                   verdicts.get(r["label"], ""), *_sweep_csv(sweep, per.get(r["label"]), overall, name, r["label"])]
            w.writerow(["" if v is None else single_line(v) if isinstance(v, str) else v for v in row])
    return buf.getvalue()


def _sweep_csv(sweep: Mapping[str, Any] | None, per: Mapping[str, Any] | None, overall: Mapping[str, Any],
               cfg: str | None, label: str) -> list[Any]:
    if not sweep:
        return [None, None, None]
    best = per is not None and cfg in per.get("tied", ())
    top = overall.get("label") == label and overall.get("configuration") == cfg
    return [int(best), int(top), per["text"] if per else ""]


def to_json(summary: Summary, sweep: Mapping[str, Any] | None = None) -> str:
    """``{"configurations": the summary, "sweep": the sweep or null}`` as strict JSON.

    A NaN or infinity (e.g. an overflowing mean of hand-made numbers) is written as null.
    """
    doc = {"configurations": list(summary), "sweep": sweep}
    return json.dumps(json_data(doc, nonfinite="null"), indent=1, allow_nan=False) + "\n"


def render(summary: Summary, fmt: str, sweep: Mapping[str, Any] | None = None) -> str:
    """The summary (and a sweep's comparison of configurations) as text in ``fmt``: markdown, latex, csv or json."""
    return {"markdown": to_markdown, "latex": to_latex, "csv": to_csv, "json": to_json}[fmt](summary, sweep)
