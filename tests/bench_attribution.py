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

The 10x run (``test_bench_attribution_10x``, or ``--10x``;
``call_tracking/tests/attribution_sim_pools.py``): 6,000 visitors a day over
two pools (Google Ads and Meta Ads, each a dynamic channel on its own pool),
a quarter of the visitors coming back one to three days later from the same
browser, each pool sized by its own recommendation. It ends with its own
``attribution accuracy: ... (recommended; 10x run: ...)`` line.

    python tests/bench_attribution.py --10x [--visitors 6000] [--days 1] [--draws 1]
                                      [--factors 0.9,1.1]
    BENCH_SIM10_VISITORS=600 pytest -m bench tests/bench_attribution.py -k 10x -s

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
# the 10x run: 6,000 visitors a day over two pools (Google Ads and Meta Ads),
# a quarter of the visitors coming back one to three days later
# (call_tracking/tests/attribution_sim_pools.py). One trial day with one draw
# per visit already evaluates about 7,500 calls per size pair; the run costs
# ten times the single-pool one per simulated day, so it tries three size
# pairs (recommended, one per 20 daily visitors, Erlang B) unless told more
VISITORS_10X = int(os.environ.get("BENCH_SIM10_VISITORS", "6000"))
TRIAL_DAYS_10X = int(os.environ.get("BENCH_SIM10_DAYS", "1"))
DRAWS_10X = int(os.environ.get("BENCH_SIM10_DRAWS", "1"))
# more sizes tried: the recommended ones scaled by these factors, e.g. "0.9,1.1"
FACTORS_10X = os.environ.get("BENCH_SIM10_FACTORS", "")
SCRIPT_10X = """
from odoo.addons.call_tracking.tests.attribution_sim_pools import PoolsScenario, run_bench
try:
    run_bench(
        env,
        PoolsScenario(daily_visitors={visitors}, trial_days={trial_days}, draws={draws}),
        seed={seed},
        factors={factors!r},
    )
finally:
    env.cr.rollback()
"""


def run(db, visitors=VISITORS, seed=SEED, echo=print, trial_days=TRIAL_DAYS, draws=DRAWS):
    """Run the simulation in an Odoo shell on ``db``; return its output lines."""
    script = SCRIPT.format(
        visitors=int(visitors), seed=int(seed), trial_days=int(trial_days), draws=int(draws)
    )
    return _shell(db, script, echo)


def run_10x(
    db,
    visitors=VISITORS_10X,
    seed=SEED,
    echo=print,
    trial_days=TRIAL_DAYS_10X,
    draws=DRAWS_10X,
    factors=FACTORS_10X,
):
    """The 10x run (two pools, returning visitors) in an Odoo shell on ``db``."""
    factors = tuple(float(f) for f in str(factors).split(",") if f.strip())
    script = SCRIPT_10X.format(
        visitors=int(visitors),
        seed=int(seed),
        trial_days=int(trial_days),
        draws=int(draws),
        factors=factors,
    )
    return _shell(db, script, echo)


def _shell(db, script, echo):
    # the subcommand comes first, before the configuration file
    cmd = [devlib.python(), str(devlib.ODOO_BIN), "shell", "-c", str(devlib.CONF), "-d", db,
           "--no-http", "--max-cron-threads=0", "--log-level=warn"]  # fmt: skip
    proc = subprocess.run(
        cmd,
        input=script,
        capture_output=True,
        text=True,
        env=devlib.odoo_env(),
        timeout=7200,
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
    def test_bench_attribution(odoo_db, bench_figure):
        lines = run(odoo_db)
        # the line the report quotes comes last
        assert lines[-1].startswith(LAST_LINE)
        bench_figure(lines[-1])

    @pytest.mark.bench
    def test_bench_attribution_10x(odoo_db, bench_figure):
        lines = run_10x(odoo_db)
        assert lines[-1].startswith(LAST_LINE) and "10x run" in lines[-1]
        bench_figure(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="a database with call_tracking (default: a scratch one)")
    parser.add_argument(
        "--visitors", type=int, help=f"visitors per day ({VISITORS}; --10x: {VISITORS_10X})"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--days",
        type=int,
        help=f"days of traffic tried at each size ({TRIAL_DAYS}; --10x: {TRIAL_DAYS_10X})",
    )
    parser.add_argument(
        "--draws", type=int, help=f"call times drawn per visitor ({DRAWS}; --10x: {DRAWS_10X})"
    )
    parser.add_argument(
        "--10x",
        dest="tenfold",
        action="store_true",
        help="the 10x run (two pools, returning visitors; --visitors defaults to 6000)",
    )
    parser.add_argument("--factors", default=FACTORS_10X, help="10x run: size factors tried")
    args = parser.parse_args()
    db, own = args.db, False
    if not db:
        logdir = devlib.LOGS / (time.strftime("%Y%m%d-%H%M%S") + f"-bench-sim-{os.getpid()}")
        logdir.mkdir(parents=True, exist_ok=True)
        db, own = devlib.create_module_db("benchsim", logdir), True
    try:
        if args.tenfold:
            run_10x(
                db,
                args.visitors or VISITORS_10X,
                args.seed,
                trial_days=args.days or TRIAL_DAYS_10X,
                draws=args.draws or DRAWS_10X,
                factors=args.factors,
            )
        else:
            run(
                db,
                args.visitors or VISITORS,
                args.seed,
                trial_days=args.days or TRIAL_DAYS,
                draws=args.draws or DRAWS,
            )
    finally:
        if own:
            devlib.drop_db(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
