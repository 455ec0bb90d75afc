"""What the benchmark scripts share: the kind of machine that names a results file."""

from __future__ import annotations

import pytest

from benchmarks import common
from utils import machine


@pytest.mark.parametrize("cap", ["AVX2", "avx512_core", "AVX512_CORE_BF16", "ALL", ""])
def test_results_kind_adds_any_onednn_cap(monkeypatch, cap):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    monkeypatch.setattr(machine, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    capped = cap.upper() not in ("", "ALL")
    assert common.results_kind() == ("avx512-bf16-capped-" + cap.lower() if capped
                                     else "avx512-bf16")
