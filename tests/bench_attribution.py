"""Attribution simulation: how many calls a pool attributes right.

Synthetic traffic (Poisson arrivals with a daily profile, 3-minute visits,
5% of visitors calling, 40% of them after leaving, 10% of the requests from
crawlers and draining addresses) goes through the real number assignment
and the real call attribution, each at its own time, inside an Odoo shell on
a scratch database (``call_tracking/tests/attribution_sim.py``; everything is
rolled back). For several pool sizes (the recommended one, one number per 20
daily visitors, Erlang B at 1%, and steps around them) it prints the right,
wrong and lost shares, then the calibration of the attribution probability.
Its last line reads ``attribution accuracy: R% right, W% wrong, L% lost at N
numbers (recommended)``.

    make bench                                  # with the other benchmarks
    pytest -m bench tests/bench_attribution.py -s
    python tests/bench_attribution.py [--db DB] [--visitors 600] [--seed 20261201]
                                      [--days 2] [--draws 8]

Prints figures; never asserts timings.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

try:
    import pytest
except ImportError:  # standalone run without pytest
    pytest = None

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import devlib

VISITORS = int(os.environ.get("BENCH_SIM_VISITORS", "600"))
# days of traffic replayed at each pool size, and draws of each visitor's
# call time: enough evaluated calls that the right share is measured within
# about a quarter of a point and a populated tenth of the calibration within
# a few points (one day with one draw gave about 640 calls: +/- 0.7 points
# on the right share, +/- 6 points on a tenth of 36 calls)
TRIAL_DAYS = int(os.environ.get("BENCH_SIM_DAYS", "2"))
DRAWS = int(os.environ.get("BENCH_SIM_DRAWS", "8"))
SEED = 20261201
SCRIPT = """
from odoo.addons.call_tracking.tests.attribution_sim import Scenario, run_bench
try:
    run_bench(
        env,
        Scenario(daily_visitors={visitors}, trial_days={trial_days}, draws={draws}),
        seed={seed},
    )
finally:
    env.cr.rollback()
"""
LAST_LINE = "attribution accuracy:"


def run(db, visitors=VISITORS, seed=SEED, echo=print, trial_days=TRIAL_DAYS, draws=DRAWS):
    """Run the simulation in an Odoo shell on ``db``; return its output lines."""
    # the subcommand comes first, before the configuration file
    cmd = [devlib.python(), str(devlib.ODOO_BIN), "shell", "-c", str(devlib.CONF), "-d", db,
           "--no-http", "--max-cron-threads=0", "--log-level=warn"]  # fmt: skip
    proc = subprocess.run(
        cmd,
        input=SCRIPT.format(
            visitors=int(visitors), seed=int(seed), trial_days=int(trial_days), draws=int(draws)
        ),
        capture_output=True,
        text=True,
        env=devlib.odoo_env(),
        timeout=1800,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip() or line == ""]
    for line in lines:
        echo(line)
    if proc.returncode or not any(line.startswith(LAST_LINE) for line in lines):
        raise RuntimeError(
            f"the simulation failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    return lines


if pytest:

    @pytest.mark.bench
    def test_bench_attribution(odoo_db):
        lines = run(odoo_db)
        # the line the report quotes comes last
        assert lines[-1].startswith(LAST_LINE)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="a database with call_tracking (default: a scratch one)")
    parser.add_argument("--visitors", type=int, default=VISITORS, help="visitors per day")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--days", type=int, default=TRIAL_DAYS, help="days of traffic tried at each size"
    )
    parser.add_argument("--draws", type=int, default=DRAWS, help="call times drawn per visitor")
    args = parser.parse_args()
    db, own = args.db, False
    if not db:
        logdir = devlib.LOGS / (time.strftime("%Y%m%d-%H%M%S") + f"-bench-sim-{os.getpid()}")
        logdir.mkdir(parents=True, exist_ok=True)
        db, own = devlib.create_module_db("benchsim", logdir), True
    try:
        run(db, args.visitors, args.seed, trial_days=args.days, draws=args.draws)
    finally:
        if own:
            devlib.drop_db(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
