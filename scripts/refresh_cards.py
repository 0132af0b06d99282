"""Compute the symbolic card of every built-in at its default parameters into actviz/facts/cards.json.

Run after changing a built-in's formula (``symbolic``) or declared properties; a test checks that
every built-in has its card there.  Usage: python scripts/refresh_cards.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import actviz
    from actviz.facts import symcache
    from actviz.facts.activations import BUILTINS
    from actviz.facts.card import card_key
    from actviz.facts.cardcalc import compute

    out = {}
    for spec in BUILTINS:
        act = actviz.get(spec.name)
        out[card_key(act)] = compute(act)
        print(spec.name, file=sys.stderr)
    symcache.PACKAGED.write_text(json.dumps(out, sort_keys=True, ensure_ascii=False, indent=0) + "\n",
                                 encoding="utf-8")
    print(f"wrote {symcache.PACKAGED} ({len(out)} cards)", file=sys.stderr)


if __name__ == "__main__":
    main()
