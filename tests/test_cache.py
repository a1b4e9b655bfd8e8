"""The on-disk cache of validated priors: a hit returns what validation returned, a
changed file misses it, an unreadable entry is rebuilt, and the cache can be turned off."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from calcinosis import load_priors
from calcinosis.errors import PriorsError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folders(tmp_path, monkeypatch):
    priors = tmp_path / "priors"
    shutil.copytree(ROOT / "priors", priors)
    cache = tmp_path / "cache"
    monkeypatch.setenv("CALCINOSIS_CACHE", str(cache))
    return priors, cache


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("priors-*.pickle"))


def test_a_second_load_comes_from_the_cache(folders):
    priors, cache = folders
    first = load_priors(priors)
    assert len(entries(cache)) == 1
    second = load_priors(priors)
    assert second.checksum == first.checksum
    assert second.parameter_table().equals(first.parameter_table())
    assert len(entries(cache)) == 1


def test_a_changed_priors_file_rebuilds_the_cache(folders):
    priors, cache = folders
    before = load_priors(priors)
    path = priors / "conditions.yaml"
    path.write_text(path.read_text().replace("probabilities: {present: 0.0000009}", "probabilities: {present: 0.0000018}", 1))
    after = load_priors(priors)
    assert after.checksum != before.checksum
    assert after.conditions["melorheostosis"].occurrence.probabilities["present"] == pytest.approx(1.8e-6)
    assert len(entries(cache)) == 2


def test_an_invalid_edit_is_reported_even_after_a_cached_load(folders):
    priors, _ = folders
    load_priors(priors)
    path = priors / "conditions.yaml"
    path.write_text(path.read_text().replace("probabilities: {present: 0.0000009}", "probabilities: {present: 1.7}", 1))
    with pytest.raises(PriorsError, match="melorheostosis"):
        load_priors(priors)


def test_an_unreadable_entry_is_rebuilt(folders):
    priors, cache = folders
    load_priors(priors)
    [entry] = entries(cache)
    entry.write_bytes(b"not a pickle")
    assert load_priors(priors).checksum
    assert entry.read_bytes()[:1] == b"\x80"  # rewritten as a pickle


def test_the_cache_can_be_turned_off(folders, monkeypatch):
    priors, cache = folders
    monkeypatch.setenv("CALCINOSIS_CACHE", "off")
    load_priors(priors)
    assert not cache.exists()


def test_a_consultation_does_not_import_pgmpy_or_scipy():
    code = ("import sys, calcinosis; m = calcinosis.Model.load(); "
            "m.consult({'serum_phosphate': 'high'}, draws=20, seed=1); "
            "print(sorted(k for k in ('pgmpy', 'scipy', 'matplotlib', 'sklearn') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "[]"


def test_a_plan_is_compiled_once_then_read_from_the_cache(folders, monkeypatch):
    from calcinosis.inference import engine
    from calcinosis.network.assembly import build_tables

    priors, cache = folders
    tables = build_tables(load_priors(priors), "general_adult")
    evidence = [{"serum_phosphate": "high", "soft_tissue_calcification": "present"}]
    monkeypatch.setattr(engine, "_PLANS", {})  # a new process: nothing planned in memory
    first = engine.CompiledEngine(tables).query(evidence, ["lesion_cause"]).marginals["lesion_cause"]
    assert len(list(cache.glob("plan-*.pickle"))) == 1

    compile_plan = engine.CompiledEngine._compile
    monkeypatch.setattr(engine, "_PLANS", {})
    monkeypatch.setattr(engine.CompiledEngine, "_compile", lambda *args: pytest.fail("planned again"))
    again = engine.CompiledEngine(tables).query(evidence, ["lesion_cause"]).marginals["lesion_cause"]
    assert (again == first).all()

    # Another pattern of observed nodes is another plan, compiled and stored.
    monkeypatch.setattr(engine.CompiledEngine, "_compile", compile_plan)
    engine.CompiledEngine(tables).query([{"serum_calcium": "high"}], ["lesion_cause"])
    assert len(list(cache.glob("plan-*.pickle"))) == 2
