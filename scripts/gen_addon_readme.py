#!/usr/bin/env python3
"""Generate an addon's README.rst and static/description/index.html from its
readme/ fragments and its manifest, in the layout of OCA's oca-gen-addon-readme.

OCA's own generator ships in oca-maintainers-tools, which is not published on
PyPI (its documented install is from the OCA GitHub repository), and the
gen-odoo-readme package on PyPI reads reStructuredText fragments only. This
script keeps OCA's conventions: the fragments are Markdown files
(DESCRIPTION.md required; INSTALL, CONFIGURE, USAGE, ROADMAP, DEVELOP,
CONTRIBUTORS, CREDITS, HISTORY optional), the sections, badges (development
status, license, repository), table of contents, bug tracker and credits
(authors from the manifest, contributors, maintainers) come out in OCA's order,
and index.html is the README rendered by docutils.

Markdown subset (anything else is refused rather than mistranslated):
paragraphs, ``-`` and ``1.`` lists with indented continuation lines,
``#`` headings, ``**bold**``, ``*italic*``, inline code, [links](url) and
images alone on their line, ``![alt](../static/description/x.png)`` (the path
from readme/; README.rst gets ``static/description/x.png``, index.html
``x.png``).

    python scripts/gen_addon_readme.py --addon-dir call_tracking \\
        --org-name call-tracking --repo-name call_tracking --branch 18.0
    python scripts/gen_addon_readme.py ... --check   # exit 1 when out of date
"""

import argparse
import ast
import difflib
import re
import sys
from pathlib import Path

from docutils.core import publish_string
from docutils.utils import SystemMessage

FRAGMENTS = [
    # (file, section title); DESCRIPTION has no title of its own
    ("DESCRIPTION", None),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("DEVELOP", "Development"),
    ("HISTORY", "Changelog"),
]
STATUS_BADGES = {
    "alpha": ("Alpha", "red"),
    "beta": ("Beta", "yellow"),
    "production/stable": ("Production/Stable", "green"),
    "mature": ("Mature", "brightgreen"),
}
LICENSE_URLS = {
    "AGPL-3": "http://www.gnu.org/licenses/agpl-3.0-standalone.html",
    "LGPL-3": "http://www.gnu.org/licenses/lgpl-3.0-standalone.html",
    "GPL-3": "http://www.gnu.org/licenses/gpl-3.0-standalone.html",
    "OPL-1": "https://www.odoo.com/documentation/master/legal/licenses.html",
}
# "#" and "##" headings are subsections ("-", as the credits), "###" below
HEADING_CHARS = "--~"
IMAGE_RE = re.compile(r"^!\[([^\]]*)\]\(\.\./([^)\s]+)\)$")
DESCRIPTION_DIR = "static/description/"


class FragmentError(ValueError):
    pass


def _shields(text):
    return text.replace("-", "--").replace("_", "__").replace(" ", "%20").replace("/", "%2F")


def inline(text):
    """Markdown inline markup -> reStructuredText."""
    out = []
    for i, part in enumerate(re.split(r"(`[^`]+`)", text)):
        if i % 2:
            out.append(f"``{part[1:-1]}``")
            continue
        part = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r"`\1 <\2>`__", part)
        out.append(part)
    return "".join(out)


def md_to_rst(md, name):
    lines = md.strip("\n").splitlines()
    rst = []
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip()
        after_blank = lineno == 1 or not lines[lineno - 2].strip()
        if (
            stripped.startswith(("```", "|", ">"))
            or line.startswith(("<", "\t"))
            or (after_blank and line.startswith("    "))
        ):
            raise FragmentError(
                f"{name}:{lineno}: unsupported Markdown (code block, table, quote or"
                f" raw HTML): {line!r}"
            )
        image = IMAGE_RE.match(stripped)
        if image:
            if rst and rst[-1] != "":
                rst.append("")
            rst += [f".. image:: {image[2]}", f"   :alt: {image[1]}", ""]
            continue
        heading = re.match(r"^(#{1,3}) (.+)$", line)
        if heading:
            title = inline(heading[2].strip())
            char = HEADING_CHARS[len(heading[1]) - 1]
            if rst and rst[-1] != "":
                rst.append("")
            rst += [title, char * len(title), ""]
            continue
        if rst == [] and stripped == "":
            continue
        if stripped == "" and rst and rst[-1] == "":
            continue
        rst.append(inline(line.rstrip()))
    while rst and rst[-1] == "":
        rst.pop()
    return "\n".join(rst)


def read_manifest(addon_dir):
    return ast.literal_eval((addon_dir / "__manifest__.py").read_text())


def read_fragments(addon_dir):
    readme = addon_dir / "readme"
    frags = {}
    for path in sorted(readme.glob("*")):
        if path.suffix == ".rst":
            raise FragmentError(f"{path}: fragments are Markdown (.md) files")
        if path.suffix == ".md":
            text = path.read_text().strip()
            if text:
                frags[path.stem] = md_to_rst(text, path.name)
    if "DESCRIPTION" not in frags:
        raise FragmentError(f"{readme}/DESCRIPTION.md is required")
    return frags


def section(title, char="="):
    return [title, char * len(title), ""]


def generate_rst(addon_dir, org, repo, branch):
    manifest = read_manifest(addon_dir)
    frags = read_fragments(addon_dir)
    name = addon_dir.name
    title = manifest["name"]
    repo_url = f"https://github.com/{org}/{repo}"
    lines = ["=" * len(title), title, "=" * len(title), ""]
    lines += [
        "..",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "   !! This file is generated by scripts/gen_addon_readme.py (make    !!",
        "   !! readme) from readme/*.md and __manifest__.py. Changes made     !!",
        "   !! here are overwritten: edit the fragments in readme/ instead.   !!",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "",
    ]
    badges = []
    status = manifest.get("development_status", "").lower()
    if status in STATUS_BADGES:
        label, color = STATUS_BADGES[status]
        badges.append(
            (
                f"https://img.shields.io/badge/maturity-{_shields(label)}-{color}.png",
                "https://odoo-community.org/page/development-status",
                label,
            )
        )
    lic = manifest.get("license", "LGPL-3")
    badges.append(
        (
            f"https://img.shields.io/badge/licence-{_shields(lic)}-blue.png",
            LICENSE_URLS.get(lic, "https://www.odoo.com/documentation/18.0/legal/licenses.html"),
            f"License: {lic}",
        )
    )
    badges.append(
        (
            (
                f"https://img.shields.io/badge/github-{_shields(f'{org}/{repo}')}"
                "-lightgray.png?logo=github"
            ),
            f"{repo_url}/tree/{branch}/{name}",
            f"{org}/{repo}",
        )
    )
    for i, (image, target, alt) in enumerate(badges, 1):
        lines += [f".. |badge{i}| image:: {image}", f"    :target: {target}", f"    :alt: {alt}"]
    lines += ["", " ".join(f"|badge{i}|" for i in range(1, len(badges) + 1)), ""]
    lines += [frags["DESCRIPTION"], "", "**Table of contents**", "", ".. contents::"]
    lines += ["   :local:", ""]
    for key, heading in FRAGMENTS[1:]:
        if key in frags:
            lines += section(heading) + [frags[key], ""]
    lines += section("Bug Tracker")
    lines += [
        f"Bugs are tracked on `GitHub Issues <{repo_url}/issues>`_.",
        "In case of trouble, please check there if your issue has already been reported.",
        "If you spotted it first, help us to smash it by providing a detailed and welcomed",
        (
            f"`feedback <{repo_url}/issues/new?body=module:%20{name}%0A"
            f"version:%20{branch}%0A%0A**Steps%20to%20reproduce**%0A-%20...%0A%0A"
            "**Current%20behavior**%0A%0A**Expected%20behavior**>`_."
        ),
        "",
        "Do not contact contributors directly about support or help with technical issues.",
        "",
    ]
    lines += section("Credits")
    lines += section("Authors", "-")
    lines += [f"* {a.strip()}" for a in manifest.get("author", "").split(",") if a.strip()]
    lines.append("")
    for key, heading in (("CONTRIBUTORS", "Contributors"), ("CREDITS", "Other credits")):
        if key in frags:
            lines += section(heading, "-") + [frags[key], ""]
    maintainers = manifest.get("maintainers") or []
    lines += section("Maintainers", "-")
    if maintainers:
        for login in maintainers:
            lines += [
                f".. |maintainer-{login}| image:: https://github.com/{login}.png?size=40px",
                f"    :target: https://github.com/{login}",
                f"    :alt: {login}",
            ]
        lines += [
            "",
            "Current maintainer" + ("s" if len(maintainers) > 1 else "") + ":",
            "",
            " ".join(f"|maintainer-{login}|" for login in maintainers),
            "",
        ]
    lines += [
        (
            f"This module is part of the `{org}/{repo} <{repo_url}/tree/{branch}/{name}>`_"
            " project on GitHub."
        ),
        "",
        f"You are welcome to contribute: see `{repo} <{repo_url}>`_.",
    ]
    return "\n".join(lines) + "\n"


def generate_html(rst_text, source_path):
    html = publish_string(
        source=rst_text,
        source_path=str(source_path),
        writer_name="html4css1",
        settings_overrides={
            "embed_stylesheet": True,
            "report_level": 2,  # warnings and errors...
            "halt_level": 2,  # ...stop the generation
            "datestamp": None,
            "output_encoding": "unicode",
            "_disable_config": True,
        },
    )
    # Odoo (17+) warns about an XML declaration in a module description
    html = re.sub(r"\A<\?xml [^>]*\?>\s*", "", html)
    return html if html.endswith("\n") else html + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addon-dir", required=True, type=Path)
    parser.add_argument("--org-name", required=True)
    parser.add_argument("--repo-name", required=True)
    parser.add_argument("--branch", required=True)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a file is out of date"
    )
    args = parser.parse_args(argv)
    addon = args.addon_dir.resolve()
    try:
        rst = generate_rst(addon, args.org_name, args.repo_name, args.branch)
        # index.html lives in static/description/: its images are relative to it
        html = generate_html(
            rst.replace(f".. image:: {DESCRIPTION_DIR}", ".. image:: "),
            addon / DESCRIPTION_DIR / "index.html",
        )
    except (FragmentError, SyntaxError, ValueError, SystemMessage) as exc:
        print(f"gen_addon_readme: {exc}", file=sys.stderr)
        return 2
    outputs = {addon / "README.rst": rst, addon / "static" / "description" / "index.html": html}
    stale = []
    for path, text in outputs.items():
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        stale.append(path)
        if args.check:
            diff = difflib.unified_diff(
                current.splitlines(True), text.splitlines(True), str(path), "generated", n=1
            )
            sys.stdout.writelines(list(diff)[:60])
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    if args.check and stale:
        print(
            "out of date: " + ", ".join(str(p) for p in stale) + "\nregenerate them: make readme",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
