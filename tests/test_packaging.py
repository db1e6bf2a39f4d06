"""The addon as a Python wheel, installed the way OCA addons are.

Builds ``odoo_addon_call_tracking-18.0.*.whl`` with whool (the build backend
of call_tracking/pyproject.toml), installs it into a new virtualenv that has
no copy of this repository, and has Odoo install ``call_tracking`` from that
wheel with only Odoo's own addons on ``--addons-path``: the module is found
through the ``odoo.addons`` namespace in the virtualenv's site-packages.
"""

import subprocess
import sys
import textwrap
import zipfile
from email.parser import Parser
from pathlib import Path

import devlib
import pytest

ROOT = devlib.ROOT


def _run(cmd, **kwargs):
    proc = subprocess.run(
        cmd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, **kwargs
    )
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    # whool is pinned in requirements-test.txt: no build isolation, no network
    _run(
        [
            devlib.python(), "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
            "--wheel-dir", str(dist), str(ROOT / devlib.MODULE),
        ],
        cwd=ROOT,
    )  # fmt: skip
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _metadata(wheel):
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(zf.read(name).decode()), zf.namelist()


def test_wheel_name_metadata_and_files(wheel):
    assert wheel.name.startswith("odoo_addon_call_tracking-18.0."), wheel.name
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    meta, names = _metadata(wheel)
    assert (
        meta["Name"] == "odoo-addon-call_tracking"
        or meta["Name"].replace("_", "-") == "odoo-addon-call-tracking"
    ), meta["Name"]
    manifest = devlib.manifest()
    assert meta["Version"].startswith(manifest["version"]), meta["Version"]
    assert meta["License"] == "LGPL-3" or "LGPL" in (meta["License-Expression"] or "")
    requires = {
        r.split(";")[0].split("<")[0].split(">")[0].split("=")[0].strip().lower()
        for r in meta.get_all("Requires-Dist") or []
    }
    # from the manifest's external_dependencies, and Odoo itself (its addons
    # in "depends" are part of Odoo)
    for pkg in manifest["external_dependencies"]["python"]:
        assert pkg.lower() in requires, (pkg, requires)
    assert "odoo" in requires, requires
    prefix = f"odoo/addons/{devlib.MODULE}/"
    for path in [
        "__manifest__.py",
        "__init__.py",
        *manifest["data"],
        *manifest["demo"],
        "static/src/js/call_tracking.js",
        "static/description/index.html",
    ]:
        assert prefix + path in names, f"{prefix + path} is missing from {wheel.name}"
    # the namespace packages must stay namespaces (no __init__.py of our own)
    assert "odoo/__init__.py" not in names
    assert "odoo/addons/__init__.py" not in names


def test_odoo_installs_the_module_from_the_wheel(wheel, tmp_path, log_dir):
    # a new virtualenv: Odoo's dependencies come from the project's venv
    # (a .pth line), the addon only from the wheel
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    vpy = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(_run([str(vpy), "-c", purelib]).stdout.strip())
    project_site = _run([devlib.python(), "-c", purelib]).stdout.strip()
    assert project_site != str(site)
    (site / "_project_venv.pth").write_text(project_site + "\n")
    _run([devlib.python(), "-m", "pip", "--python", str(vpy), "install", "--no-deps", str(wheel)])
    installed = site / "odoo" / "addons" / devlib.MODULE / "__manifest__.py"
    assert installed.is_file()
    assert not (site / "odoo" / "__init__.py").exists()

    odoo_src = devlib.odoo_src()
    conf = tmp_path / "odoo.conf"
    pg = devlib.pg_params()
    conf.write_text(
        textwrap.dedent(
            f"""\
            [options]
            addons_path = {odoo_src}/odoo/addons
            data_dir = {devlib.data_dir()}
            db_host = {pg.get("host", "False")}
            db_port = {pg.get("port", "False")}
            db_user = {pg.get("user", "False")}
            db_password = {pg.get("password", "False")}
            list_db = False
            """
        )
    )
    # the repository is not on this addons path (data_dir and the database
    # socket of the development cluster may live under it)
    assert str(ROOT) not in conf.read_text().split("\n")[1]
    env = devlib.odoo_env()
    env.pop("ODOO_RC", None)

    # where this Odoo finds the module: in the new venv, not in the repository
    where = _run(
        [
            str(vpy), "-c",
            ("import sys; sys.path.insert(0, sys.argv[1]); import odoo;"
            " odoo.tools.config.parse_config(['-c', sys.argv[2]]);"
            " odoo.modules.module.initialize_sys_path();"
            " print(odoo.modules.module.get_module_path('call_tracking'))"),
            odoo_src, str(conf),
        ],
        cwd=tmp_path,
        env=env,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    assert Path(where).resolve() == installed.parent.resolve(), where

    # Odoo installs it (a copy of the template: its dependencies are there)
    template = devlib.ensure_template(log_dir)
    db = devlib.unique_db_name("test")
    devlib.copy_db(template, db)
    log = log_dir / f"wheel-install-{db}.log"
    try:
        with open(log, "w") as fh:
            proc = subprocess.run(
                [
                    str(vpy), str(ROOT / "scripts" / "odoo-bin"), "-c", str(conf), "-d", db,
                    "-i", devlib.MODULE, "--stop-after-init", "--without-demo=all",
                    "--max-cron-threads=0", "--http-interface=127.0.0.1",
                    f"--http-port={devlib.free_port()}",
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=tmp_path,
                env=env,
                timeout=900,
                check=False,
            )  # fmt: skip
        report = devlib.scan_log(log)
        assert proc.returncode == 0, devlib.tail(log)
        assert not report.error_blocks, "\n".join(report.error_blocks)
        # static/description/index.html (generated) is a valid module description
        assert "HTML module descriptions are deprecated" not in log.read_text()
        assert devlib.module_state(db) == "installed"
        with devlib.pg_cursor(db) as cr:
            cr.execute(
                "SELECT latest_version FROM ir_module_module WHERE name = %s", [devlib.MODULE]
            )
            assert cr.fetchone()[0] == devlib.manifest()["version"]
    finally:
        devlib.drop_db(db)
