"""A run's decision boundary as stored in ``results.json``: its encoding, decoding and check.

A run trained on a 2-D toy set holds ``boundary``::

    {"extent": [x0, x1, y0, y1], "size": n, "classes": k,
     "probs": "<base64>", "points": [[x, y], ...], "labels": [c, ...]}

``probs`` is the model's class probabilities on an ``n`` × ``n`` grid of points evenly
spaced over ``extent`` (cell centres; the data's extent plus a margin): ``k·n·n`` bytes,
class-major then row (``y`` from ``y0`` up) then column (``x`` from ``x0`` right), each
probability rounded to a byte (``round(255·p)``), in base64.  ``points`` and ``labels``
are (up to :data:`MAX_POINTS` of) the training points, to draw on top.  About 25 KB of
JSON per two-class run at ``n = 96``.  Standard library only.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

__all__ = ["MAX_POINTS", "decode", "encode", "problem"]

#: the most training points a boundary keeps to draw
MAX_POINTS = 400
#: the largest grid side a stored boundary may have
_MAX_SIZE = 1024


def encode(probs: Any, extent: Sequence[float], points: Any, labels: Any) -> dict[str, Any]:
    """The stored form of ``probs`` (k, n, n) in [0, 1] (numpy or torch) over ``extent``, with the points."""
    import numpy as np

    p = np.asarray(probs, dtype=np.float64)
    k, n, _ = p.shape
    q = np.clip(np.rint(p * 255), 0, 255).astype(np.uint8)
    pts = np.asarray(points, dtype=np.float64)[:MAX_POINTS]
    return {
        "extent": [round(float(v), 6) for v in extent],
        "size": int(n),
        "classes": int(k),
        "probs": base64.b64encode(q.tobytes()).decode("ascii"),
        "points": [[round(float(x), 4), round(float(y), 4)] for x, y in pts],
        "labels": [int(c) for c in np.asarray(labels)[:MAX_POINTS]],
    }


def decode(boundary: dict[str, Any]) -> Any:
    """The probabilities of a checked ``boundary`` as a float array (k, n, n) in [0, 1]."""
    import numpy as np

    k, n = boundary["classes"], boundary["size"]
    raw = np.frombuffer(base64.b64decode(boundary["probs"]), dtype=np.uint8)
    return raw.reshape(k, n, n).astype(np.float32) / 255.0


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def _count(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def problem(b: Any) -> str | None:
    """What is wrong with a stored ``boundary`` (None: nothing)."""
    if not isinstance(b, dict):
        return "is not an object"
    ext = b.get("extent")
    if not (isinstance(ext, list) and len(ext) == 4 and all(map(_number, ext)) and ext[0] < ext[1]
            and ext[2] < ext[3]):
        return "'extent' is not [x0, x1, y0, y1] with x0 < x1 and y0 < y1"
    if not _count(b.get("size"), 2, _MAX_SIZE):
        return f"'size' is not a whole number from 2 to {_MAX_SIZE}"
    if not _count(b.get("classes"), 2, 255):
        return "'classes' is not a whole number from 2 to 255"
    try:
        raw = base64.b64decode(b.get("probs") or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        return "'probs' is not base64"
    if len(raw) != b["classes"] * b["size"] ** 2:
        return f"'probs' holds {len(raw)} bytes, not classes × size² = {b['classes'] * b['size'] ** 2}"
    pts, labels = b.get("points"), b.get("labels")
    if not (isinstance(pts, list) and all(isinstance(p, list) and len(p) == 2 and all(map(_number, p))
                                          for p in pts)):
        return "'points' is not a list of [x, y] pairs"
    if not (isinstance(labels, list) and len(labels) == len(pts)
            and all(_count(c, 0, b["classes"] - 1) for c in labels)):
        return "'labels' is not one class number per point"
    return None
