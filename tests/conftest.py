"""What every test module shares.

* Plain helpers (the CliRunner, ``error_line``, ``one_line``, the subprocess environment)
  are in ``helpers.py``, imported as ``from helpers import ...``; the synthetic stand-in
  for Fashion-MNIST is ``test_train.synthetic``.
* The default run leaves out the tests marked ``slow`` (they train on the real
  Fashion-MNIST, start real processes, draw whole galleries: each takes a third of a
  second or more): ``pytest -m slow`` runs them, ``pytest -m ""`` runs everything.
* Many tests signal the ``actviz`` processes they start (or have those processes signal
  themselves).  A process inherits an *ignored* signal across ``exec`` (and actviz keeps it
  ignored: the user's choice), so a test run started with SIGINT, SIGTERM or SIGHUP
  ignored — a background job of a non-interactive shell ignores SIGINT — gives them back
  their default action here, for itself and every process it starts.  The test of an
  inherited ignored signal ignores it in its own child.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

for _name in ("SIGINT", "SIGTERM", "SIGHUP"):
    _signum = getattr(signal, _name, None)
    if _signum is not None and signal.getsignal(_signum) is signal.SIG_IGN:
        signal.signal(_signum, signal.default_int_handler if _name == "SIGINT" else signal.SIG_DFL)

# this folder is importable whatever pytest's import mode, so ``helpers`` and ``test_train`` are
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
