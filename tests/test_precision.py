"""The CPU's bfloat16 matrix units, read from /proc/cpuinfo's flags."""

from __future__ import annotations

import pytest

from actviz.bench.engine.precision import cpu_bf16_units


@pytest.mark.parametrize("flags,units", [
    ("fpu sse avx2 avx512f", []),
    ("fpu avx512f avx512_bf16 avx512_vnni", ["avx512_bf16"]),
    ("fpu avx512_bf16 amx_bf16 amx_tile amx_int8", ["avx512_bf16", "amx_bf16"]),
])
def test_the_bf16_units_are_read_from_the_cpu_flags(tmp_path, flags, units):
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    assert cpu_bf16_units(str(info)) == units


def test_unreadable_or_flagless_cpu_information_is_none(tmp_path):
    assert cpu_bf16_units(str(tmp_path / "missing")) is None
    (tmp_path / "cpuinfo").write_text("processor\t: 0\n")
    assert cpu_bf16_units(str(tmp_path / "cpuinfo")) is None
