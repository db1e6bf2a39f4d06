"""scripts/devlib.py scan_log: what makes an Odoo test run fail besides its
exit code (the reading of Odoo's log that pytest-odoo would otherwise
replace; see docs/developer/tests.rst, "Test tooling")."""

import devlib

HEAD = "2026-12-05 21:00:00,000 4242"


def scan(tmp_path, *lines):
    log = tmp_path / "odoo.log"
    log.write_text("\n".join(lines) + "\n")
    return devlib.scan_log(log)


def test_report_line_and_counts(tmp_path):
    rep = scan(
        tmp_path,
        f"{HEAD} INFO db odoo.tests.result: 1 failed, 2 error(s) of 30 tests when loading"
        " database 'db'",
    )
    assert rep.report_found and (rep.tests_run, rep.failed, rep.errors) == (30, 1, 2)
    assert rep.bad_tests == 3


def test_error_line_with_its_traceback(tmp_path):
    rep = scan(
        tmp_path,
        f"{HEAD} ERROR db odoo.modules.loading: Failed to load data file",
        "Traceback (most recent call last):",
        '  File "x.py", line 1',
        f"{HEAD} INFO db odoo.modules.loading: next",
    )
    assert len(rep.error_blocks) == 1 and "Traceback" in rep.error_blocks[0]
    assert "next" not in rep.error_blocks[0]


def test_browser_test_skipped_for_lack_of_chromium(tmp_path):
    rep = scan(
        tmp_path,
        f"{HEAD} INFO db odoo.addons.x.tests: skipped test_tour (x.TestTour) : Chrome"
        " executable not found",
        f"{HEAD} INFO db odoo.addons.x.tests: skipped test_other (x.TestOther) : not relevant here",
    )
    assert rep.skipped == 2 and len(rep.env_skips) == 1


def test_no_report_line(tmp_path):
    rep = scan(tmp_path, f"{HEAD} INFO db odoo.modules.loading: Modules loaded.")
    assert not rep.report_found and not rep.error_blocks
