"""scripts/gen_addon_readme.py: the Markdown fragments become the addon's
README.rst in OCA's layout, and what it cannot translate is refused."""

import re

import devlib
import gen_addon_readme as gen
import pytest


def test_inline_markup():
    assert gen.inline("use `a_b` and [docs](https://x.org/p)") == (
        "use ``a_b`` and `docs <https://x.org/p>`__"
    )
    assert gen.md_to_rst("# Title\n\ntext\n\n\n- one\n  two", "X.md") == (
        "Title\n-----\n\ntext\n\n- one\n  two"
    )


def test_images():
    """An image alone on its line: README.rst points into static/description/,
    index.html (which lives there) next to itself."""
    rst = gen.md_to_rst("text\n\n![The pivot](../static/description/shots/p.png)", "X.md")
    assert rst == "text\n\n.. image:: static/description/shots/p.png\n   :alt: The pivot"
    html = gen.generate_html(rst.replace(".. image:: static/description/", ".. image:: "), "x.rst")
    assert '<img alt="The pivot" src="shots/p.png" />' in html


@pytest.mark.parametrize("bad", ["```\ncode\n```", "| a | b |", "> quote", "<b>x</b>"])
def test_unsupported_markdown_is_refused(bad):
    with pytest.raises(gen.FragmentError):
        gen.md_to_rst(f"text\n\n{bad}", "X.md")


def test_readme_in_oca_layout():
    rst = gen.generate_rst(devlib.ROOT / devlib.MODULE, "org", "repo", "18.0")
    manifest = devlib.manifest()
    assert rst.startswith(f"{'=' * len(manifest['name'])}\n{manifest['name']}\n")
    sections = re.findall(r"^(\w.*)\n=+$", rst, re.MULTILINE)[1:]  # [0]: the title
    assert sections[:1] == ["Configuration"] and sections[-2:] == ["Bug Tracker", "Credits"]
    assert "maturity-Beta" in rst
    assert "https://github.com/org/repo/issues" in rst
    for login in manifest["maintainers"]:
        assert f"|maintainer-{login}|" in rst
    gen.generate_html(rst, "README.rst")  # docutils: no warning or error


def test_generated_files_are_current():
    args = ["--addon-dir", str(devlib.ROOT / devlib.MODULE), "--org-name", "call-tracking"]
    args += ["--repo-name", "call_tracking", "--branch", "18.0", "--check"]
    assert gen.main(args) == 0, "run `make readme`"
