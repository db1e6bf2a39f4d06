#!/usr/bin/env python3
"""The test command behind `make test` (and `make bench`).

1. lint: ruff check, ruff format --check, pylint-odoo mandatory checks, and
   ``pre-commit run --all-files`` (OCA's manifest/XML/PO checks, the
   generated addon README; .pre-commit-config.yaml);
   translations: scripts/i18n_check.py (uk.po and ru.po translate every msgid
   of the template, same placeholders and markup, msgfmt --check), one check;
2. Odoo's own test runner on a fresh database copied from a cached template
   (the module's dependencies installed with demo data):
   ``-i call_tracking,base_automation --test-enable --test-tags /call_tracking``
   (base_automation: test-only, devlib.TEST_MODULES);
3. pytest on tests/ against a real Odoo server on that same database (and
   the packaging and deployment checks: tests/test_packaging.py,
   tests/test_deploy.py).

Odoo's log is read, not just its exit code. The last line printed is
``N passed, N failed`` for all layers; the exit code is 1 when anything failed.
Full logs: .local/logs/<run>/. Run with --help for the options.
"""

import argparse
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devlib
from devlib import LOG_LINE, MODULE, REPORT_LINE, ROOT

MAX_PRINTED_LINES = 150  # per failure block in the closing report


def out(*args):
    print(*args, flush=True)


def section(title):
    out(f"\n======== {title} ========")


def clip(text, limit=MAX_PRINTED_LINES):
    lines = text.splitlines()
    if len(lines) <= limit:
        return text
    return "\n".join(lines[:limit] + [f"... ({len(lines) - limit} more lines in the log)"])


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.problems = []  # (title, details) printed at the end
        self.lines = []  # one line per layer for the summary

    def problem(self, title, details=""):
        self.problems.append((title, details))


# ------------------------------------------------------------------ lint


def run_lint(tally, logdir):
    section("lint")
    py = devlib.python()
    paths = [p for p in (MODULE, "scripts", "tests") if (ROOT / p).exists()]
    steps = [
        ("ruff check", [py, "-m", "ruff", "check", "--no-fix", *paths]),
        ("ruff format --check", [py, "-m", "ruff", "format", "--check", "--diff", *paths]),
    ]
    have_pylint = (
        subprocess.run(
            [py, "-c", "import pylint_odoo"], capture_output=True, check=False
        ).returncode
        == 0
    )
    if have_pylint and (ROOT / MODULE).is_dir():
        steps.append(("pylint-odoo", [py, "-m", "pylint", "--rcfile=.pylintrc", MODULE]))
    # .pre-commit-config.yaml: ruff again, OCA's manifest/XML/CSV/PO checks and
    # the generated addon README; its pylint-odoo hook is the step above
    steps.append(
        (
            "pre-commit run --all-files",
            [py, "-m", "pre_commit", "run", "--all-files", "--show-diff-on-failure"],
            {"SKIP": "pylint-odoo", "PRE_COMMIT_COLOR": "never"},
        )
    )
    failed = []
    with open(logdir / "lint.log", "w") as log:
        for name, cmd, *extra_env in steps:
            env = dict(os.environ, **extra_env[0]) if extra_env else None
            proc = subprocess.run(
                cmd,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            output = (proc.stdout + proc.stderr).strip()
            log.write(f"$ {' '.join(cmd)}\n{output}\nexit {proc.returncode}\n\n")
            out(f"{name}: {'ok' if proc.returncode == 0 else 'FAILED'}")
            if proc.returncode:
                out(clip(output))
                failed.append(name)
                tally.problem(f"lint: {name}", output)
    if not have_pylint:
        out("pylint-odoo: not installed, skipped")
    if failed:
        tally.failed += 1  # lint counts as one failed test
    tally.lines.append(f"lint: {'FAILED (' + ', '.join(failed) + ')' if failed else 'ok'}")


# ------------------------------------------------------------------ translations


def run_translations(tally, logdir):
    """scripts/i18n_check.py against the committed template, counted as one
    test (the Odoo test TestTranslations checks the template is fresh)."""
    section("translations")
    cmd = [devlib.python(), str(ROOT / "scripts" / "i18n_check.py")]
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    output = (proc.stdout + proc.stderr).strip()
    (logdir / "translations.log").write_text(
        f"$ {' '.join(cmd)}\n{output}\nexit {proc.returncode}\n"
    )
    out(clip(output, 40))
    if proc.returncode:
        tally.failed += 1
        tally.problem("translations (scripts/i18n_check.py)", output)
    else:
        tally.passed += 1
    coverage = "; ".join(line for line in output.splitlines() if "msgids translated" in line)
    tally.lines.append(f"translations: {'FAILED' if proc.returncode else 'ok'} ({coverage})")


# ------------------------------------------------------------------ Odoo tests


class OdooEcho:
    """Shows test progress, warnings and errors (with tracebacks) live."""

    def __init__(self):
        self.in_error = False

    def __call__(self, line):
        match = LOG_LINE.match(line)
        if not match:
            if self.in_error:
                out(line)
            return
        level, msg = match["level"], match["msg"]
        self.in_error = level in ("ERROR", "CRITICAL")
        if (
            level in ("WARNING", "ERROR", "CRITICAL")
            or (msg.startswith("Starting ") and ".tests" in match["logger"])
            or REPORT_LINE.search(msg)
        ):
            out(line)


def run_odoo_tests(tally, logdir, db, test_tags, timeout):
    # the module and the test-only modules its tests need (not dependencies)
    modules = ",".join((MODULE, *devlib.TEST_MODULES))
    section(f"Odoo tests: -i {modules} --test-tags {test_tags} on database {db}")
    log = logdir / "odoo-tests.log"
    started = time.monotonic()
    rc = devlib.run_odoo(
        [
            "-d", db, f"--db-filter=^{db}$", "-i", modules, "--test-enable",
            f"--test-tags={test_tags}", "--stop-after-init", "--log-level=test",
            "--max-cron-threads=0", "--http-interface=127.0.0.1",
            f"--http-port={devlib.free_port()}", f"--gevent-port={devlib.free_port()}",
        ],
        log,
        echo=OdooEcho(),
        timeout=timeout,
    )  # fmt: skip
    rep = devlib.scan_log(log)
    rel = log.relative_to(ROOT)
    other = []
    if rc == 124:
        other.append(f"Odoo was killed after {timeout}s")
    elif rc:
        other.append(f"Odoo exited with code {rc}")
    if not rep.report_found:
        other.append("Odoo printed no test report ('N failed, N error(s) of N tests'): crashed?")
    elif rep.tests_run == 0:
        other.append(f"Odoo ran 0 tests for --test-tags {test_tags}")
    if rep.env_skips:
        other.append(
            "browser tests were skipped because this machine cannot run them"
            " (install chromium and websocket-client: bash scripts/setup.sh):\n"
            + "\n".join(rep.env_skips)
        )
    if rep.error_blocks and not rep.bad_tests:
        other.append("ERROR/CRITICAL lines in the Odoo log")
    for block in rep.error_blocks:
        tally.problem(f"Odoo log ({rel})", block)
    for msg in other:
        tally.problem(f"Odoo tests ({rel})", msg)
    failed = max(rep.bad_tests, 1 if other else 0)
    passed = max(rep.tests_run - rep.bad_tests - rep.skipped, 0)
    tally.passed += passed
    tally.failed += failed
    tally.skipped += rep.skipped
    notes = "".join(f"; {m.splitlines()[0]}" for m in other)
    tally.lines.append(
        f"Odoo tests: {rep.tests_run} run, {rep.failed} failed, {rep.errors} error(s),"
        f" {rep.skipped} skipped{notes} ({time.monotonic() - started:.0f}s, log {rel})"
    )


# ------------------------------------------------------------------ pytest


def run_pytest(tally, logdir, db, marker, extra, bench=False, stress=False):
    target = "tests/test_stress.py" if stress else "tests"
    section(f"pytest {target} -m '{marker}'" + (f" on database {db}" if db else ""))
    xml = logdir / "pytest.xml"
    log = logdir / "pytest.log"
    cmd = [
        devlib.python(), "-m", "pytest", target, "-m", marker, f"--junitxml={xml}",
        "-o", "junit_family=xunit2", "-rfE", *(["-s"] if bench else []), *extra,
    ]  # fmt: skip
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTEST_RUN_DIR=str(logdir))
    if stress:
        # tests/test_stress.py at full volume (make test runs a tenth of it)
        env["CALL_TRACKING_STRESS"] = "full"
    if db:
        env[devlib.TEST_DB_ENV] = db
    started = time.monotonic()
    with open(log, "w") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        )
        for line in proc.stdout:
            fh.write(line)
            sys.stdout.write(line)
            sys.stdout.flush()
        rc = proc.wait()
    rel = log.relative_to(ROOT)
    if rc == 5:  # no tests collected
        if bench:
            out("no benchmark (bench-marked test) yet")
            tally.lines.append("pytest: no benchmarks")
            return
        tally.failed += 1
        tally.problem("pytest", f"pytest collected no test (-m '{marker}')")
        tally.lines.append(f"pytest: collected no test (log {rel})")
        return
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failures = []
    try:
        root = ET.parse(xml).getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            for key in counts:
                counts[key] += int(suite.get(key, 0))
            for case in suite.iter("testcase"):
                for bad in list(case.findall("failure")) + list(case.findall("error")):
                    name = f"{case.get('classname')}::{case.get('name')}"
                    message = (bad.get("message") or "").strip().splitlines()
                    failures.append(f"{name}: {message[0] if message else bad.tag}")
    except (OSError, ET.ParseError) as exc:
        tally.failed += 1
        tally.problem("pytest", f"pytest exited {rc} without a readable junit report ({exc})")
        tally.lines.append(f"pytest: exit {rc}, no report (log {rel})")
        return
    bad = counts["failures"] + counts["errors"]
    passed = counts["tests"] - bad - counts["skipped"]
    if rc and not bad:
        bad = 1
        failures.append(f"pytest exited with code {rc}")
    tally.passed += passed
    tally.failed += bad
    tally.skipped += counts["skipped"]
    if failures:
        tally.problem(f"pytest ({rel}; tracebacks above)", "\n".join(failures))
    tally.lines.append(
        f"pytest: {counts['tests']} run, {counts['failures']} failed, {counts['errors']} error(s),"
        f" {counts['skipped']} skipped ({time.monotonic() - started:.0f}s, log {rel})"
    )


# ------------------------------------------------------------------ main


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Environment: KEEP_DB=1 keeps the test database; ODOO_SRC; "
        "ODOO_TEST_TIMEOUT (seconds, default 3600). Arguments after -- go to pytest.",
    )
    parser.add_argument("--no-lint", action="store_true", help="skip ruff/pylint")
    parser.add_argument(
        "--no-i18n", action="store_true", help="skip the translation check (also --no-lint)"
    )
    parser.add_argument("--no-odoo", action="store_true", help="skip Odoo's test runner")
    parser.add_argument("--no-pytest", action="store_true", help="skip pytest")
    parser.add_argument(
        "--test-tags",
        default=f"/{MODULE}",
        help="Odoo --test-tags (default %(default)s), e.g. /call_tracking:TestMenus.test_menus",
    )
    parser.add_argument("--keep-db", action="store_true", default=os.environ.get("KEEP_DB") == "1")
    parser.add_argument("--bench", action="store_true", help="run the bench-marked tests only")
    parser.add_argument(
        "--stress",
        action="store_true",
        help="run only the stress harness (tests/test_stress.py) at full volume",
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    return parser.parse_args()


def main():
    args = parse_args()
    started = time.monotonic()
    run_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    logdir = devlib.LOGS / run_id
    logdir.mkdir(parents=True, exist_ok=True)
    tally = Tally()
    if args.bench or args.stress:
        args.no_lint = args.no_odoo = True
    db = None
    try:
        devlib.cleanup_stale_dbs(out)
        if not args.no_lint:
            run_lint(tally, logdir)
        if not (args.no_lint or args.no_i18n):
            run_translations(tally, logdir)
        if not args.no_odoo:
            try:
                template = devlib.ensure_template(logdir, out)
                db = devlib.unique_db_name("test")
                devlib.copy_db(template, db)
            except (devlib.SetupError, OSError) as exc:
                tally.failed += 1
                tally.problem("test database", str(exc))
                tally.lines.append("Odoo tests: not run (no test database)")
                args.no_pytest = True
            else:
                timeout = int(os.environ.get("ODOO_TEST_TIMEOUT", "3600"))
                run_odoo_tests(tally, logdir, db, args.test_tags, timeout)
                if not args.no_pytest and devlib.module_state(db) != "installed":
                    tally.failed += 1
                    tally.problem("pytest", f"not run: {MODULE} is not installed in {db}")
                    tally.lines.append(f"pytest: not run ({MODULE} did not install)")
                    args.no_pytest = True
        if not args.no_pytest:
            marker = "bench" if args.bench else "not bench"
            run_pytest(
                tally, logdir, db, marker, args.pytest_args, bench=args.bench, stress=args.stress
            )
    finally:
        if db:
            if args.keep_db:
                devlib.comment_db(db, f"keep: run {run_id}")
                out(f"\nkept database {db} (drop it: make clean-db, or dropdb {db})")
            else:
                devlib.drop_db(db)
    if tally.problems:
        section("failures")
        for title, details in tally.problems:
            out(f"--- {title}")
            if details:
                out(clip(details))
    section("summary")
    for line in tally.lines:
        out(line)
    out(f"logs: {logdir.relative_to(ROOT)}/   time: {time.monotonic() - started:.0f}s")
    if tally.skipped:
        out(f"({tally.skipped} skipped)")
    out(f"{tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
