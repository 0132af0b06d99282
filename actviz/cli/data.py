"""``actviz data``: where a data set is, fetching it, checking it (``--data NAME``, default Fashion-MNIST).

The group's callback (:func:`data_main`) and its commands are module-level functions,
added to the ``actviz`` app in :mod:`actviz.cli.app`.  Importing this module is cheap:
the data layer, Rich and torch are imported inside the commands.
Failures raise :class:`~actviz.core.errors.DataError` (exit 1) or
:class:`~actviz.core.errors.UsageError` (exit 2); the main app prints them as one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, List, Optional

import typer

from actviz.cli.options import DataDirOpt, DataSetOpt, FormatOpt, ShowFormat

if TYPE_CHECKING:
    from rich.console import Console

    from actviz.bench.data import DataStatus, FileCheck, ProgressCallback

_META_KEY = "actviz.data_dir"
_META_SET = "actviz.data"

#: rich or json, as every command's
OutputFormat = ShowFormat


# --------------------------------------------------------------------------- helpers


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)  # paths are never broken across lines


def _dir(ctx: typer.Context, data_dir: Optional[str]) -> Optional[str]:
    """The command's --data-dir, else the one given to the group (``actviz data --data-dir X``).

    Kept as the text given: ``--data-dir ''`` must reach the data layer (an error there),
    whereas ``Path('')`` would silently be the current directory.
    """
    if data_dir is not None:
        return data_dir
    value = ctx.meta.get(_META_KEY)
    return value if value is not None else None


def _set(ctx: typer.Context, data: Optional[str]) -> str | None:
    """The command's --data, else the one given to the group (``actviz data --data mnist status``)."""
    return data if data is not None else ctx.meta.get(_META_SET)


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def _partial_size(st: DataStatus, name: str) -> int | None:
    """Bytes of a download of ``name`` cut short, kept to be resumed (None: none)."""
    from actviz.bench.data.fetch import partial_path

    try:
        return partial_path(st.directory, name).stat().st_size
    except OSError:
        return None


def _status_json(st: DataStatus) -> dict[str, Any]:
    return {
        "data": st.dataset.name,
        "directory": str(st.directory),
        "origin": st.origin,
        "complete": st.complete,
        "files": [
            {
                "name": f.name,
                "path": None if f.path is None else str(f.path),
                "format": None if f.compressed is None else ("gzip" if f.compressed else "plain"),
                "size": f.size,
                "partial": None if f.present else _partial_size(st, f.name),
            }
            for f in st.files
        ],
        "searched": [
            {"origin": origin, "directory": str(d), "complete": done}
            for origin, d, done in st.searched
        ],
    }


def _print_status(st: DataStatus, console: Console) -> None:
    from rich.table import Table

    from actviz.bench.data import ORIGINS

    state = "[green]complete[/]" if st.complete else "[yellow]incomplete[/]"
    console.print(f"{st.dataset.title} directory: [bold]{st.directory}[/] ({st.origin_text}) — {state}")
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("file")
    table.add_column("format")
    table.add_column("size", justify="right")
    for f in st.files:
        if f.path is None:
            partial = _partial_size(st, f.name)
            if partial is None:
                table.add_row(f.name, "[red]missing[/]", "-")
            else:
                table.add_row(f.name, "[yellow]partial (resumes)[/]", _size(partial))
        else:
            table.add_row(f.path.name, "gzip" if f.compressed else "plain", _size(f.size))
    console.print(table)
    if len(st.searched) > 1:
        places = ", ".join(
            f"{ORIGINS.get(o, o)} {d} ({'complete' if done else 'incomplete'})"
            for o, d, done in st.searched
        )
        console.print(f"Searched: {places}")
    flag = "" if st.dataset.name == "fashion-mnist" else f" --data {st.dataset.name}"
    if st.complete:
        console.print(f"Checksums not read here: run `actviz data verify{flag}` to check them.")
    else:
        console.print(
            f"Missing {', '.join(st.missing)}: they will be downloaded into {st.directory} "
            f"on first use, or now with `actviz data download{flag}` (from {', '.join(st.dataset.mirrors)})."
        )


def _show_status(data_dir: Optional[str], fmt: OutputFormat, name: str | None = None) -> None:
    from actviz.bench import data

    st = data.status(data_dir, data.dataset(name))
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(_status_json(st), indent=2))
    else:
        _print_status(st, _console())


@contextmanager
def download_progress(console: Console | None = None) -> Iterator[ProgressCallback]:
    """A Rich progress display (one bar per file, on stderr) as a download callback.

    Use it around any call that may download, e.g.
    ``with download_progress() as cb: data.load(progress=cb)``.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
    )
    tasks: dict[str, Any] = {}

    def callback(name: str, done: int, total: int | None) -> None:
        if not tasks:  # shown from the first file on: a download that fails at once prints no empty bar
            progress.start()
        if name not in tasks:
            tasks[name] = progress.add_task(f"{name}.gz", total=total)
        progress.update(tasks[name], completed=done, total=total)

    try:
        yield callback
    finally:
        if tasks:
            progress.stop()


def install_download_progress() -> None:
    """Show :func:`download_progress` for every download that brings no progress display of its own.

    The root command calls this, so that ``compare`` (or any command) that has to fetch
    the data set shows the same bars as ``actviz data download``.
    """
    from actviz.bench import data

    data.set_default_progress(download_progress)


# --------------------------------------------------------------------------- commands


def data_main(
    ctx: typer.Context,
    data_dir: DataDirOpt = None,
    data: DataSetOpt = None,
    format: OutputFormat = typer.Option(
        OutputFormat.rich, "--format", "-f", help="Output of the default status: rich or json."
    ),
) -> None:
    """Where a data set is (default Fashion-MNIST; --data mnist|kmnist|cifar10), fetching it, checking it.

    Without a sub-command: the status (which directory would be used, which files
    are there).
    """
    if data_dir is not None:
        ctx.meta[_META_KEY] = str(data_dir)
    if data is not None:
        ctx.meta[_META_SET] = data
    if ctx.invoked_subcommand is None:
        _show_status(data_dir, format, data)


def status_cmd(
    ctx: typer.Context,
    data_dir: DataDirOpt = None,
    data: DataSetOpt = None,
    format: FormatOpt = OutputFormat.rich,
) -> None:
    """Which directory would be used and which files it holds (gzip or plain).

    Reads no file contents; `actviz data verify` checks them.
    """
    _show_status(_dir(ctx, data_dir), format, _set(ctx, data))


def download_cmd(
    ctx: typer.Context,
    data_dir: Optional[str] = typer.Option(
        None,
        "--data-dir",
        metavar="DIR",
        help="Download into this directory. Default: $ACTVIZ_DATA_DIR (Fashion-MNIST only), else the user cache.",
    ),
    data: DataSetOpt = None,
    force: bool = typer.Option(
        False, "--force", help="Download all the set's files again, even if good copies exist."
    ),
    mirror: Optional[List[str]] = typer.Option(
        None,
        "--mirror",
        metavar="URL",
        help="Base URL to fetch the .gz files from (repeatable, tried in order). "
        "Default: $ACTVIZ_MIRRORS (comma-separated), else the set's public mirrors.",
    ),
) -> None:
    """Fetch the set's files (verified by SHA-256, written atomically).

    Files already present and correct are kept.  For Fashion-MNIST without
    --data-dir and ACTVIZ_DATA_DIR, a verified copy in the cache or in
    /usr/share/datasets/fashion-mnist is enough (use --force to fetch into the
    cache anyway).
    """
    from actviz.bench import data as layer

    ds = layer.dataset(_set(ctx, data))
    mirrors = list(mirror) if mirror else None
    layer.mirrors_in_use(mirrors, ds)  # a bad URL is a usage error before anything happens
    fetched: list[str] = []
    with download_progress() as bar:

        def callback(name: str, done: int, total: int | None) -> None:
            if name not in fetched:
                fetched.append(name)
            bar(name, done, total)

        dest = layer.download(_dir(ctx, data_dir), mirrors=mirrors, progress=callback, force=force, ds=ds)
    console = _console()
    if fetched:
        console.print(f"Downloaded {', '.join(fetched)} into {dest} (verified).")
    else:
        console.print(f"{ds.title} is already in {dest} (verified); nothing downloaded.")


def _verify_json(checks: list[FileCheck]) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "path": None if c.path is None else str(c.path),
            "state": c.state,
            "sha256": c.sha256,
            "detail": c.detail,
        }
        for c in checks
    ]


def verify_cmd(
    ctx: typer.Context,
    data_dir: DataDirOpt = None,
    data: DataSetOpt = None,
    format: FormatOpt = OutputFormat.rich,
) -> None:
    """Check each file against its pinned SHA-256 (of the contents, or of the .gz as served); exit 1 if any fails."""
    from actviz.bench import data as layer
    from actviz.core.errors import DataError

    chosen = _dir(ctx, data_dir)
    ds = layer.dataset(_set(ctx, data))
    st = layer.status(chosen, ds)
    checks = layer.verify(chosen, ds)
    if format is OutputFormat.json:
        typer.echo(json.dumps(_verify_json(checks), indent=2))
    else:
        from rich.table import Table

        console = _console()
        console.print(f"{ds.title} directory: [bold]{st.directory}[/] ({st.origin_text})")
        table = Table(show_edge=False, pad_edge=False)
        table.add_column("file")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        style = {"ok": "green", "missing": "red", "mismatch": "red", "corrupt": "red"}
        for c in checks:
            detail = "SHA-256 matches" if c.ok else c.detail
            table.add_row(c.name, f"[{style[c.state]}]{c.state}[/]", detail)
        console.print(table)
    bad = [c for c in checks if not c.ok]
    if bad:
        listed = ", ".join(f"{c.path or c.name} ({c.state})" for c in bad)
        where = ("" if ds.name == "fashion-mnist" else f" --data {ds.name}") + (
            f" --data-dir {st.directory}" if st.origin == "argument" else "")
        if all(c.state == "missing" for c in bad):
            fix = f"run `actviz data download{where}`"
        elif st.origin == "debian":
            fix = f"reinstall the package (apt-get install --reinstall {ds.debian_package})"
        else:
            fix = f"run `actviz data download --force{where}`"
        raise DataError(
            f"{len(bad)} of {len(checks)} {ds.title} files failed verification: "
            f"{listed}. To fix: {fix}"
        )


__all__ = ["data_main", "download_cmd", "download_progress", "install_download_progress", "status_cmd",
           "verify_cmd"]
