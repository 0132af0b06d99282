"""The process's allocator, set for training: memory a step frees stays for the next step's tensors.

glibc's malloc hands a freed block of 128 KiB or more back to the operating system (``munmap``,
or trimming the top of the heap), so a tensor created anew on the next step lands on fresh
pages, each one a page fault on first touch.  A step makes hundreds of such tensors (every
element-wise op of an activation's forward and backward, every gradient of an autograd
stack).  Measured on 2 cores of an AMD EPYC: rational's forward on 3×256×256 pre-activations
took 3.4 ms with 1,057 page faults per call, and 1.2 ms with 6 once freed memory is kept; a
LeNet stack (3 activations × 3 seeds) 3.87 s per model-epoch with 2.5 million page faults,
3.55 s with 1 million.

:func:`keep_freed_memory` sets glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` (through
``mallopt``) once per process; elsewhere (macOS, Windows, musl) it does nothing.  The cost is
that the process's resident memory stays near its peak instead of shrinking between steps.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys

__all__ = ["KEEP_BELOW", "keep_freed_memory"]

#: blocks below this size come from (and return to) the heap, not fresh mappings, and up to four
#: times it stays free at the heap's top; glibc versions that refuse 64 MiB get 32 MiB.  Larger
#: blocks (a data set's tensors) still go back to the system when freed: with 64 MiB the process
#: of ``compare relu tanh sigmoid --seeds 5 --epochs 1`` peaked 30 MB above the allocator's defaults, with
#: 1 GiB 105 MB above, and was no faster
KEEP_BELOW = (64 << 20, 32 << 20)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@functools.cache
def keep_freed_memory() -> bool:
    """Keep freed blocks in the process for reuse (glibc only, once); whether the allocator took it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, ValueError, AttributeError):
        return False
    for size in KEEP_BELOW:
        if mallopt(_M_MMAP_THRESHOLD, size) == 1:
            return mallopt(_M_TRIM_THRESHOLD, 4 * size) == 1
    return False
