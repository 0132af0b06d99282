"""The ``actviz`` command line: a thin Typer layer over the library.

Each command parses its options, calls a library function that returns data,
and hands that data to a renderer.  Heavy imports (torch, matplotlib) happen
inside the commands that need them, so ``actviz --help`` and ``actviz list``
stay fast.

Errors: every :class:`~actviz.core.errors.ActvizError` and every usage error
becomes one line on stderr and an exit code (2 for a wrong invocation, 1 for a
failure while running, and for a signal the code and line of
:mod:`actviz.core.signals`: 130 ``aborted`` for Ctrl-C, 143 ``terminated`` for SIGTERM, 129
``hung up`` for SIGHUP, at any moment up to the process's exit).  A standard output closed
at start-up is one error line when the command writes to it (exit 1).
``ACTVIZ_DEBUG=1`` shows tracebacks.

Every command is a module-level function in its own module (``actviz.cli.plot.plot_cmd``
...), importable and testable on its own; :func:`_register` below adds them all to
:data:`app`, in the order ``actviz --help`` lists them.  Importing a command module is
cheap: each imports its heavy modules inside the function.
"""

from __future__ import annotations

import errno
import io
import os
import sys
import warnings
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from actviz.cli.activations import resolve
from actviz.cli.options import Format, ShowFormat  # noqa: F401 - their home before cli.options
from actviz.core import signals
from actviz.core.errors import ActvizError


def _debug() -> bool:
    return os.environ.get("ACTVIZ_DEBUG", "") not in ("", "0")


# Typer >= 0.2x vendors click; its exception classes are reached through the public
# BadParameter (BadParameter -> UsageError -> ClickException), whichever click it uses.
_ClickUsageError = typer.BadParameter.__mro__[1]
_ClickException = typer.BadParameter.__mro__[2]


def _say(line: str) -> None:
    """One line on stderr; a stderr that cannot be written is not a reason for a traceback."""
    try:
        typer.echo(line, err=True)
    except (OSError, ValueError, AttributeError):
        pass


def _fail(message: str, code: int) -> None:
    _say(f"error: {message}")
    sys.exit(code)


# --------------------------------------------------------------------------- standard output


class _StdoutError(Exception):
    """Writing to standard output failed: a closed pipe (``| head``), a full disk (``> /dev/full``)."""

    def __init__(self, exc: OSError):
        super().__init__(exc.strerror or str(exc))
        self.errno = exc.errno


class _GuardedStdout(io.TextIOWrapper):
    """Standard output whose write failures say that they are standard output's."""

    def write(self, s: str) -> int:
        try:
            return super().write(s)
        except OSError as exc:
            raise _StdoutError(exc) from None

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            raise _StdoutError(exc) from None


#: ASCII stand-ins for the symbols actviz prints, used when standard output cannot encode them
_ASCII = {
    "′": "'", "″": "''", "−": "-", "·": ".", "±": "+/-", "≤": "<=", "≥": ">=", "≠": "!=", "≈": "~",
    "→": "->", "←": "<-", "∞": "inf", "—": "-", "–": "-", "…": "...", "×": "x", "²": "^2", "³": "^3",
    "‖": "||", "✓": "y", "✗": "x", "§": "S", "√": "sqrt", "∂": "d", "∇": "grad", "∈": " in ",
    "ℝ": "R", "Σ": "sum", "π": "pi", "α": "alpha", "β": "beta", "γ": "gamma", "λ": "lambda",
    "σ": "sigma", "φ": "phi", "Φ": "Phi", "Δ": "Delta", "ᵀ": "^T", "₁": "1", "━": "-", "│": "|",
}


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: an ASCII stand-in for each character the encoding lacks, else '?'."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start:exc.end]
    return "".join(_ASCII.get(ch, "?") for ch in text), exc.end


class _ClosedStdout(io.TextIOBase):
    """Standard output that was closed when the command started (``>&-``): writing to it is an error."""

    encoding = "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, s: str) -> int:
        if not s:
            return 0
        raise _StdoutError(OSError(errno.EBADF, "it is closed"))

    def flush(self) -> None:
        pass


def _guard_stdout() -> None:
    """Wrap sys.stdout: write errors become :class:`_StdoutError`, unencodable characters ASCII stand-ins.

    ``PYTHONIOENCODING=ascii`` (or a Latin-1 terminal) then degrades instead of failing:
    Rich draws ASCII boxes for such encodings, and any other character is replaced.
    A standard output closed at start-up (Python leaves ``sys.stdout`` None) fails at the
    first write, with one line.
    """
    out = sys.stdout
    if out is None:
        sys.stdout = _ClosedStdout()
        return
    if isinstance(out, _GuardedStdout) or type(out) is not io.TextIOWrapper:
        return
    try:
        out.flush()
        buffer = out.buffer
    except (OSError, ValueError, AttributeError):
        return
    errors = out.errors
    if errors == "strict":
        import codecs

        codecs.register_error("actviz-ascii", _ascii_fallback)
        errors = "actviz-ascii"
    sys.stdout = _GuardedStdout(buffer, encoding=out.encoding, errors=errors,
                                line_buffering=out.line_buffering, write_through=out.write_through)


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _stdout_failed(exc: _StdoutError | OSError) -> int:
    """The exit code after standard output failed: 0 for a closed pipe (quietly), else 1 and one line."""
    _silence_stdout()
    if exc.errno == errno.EPIPE:  # `actviz check | head -1`: the reader has what it wanted
        return 0
    reason = str(exc) if isinstance(exc, _StdoutError) else (exc.strerror or str(exc))
    _say(f"error: cannot write to standard output: {reason}")
    return 1


# --------------------------------------------------------------------------- warnings


def _warning_policy() -> None:
    """Inside ``warnings.catch_warnings()``: numerical RuntimeWarnings are dropped, others are one line.

    NaN and inf are handled where they arise (plots leave gaps, measurements and training
    report them), so numpy's and torch's overflow/invalid-value warnings are noise here.
    Any other warning becomes ``warning: <first line>`` on stderr, once per text.
    ``ACTVIZ_DEBUG=1`` keeps Python's own warnings (with source lines).
    """
    if _debug():
        return
    warnings.simplefilter("ignore", RuntimeWarning)
    seen: set[str] = set()

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        text = (str(message).strip().splitlines() or [category.__name__])[0]
        if text not in seen:
            seen.add(text)
            _say(f"warning: {text}")

    warnings.showwarning = show


def _matplotlib_policy() -> None:
    """Matplotlib's environment in actviz's voice: one ``warning:`` line instead of its own log lines.

    An unusable ``MPLCONFIGDIR`` or home directory
    (matplotlib then logs two paragraphs and uses a temporary directory) is one warning line;
    any other matplotlib log message at warning level is ``warning: matplotlib: <first line>``.
    """
    import logging

    class OneLine(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if text.startswith("mkdir -p failed"):
                return  # said by the next message, which names the directory
            if "created a temporary" in text and "directory" in text:
                import re

                where = re.search(r"issue with .*?\((.*?)\)", text)
                shown = repr(where.group(1)) if where else "its configuration directory"
                text = (f"matplotlib cannot write to {shown}; it uses a temporary directory for its "
                        "settings and cache (set MPLCONFIGDIR to a writable directory)")
            else:
                text = "matplotlib: " + (text.strip().splitlines() or [""])[0]
            _say(f"warning: {text}")

    logger = logging.getLogger("matplotlib")
    if not any(type(h).__name__ == "OneLine" for h in logger.handlers):  # once per process
        logger.addHandler(OneLine(logging.WARNING))
        logger.propagate = False


def _check_backend() -> None:
    """``MPLBACKEND`` naming no backend (matplotlib would refuse to import): dropped, with a warning."""
    backend = os.environ.get("MPLBACKEND", "")
    if backend and not _backend_exists(backend):
        os.environ["MPLBACKEND"] = "agg"
        _say(f"warning: MPLBACKEND={backend!r} is not a matplotlib backend; drawing with Agg")


def _backend_exists(name: str) -> bool:
    """Whether matplotlib has a backend called ``name`` (found without importing matplotlib)."""
    import importlib.util

    lower = name.lower()
    if lower.startswith("module://"):
        return True
    try:
        found = importlib.util.find_spec("matplotlib")
    except (ImportError, ValueError):
        return True  # no matplotlib: the commands that draw say so themselves
    if found is None or not found.submodule_search_locations:
        return True
    module = {"notebook": "nbagg", "wx": "wx"}.get(lower, lower)
    return any(os.path.isfile(os.path.join(d, "backends", f"backend_{module}.py"))
               for d in found.submodule_search_locations)


# --------------------------------------------------------------------------- the root group


class _Interrupted(Exception):
    """A signal during a command: Ctrl-C (exit 130, ``aborted``), SIGTERM (143, ``terminated``)..."""

    def __init__(self, exc: BaseException):
        super().__init__(signals.message(exc))
        self.code = signals.exit_code(exc)


class _Group(TyperGroup):
    """The root group: turns every error into one line on stderr and an exit code."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt as exc:  # while the arguments are parsed
            raise _Interrupted(exc) from None

    def invoke(self, ctx: Any) -> Any:
        # Typer's own handlers would turn Ctrl-C into a silent 130 and a broken pipe into exit 1.
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Interrupted(exc) from None
        except BrokenPipeError as exc:
            raise _StdoutError(exc) from None

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            with warnings.catch_warnings():
                _warning_policy()
                if not _debug():
                    _matplotlib_policy()
                self._main(args, prog_name, complete_var, **extra)
        finally:  # the outcome is decided: a signal from now on is remembered (see main)
            signals.closing()

    def _main(self, args: Any, prog_name: Any, complete_var: Any, **extra: Any) -> None:
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
        except _ClickUsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(exc.format_message().strip().rstrip(".") + hint, 2)
        except _ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except _Interrupted as exc:
            _say(str(exc))
            sys.exit(exc.code)
        except (typer.Abort, KeyboardInterrupt) as exc:
            if isinstance(exc.__context__, signals.Interrupted):  # click's Abort from a signal: that signal
                exc = exc.__context__
            _say(signals.message(exc))
            sys.exit(signals.exit_code(exc))
        except _StdoutError as exc:
            sys.exit(_stdout_failed(exc))
        except ActvizError as exc:
            if _debug():
                raise
            _fail(str(exc), exc.exit_code)
        except BrokenPipeError as exc:  # `actviz table | head`
            sys.exit(_stdout_failed(exc))
        except ModuleNotFoundError as exc:
            if _debug() or _missing(exc) is None:
                raise
            _fail(_missing(exc), 1)
        except Exception as exc:
            if _debug():
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (set ACTVIZ_DEBUG=1 for the traceback)", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


#: what to install for a dependency that is missing, by its top-level module
_INSTALL = {
    "torch": ("PyTorch", "pip install torch --index-url https://download.pytorch.org/whl/cpu "
                         "(CPU only; without --index-url, the CUDA build)"),
    "numpy": ("NumPy", "pip install numpy"),
    "matplotlib": ("Matplotlib", "pip install matplotlib"),
    "scipy": ("SciPy", "pip install scipy"),
    "sympy": ("SymPy", "pip install sympy"),
    "plotille": ("plotille", "pip install plotille"),
}


def _missing(exc: ModuleNotFoundError) -> str | None:
    """One line saying which dependency to install, for a missing one of actviz's; None for another module."""
    top = (exc.name or "").split(".")[0]
    if top not in _INSTALL:
        return None
    what, line = _INSTALL[top]
    return f"actviz needs {what} (the module '{top}' is not installed): {line}"


def _require(module: str) -> None:
    """Raise ModuleNotFoundError (one line through :func:`_missing`) if ``module`` is not installed; imports nothing."""
    from importlib.util import find_spec

    if find_spec(module) is None:
        raise ModuleNotFoundError(f"No module named '{module}'", name=module)


app = typer.Typer(
    cls=_Group,
    name="actviz",
    help="Analyse neural-network activation functions: formulas, verified derivatives and "
    "properties, plots, and a Fashion-MNIST training benchmark.",
    no_args_is_help=False,  # `actviz` alone: the help and exit 0, from _root below
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: commands that never fetch the data set (the others get the download progress bar)
_NEVER_DOWNLOAD = frozenset({"list", "show", "table", "check", "plot", "gallery", "report", "results"})
#: commands that never draw (matplotlib's environment is not theirs to judge)
_NO_PICTURES = frozenset({"list", "show", "table", "check", "data"})
#: commands that say they are ready themselves, when their own handlers are installed
#: (compare: when training starts, see actviz.core.signals.interruptible)
_OWN_READINESS = frozenset({"compare"})


def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True)] = False,
) -> None:
    """Analyse neural-network activation functions.

    Every command takes activation names case-insensitively, with '-' and '_'
    alike (Hard-Tanh finds hard_tanh).  Register your own activations with
    actviz.register() in a module named by ACTVIZ_PLUGINS, or from a formula
    with --define NAME=EXPR on any command (or ACTVIZ_DEFINE).
    """
    if version:
        from actviz._version import __version__

        typer.echo(f"actviz {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    if ctx.invoked_subcommand not in ("list", "data"):
        _require("numpy")  # torch runs without it, then fails inside a computation as if an activation were broken
    if ctx.invoked_subcommand not in _NO_PICTURES and not _debug():
        _check_backend()
    if signals.installed() and ctx.invoked_subcommand not in _OWN_READINESS:
        signals.ready()  # the handlers of main() are in place
    from actviz.core.registry import load_plugins

    load_plugins()
    if os.environ.get("ACTVIZ_DEFINE", "").strip():  # before the command's own --define (which may replace them)
        from actviz.facts.define import define_all, env_definitions

        define_all(env_definitions())
    if ctx.invoked_subcommand not in _NEVER_DOWNLOAD:  # any download shows a progress bar
        from actviz.cli.data import install_download_progress

        install_download_progress()


# --------------------------------------------------------------------------- the commands


def _register() -> None:
    """Add every command to :data:`app`, in the order of ``actviz --help``."""
    from actviz.cli import activations, compare, data, lesson, plot, report, results

    app.callback()(_root)
    commands = [
        ("list", activations.list_cmd),
        ("show", activations.show_cmd),
        ("table", activations.table_cmd),
        ("check", activations.check_cmd),
        ("plot", plot.plot_cmd),
        ("gallery", plot.gallery_cmd),
        ("compare", compare.compare_cmd),
        ("results", results.results_cmd),
        ("lesson", lesson.lesson_cmd),
        ("report", report.report_cmd),
    ]
    for name, function in commands:
        app.command(name)(function)
    data_app = typer.Typer(name="data", help="Where the Fashion-MNIST data set is, fetching it, checking it.",
                           invoke_without_command=True, no_args_is_help=False, add_completion=False,
                           pretty_exceptions_enable=False)
    data_app.callback()(data.data_main)
    for name, function in [("status", data.status_cmd), ("download", data.download_cmd),
                           ("verify", data.verify_cmd)]:
        data_app.command(name)(function)
    app.add_typer(data_app, name="data",
                  help="Fashion-MNIST: where it is (status), fetch it (download), check it (verify).")


_register()


def main() -> None:
    """The console-script entry point (``python -m actviz`` too).

    Ctrl-C is held back while a module is being imported (see :mod:`actviz.core.signals`);
    standard output that fails (closed pipe, full disk) or cannot encode a character is
    dealt with here, after the command, when buffered output is flushed.
    """
    signals.install()
    code: Any = 0
    try:
        _guard_stdout()
        signals.running()
        app()
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt as exc:  # arrived outside the command (e.g. right after it)
        signals.closing()
        _say(signals.message(exc))
        code = signals.exit_code(exc)
    signals.closing()
    try:
        sys.stdout.flush()
    except (_StdoutError, OSError) as exc:
        code = _stdout_failed(exc)
    except (ValueError, AttributeError):  # stdout closed
        pass
    signals.finish(code)  # a signal that came meanwhile decides the exit code; then the process ends


__all__ = ["app", "main", "resolve"]
