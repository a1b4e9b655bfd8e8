"""The web page: its computations, its HTTP guards, and the page itself in headless chromium."""

import json
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from calcinosis.interfaces.cli import build_parser, main
from calcinosis.errors import CalcinosisError, ScenarioError
from calcinosis.interfaces.web import service
from calcinosis.interfaces.web.app import STATIC

FIG01 = "paparo2011_fig01_gluteal_tumoral_calcinosis"


# --------------------------------------------------------------------------- computations
def test_upload_errors_are_plain_sentences():
    cases = {
        "id: a\nevidence: {sex: male}\n": "the key 'title' is missing",
        "id: a\ntitle: b\nsource: c\nevidence: {serum_phosphat: high}\n": "Did you mean 'serum_phosphate'",
        "id: a\ntitle: b\nsource: c\nevidence: &e {sex: male}\nnote: *e\n": "aliases",
        "id: a\ntitle: b\nsource: c\nevidence: {sex: male}\nscenario: dialysis\n": "dialysis_unit",
        "x" * (service.MAX_UPLOAD_BYTES + 1): "larger than",
    }
    for text, expected in cases.items():
        with pytest.raises(CalcinosisError) as error:
            service.case_from_upload("../../secret/up.yaml", text)
        message = str(error.value)
        assert message.startswith("up.yaml"), message  # a label, never a path
        assert expected in message, message


def test_a_valid_upload_becomes_the_case():
    text = Path(service.bundled_cases()[0]).read_text(encoding="utf-8")
    case = service.case_from_upload("mine.yaml", text)
    assert case.evidence and case.title


def test_sweep_passes_through_the_stated_occurrence_exactly():
    """At the stated occurrence, the swept network is the scenario's own network."""
    stated = service.priors().conditions["chronic_kidney_disease"].occurrence.probabilities["present"]
    evidence = {"lesion_site": "hand_digits", "distribution": "multiple_regional"}
    result = service.sweep("general_adult", "chronic_kidney_disease", stated, 4 * stated, 3,
                           "chronic_kidney_disease", "p_cause", evidence)
    quick = service.quick_differential("general_adult", evidence)
    exact = next(r["p_cause"] for r in quick["differential"] if r["id"] == "chronic_kidney_disease")
    # the occurrence is calibrated by another route (in the scenario, not the reference population)
    assert result["point"][0] == pytest.approx(exact, rel=1e-6)
    assert result["point"] == sorted(result["point"]) and result["point"][-1] > 2 * result["point"][0]
    for low, point, high in zip(result["low"], result["point"], result["high"]):
        assert low < high and low <= point * 1.5 and high >= point / 1.5


def test_sweep_refuses_an_occurrence_the_relative_risks_cannot_hold():
    with pytest.raises(ScenarioError, match="the largest value of this sweep that can is 0.07071. Lower the upper end"):
        service.sweep("general_adult", "gout", 0.01, 0.5, 3, "gout", "p_cause", {})


@pytest.mark.parametrize("measure", ["p_cause", "p_present"])
def test_the_page_and_the_command_line_give_the_same_sweep(measure, capsys):
    evidence = {"lesion_site": "hand_digits"}
    page = service.sweep("dialysis_unit", "gout", 0.05, 0.3, 3, "gout", measure, evidence)
    output = ("present:" if measure == "p_present" else "") + "gout|lesion_site=hand_digits"
    assert main(["sweep", "prevalence.gout", "--from", "0.05", "--to", "0.3", "--steps", "3", "--log",
                 "--scenario", "dialysis_unit", "--output", output, "--draws", str(service.SWEEP_DRAWS),
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert page["values"] == pytest.approx([r["value"] for r in rows], rel=1e-12)
    for key, column in (("point", "p"), ("low", "low"), ("high", "high")):
        assert page[key] == pytest.approx([r[column] for r in rows], abs=1e-12), key
    assert page["point"] == sorted(page["point"]) and page["point"][-1] > page["point"][0]


def test_case_mix_moves_with_the_population():
    mix = service.case_mix(["general_adult", "dialysis_unit"])
    ckd = {s["scenario"]: next(c for c in s["causes"] if c["id"] == "chronic_kidney_disease") for s in mix["scenarios"]}
    assert ckd["dialysis_unit"]["p_cause"] > 20 * ckd["general_adult"]["p_cause"]
    assert all(c["low"] <= c["p_cause"] <= c["high"] for s in mix["scenarios"] for c in s["causes"] if c["p_cause"] > 1e-3)


def test_the_page_fetches_nothing_from_outside():
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", ""), path
        assert "https://" not in text and "//cdn" not in text, path


def test_the_page_counts_the_conditions_it_is_given():
    """The number of conditions comes from the consultation, never from a figure written into
    the page (it once said "outside the 22 conditions" after four more were added)."""
    import re

    script = (STATIC / "app.js").read_text(encoding="utf-8")
    assert not re.search(r"\b\d+ (conditions|causes)\b", script)
    assert "outside the ${conditions} conditions" in script
    assert len(service.quick_differential(None, {})["differential"]) == len(service.bundled_model().priors.vocabulary.conditions)


def test_serve_listens_on_this_machine_by_default():
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port > 0
    assert build_parser().parse_args(["serve", "--port", "9000", "--host", "0.0.0.0"]).port == 9000


# --------------------------------------------------------------------------- HTTP
@pytest.fixture(scope="module")
def server():
    from calcinosis.interfaces.web.server import running_server

    with running_server(report_draws=50) as url:
        yield url


def _post(url, body: bytes, headers=None):
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_http_guards(server):
    status, headers, body = _post(server + "/api/upload", b"x" * 300_000)
    assert status == 413 and "larger than" in json.loads(body)["error"]
    status, _, body = _post(server + "/api/differential", json.dumps({"evidence": {"sex": "maybe"}}).encode())
    assert status == 400 and "Allowed: 'female', 'male'" in json.loads(body)["error"]
    status, _, body = _post(server + "/api/differential", b"{not json")
    assert status == 400 and "not valid JSON" in json.loads(body)["error"]
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(server + "/api/case/..%2Fpriors%2Fsettings", timeout=30)
    assert error.value.code in (400, 404)
    with urllib.request.urlopen(server + "/", timeout=30) as response:
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_report_names_only_safe_files(server):
    body = json.dumps({"evidence": {"sex": "male"}, "case": {"id": "../../escape", "title": "T"}}).encode()
    status, headers, html = _post(server + "/api/report", body)
    assert status == 200
    # The one sanitiser of calcinosis.foundation.paths: the id keeps only its safe characters.
    assert 'filename="calcinosis_report_escape.html"' in headers["Content-Disposition"]
    assert b"not a diagnosis" in html
    assert not list(Path(".").glob("escape*")) and not (Path("..") / "escape").exists()


# --------------------------------------------------------------------------- the page in chromium
def _chromium_or_skip():
    from calcinosis.interfaces.web.screenshots import chromium_path

    try:
        import playwright  # noqa: F401
        return chromium_path()
    except (ImportError, CalcinosisError) as exc:
        if os.environ.get("CI"):
            raise  # CI installs chromium (.ci/run): the browser tests must run there
        pytest.skip(f"no browser here: {exc}")


def _leading_row(page):
    row = page.locator("#differential .bar-row").first
    return row.get_attribute("data-id"), float(row.get_attribute("data-value"))


@pytest.mark.slow
def test_the_page_in_a_real_browser(server, tmp_path, one_browser):
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    from calcinosis.interfaces.web.screenshots import WAIT_MS, launch_chromium, load_case, wait_ready

    with sync_playwright() as playwright:
        context, profile = launch_chromium(playwright)
        try:
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server, timeout=WAIT_MS)
            ready = wait_ready(page)
            # every finding starts unknown; the differential is the case mix
            assert page.locator("select[data-finding]").count() > 60
            assert set(page.eval_on_selector_all("select[data-finding]", "s => s.map(x => x.value)")) == {""}
            assert _leading_row(page)[0] == "calcific_tendinitis"

            # a bundled case: Fig. 1 of the review is primary tumoral calcinosis
            ready = load_case(page, FIG01)
            leader, p_before = _leading_row(page)
            assert leader == "primary_tumoral_calcinosis"
            assert "Primary (familial) tumoral calcinosis" in page.inner_text("#leader")
            assert page.get_attribute("#differential", "data-intervals") == str(service.INTERACTIVE_DRAWS)
            assert page.locator("#differential .whisker").count() >= 10

            # one finding changes the differential, in well under a few seconds
            started = time.monotonic()
            page.select_option("#finding-kidney_function", "failure")
            page.wait_for_function(f"document.querySelector('#differential .bar-row').dataset.value != '{p_before}'",
                                   timeout=WAIT_MS)
            quick_s = time.monotonic() - started
            ready = wait_ready(page, ready)
            assert _leading_row(page) != (leader, p_before)
            assert quick_s < 5, f"the differential took {quick_s:.2f} s to change"

            # a suggested test: click it, then click a result to enter it
            test = page.locator("#next-tests .test-name").first
            finding = test.get_attribute("data-finding")
            test.click()
            result = page.locator(f"#next-tests .result[data-finding='{finding}']").first
            chosen = result.get_attribute("data-state")
            result.click()
            ready = wait_ready(page, ready)
            assert page.input_value(f"#finding-{finding}") == chosen

            # an uploaded file with a typo: the error in plain words, the evidence unchanged
            bad = tmp_path / "typo.yaml"
            bad.write_text("id: t\ntitle: T\nsource: S\nevidence: {serum_phosphat: high}\n", encoding="utf-8")
            page.set_input_files("#case-upload", str(bad))
            page.wait_for_selector("#case-error:not([hidden])", timeout=WAIT_MS)
            assert "Did you mean 'serum_phosphate'" in page.inner_text("#case-error")
            assert page.input_value(f"#finding-{finding}") == chosen

            # the report download
            with page.expect_download(timeout=WAIT_MS) as download_info:
                page.click("#download-report")
            report = Path(download_info.value.path()).read_text(encoding="utf-8")
            assert "not a diagnosis" in report and "gluteal tumoral calcinosis" in report

            # the teaching view: one step per finding, with the odds arithmetic; the network shaded
            page.click("#tab-teach")
            page.wait_for_selector("#walkthrough details.step", timeout=WAIT_MS)
            steps = page.locator("#walkthrough details.step").count()
            findings = page.eval_on_selector_all("select[data-finding]", "s => s.filter(x => x.value).length")
            assert steps == findings
            assert "posterior odds = prior odds x LR" in page.inner_text("#walkthrough details.step[open]")
            page.wait_for_selector("#network .node.observed", state="attached", timeout=WAIT_MS)
            assert page.locator("#network .node.observed").count() == findings + 1  # and the calcification
            assert not errors, errors
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)
