"""The virtualenv that scripts/setup.sh builds can run Odoo's gevent worker.

With the setuptools that ``python -m venv`` seeds (65.5), pkg_resources looks
distributions up by their non-normalised names: gevent's plugin loading at
``monkey.patch_all()`` (the first thing Odoo's gevent/websocket process does)
then raised ``DistributionNotFound: The 'zope.interface' distribution was not
found`` and the process died at every start of a server with workers.
"""

import subprocess

import devlib


def test_gevent_patch_all_finds_its_plugins():
    proc = subprocess.run(
        [
            devlib.python(),
            "-W",
            "error::UserWarning",  # and no pkg_resources warning in every server log
            "-c",
            (
                "from gevent import monkey; monkey.patch_all();"
                " import pkg_resources; pkg_resources.require('gevent'); print('patched')"
            ),
        ],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        cwd=devlib.ROOT,
    )
    output = proc.stdout + proc.stderr
    assert "DistributionNotFound" not in output, output
    assert proc.returncode == 0 and "patched" in proc.stdout, output
