"""What every test module shares.

* Plain helpers (the CliRunner, ``error_line``, ``one_line``, the subprocess environment)
  are in ``helpers.py``, imported as ``from helpers import ...``; the synthetic stand-in
  for Fashion-MNIST is ``test_train.synthetic``.
* The default run leaves out the tests marked ``slow`` (they train on the real
  Fashion-MNIST, start real processes, draw whole galleries: each takes a third of a
  second or more): ``pytest -m slow`` runs them, ``pytest -m ""`` runs everything.
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder is importable whatever pytest's import mode, so ``helpers`` and ``test_train`` are
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
