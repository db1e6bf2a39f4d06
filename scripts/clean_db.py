#!/usr/bin/env python3
"""`make clean-db`: drop the cached template databases (ct_tmpl_*) and the
test databases (ct_test_*, ct_pytest_*), kept ones included. The next
`make test` rebuilds the template. The demo database is left alone
(drop it with: source .local/env.sh && dropdb call_tracking_demo)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devlib


def main():
    for name in sorted(devlib.list_dbs()):
        if name.startswith(("ct_tmpl_", "ct_test_", "ct_pytest_", "ct_srv_")):
            print(f"dropping {name}", flush=True)
            devlib.drop_db(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
