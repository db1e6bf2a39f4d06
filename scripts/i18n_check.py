#!/usr/bin/env python3
"""Check the module's translations against its .pot template.

Fails (exit 1) when, for a language of LANGS:
- a msgid of the template has no translation (missing, empty or fuzzy);
- a translation's placeholders (%s, %(name)s, %r, {name}) or markup (tags
  with their attributes, entities) differ from its msgid's;
- the .po file does not compile (``msgfmt --check``) or lacks its
  Language / Plural-Forms headers;
- a rule of the glossary (/work/shared/GLOSSARY.md, docs/developer/i18n.rst)
  is broken: a goal word beside a targeted word ("Ціль за цільовими"; a goal
  is "План"), "Пропущено" or its root for anything but a missed call (a
  skipped conversion is "Не передано"), a known Russianism in Ukrainian
  (``коллтрек``, "-ров" plurals), or a placeholder (or an inline field,
  for a view text that starts with the noun) directly before a counted noun
  ("%s годин", "%s hours"): write "Label: %s" or an abbreviation.
  The template's msgids are checked for the counted-noun rule too.

``make test`` runs it on the committed template. ``--export`` first
re-exports the template with Odoo's exporter (a throw-away database from the
cached template with the module installed) so that new strings of the code
show up as untranslated; ``--missing`` prints those msgids as a .po snippet
to translate. The Odoo test TestTranslations checks that the committed
template is what the exporter produces.
"""

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devlib
from devlib import MODULE, ROOT

LANGS = ("uk", "ru")
I18N = ROOT / MODULE / "i18n"
POT = I18N / f"{MODULE}.pot"
MSGFMT = shutil.which("msgfmt") or "/usr/bin/msgfmt"

# printf-style (with an optional mapping key), str.format fields, markup
# tags with their attributes, and character entities
PLACEHOLDER = re.compile(
    r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdirfxXeEgGc%]|\{[A-Za-z_][A-Za-z0-9_.]*\}"
)
TAG = re.compile(r"</?[A-Za-z][^<>]*>")
ENTITY = re.compile(r"&(?:[A-Za-z]+|#\d+|#x[0-9a-fA-F]+);")


# -- glossary rules ---------------------------------------------------------

_PH = r"(?:%(?:\([^)]+\))?[sd]|\{[A-Za-z_]+\})"
# a text that continues after an inline field (view terms are split there):
# optional opening tag, then whitespace or a lower-case letter, the noun
_LEAD = r"^(?:<[^>]+>)?(?:\s+|(?=[a-zа-яіїєґё]))"
# counted nouns: a number in front of them needs a plural form Odoo lacks
COUNTED = {
    "en": r"(?:hours?|days?|minutes?|seconds?|weeks?|months?|years?|calls?|numbers?"
    r"|visitors?|leads?|sessions?|characters?|conversions?|conversion\(s\)|times"
    r"|entries|events?|requests?|leases?|steps?)\b",
    "uk": r"(?:годин\w*|дн(?:ів|і|я)|день|хвилин\w*|секунд\w*|тиж\w*|місяц\w*|рок\w*"
    r"|дзвін\w*|дзвінк\w*|номер\w*|відвідувач\w*|лід\w*|сесі\w*|символ\w*"
    r"|конверс\w*|раз(?:и|ів)?|крок\w*|запис\w*|запит\w*)\b",
    "ru": r"(?:час(?:а|ов)?|дн(?:ей|я)|день|минут\w*|секунд\w*|недел\w*|месяц\w*"
    r"|лет|год(?:а)?|звон\w*|номер\w*|посетител\w*|лид\w*|сесси\w*|символ\w*"
    r"|конверс\w*|раз(?:а)?|шаг\w*|запис\w*|запрос\w*)\b",
}
GLUED = {
    lang: re.compile(rf"{_PH}\s+(?i:{noun})|{_LEAD}(?i:{noun})") for lang, noun in COUNTED.items()
}
# a goal (ціль / цель) in the message of a targeted word (цільовий / целевой)
GOAL = {"uk": re.compile(r"\bціл(?:ь|і|лю|ей|ям|ях)\b", re.IGNORECASE),
        "ru": re.compile(r"\bцел(?:ь|и|ью|ей|ям|ях)\b", re.IGNORECASE)}  # fmt: skip
TARGETED = {"uk": re.compile(r"цільов", re.IGNORECASE), "ru": re.compile(r"целев", re.IGNORECASE)}
# "Пропущено" and its root: a missed call only
MISSED_WORD = re.compile(r"пропущ|пропуск", re.IGNORECASE)
MISSED_SOURCE = re.compile(r"\bmiss", re.IGNORECASE)
# Russian forms in the Ukrainian file
RUSSIANISMS = {
    "uk": [
        (re.compile(r"коллтрек", re.IGNORECASE), "'коллтрек-' (uk: колтрекінг)"),
        (re.compile(r"\b\w{2,}ров\b", re.IGNORECASE), "a Russian '-ров' plural (uk: '-рів')"),
    ],
    "ru": [],
}


def glossary_problems(lang, msgid, msgstr):
    """The glossary rules a translation (or, for lang 'en', a msgid) breaks."""
    found = []
    if lang == "en":
        match = GLUED["en"].search(msgid)
        if match:
            found.append(f"counted noun after a number: {match.group(0)!r}")
        return found
    match = GLUED[lang].search(msgstr)
    if match:
        found.append(f"counted noun after a number: {match.group(0)!r}")
    goal = GOAL[lang].search(msgstr)
    if goal and TARGETED[lang].search(msgstr):
        found.append(f"goal word {goal.group(0)!r} beside a targeted word (a goal is 'План')")
    missed = MISSED_WORD.search(msgstr)
    if missed and not MISSED_SOURCE.search(msgid):
        found.append(
            f"{missed.group(0)!r} for something that is not a missed call "
            "(a skipped conversion: 'Не передано')"
        )
    for pattern, what in RUSSIANISMS[lang]:
        match = pattern.search(msgstr)
        if match:
            found.append(f"{what}: {match.group(0)!r}")
    return found


def tokens(text):
    """The parts of a string its translation must keep, as a multiset."""
    found = PLACEHOLDER.findall(text) + ENTITY.findall(text)
    found += [" ".join(tag.split()) for tag in TAG.findall(text)]
    return Counter(tok for tok in found if tok not in ("%%",))


def read_po(path):
    import polib  # the venv's; imported late so --help works anywhere

    return polib.pofile(str(path), wrapwidth=0)


def check_language(pot_ids, lang):
    """Problems of <lang>.po against the template's msgids, and its figures."""
    path = I18N / f"{lang}.po"
    if not path.exists():
        return [f"{path.relative_to(ROOT)} is missing"], 0
    problems = []
    po = read_po(path)
    meta = po.metadata
    if not meta.get("Language", "").startswith(lang):
        problems.append(f"{lang}.po: header Language must be '{lang}'")
    if "nplurals=" not in meta.get("Plural-Forms", ""):
        problems.append(f"{lang}.po: header Plural-Forms is missing")
    entries = {e.msgid: e for e in po if not e.obsolete}
    translated = 0
    for msgid in pot_ids:
        entry = entries.get(msgid)
        if entry is None or not entry.msgstr.strip() or "fuzzy" in entry.flags:
            problems.append(f"{lang}.po: untranslated: {msgid!r}")
            continue
        if tokens(msgid) != tokens(entry.msgstr):
            problems.append(
                f"{lang}.po: placeholders or markup differ: {msgid!r}\n"
                f"    msgid : {sorted(tokens(msgid).elements())}\n"
                f"    msgstr: {sorted(tokens(entry.msgstr).elements())}"
            )
            continue
        for problem in glossary_problems(lang, msgid, entry.msgstr):
            problems.append(f"{lang}.po: glossary: {problem}: {msgid[:70]!r}")
        translated += 1
    proc = subprocess.run(
        [MSGFMT, "--check", "-o", "/dev/null", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        problems.append(f"{lang}.po: msgfmt --check failed:\n{proc.stderr.strip()}")
    return problems, translated


def export_pot(target):
    """Re-export the template with Odoo's exporter into target."""
    logdir = devlib.LOGS / (time.strftime("%Y%m%d-%H%M%S") + "-i18n-export")
    logdir.mkdir(parents=True, exist_ok=True)
    db = devlib.create_module_db("test", logdir, echo=print)
    try:
        log = logdir / "export.log"
        rc = devlib.run_odoo(
            [
                "-d", db, f"--i18n-export={target}", f"--modules={MODULE}",
                "--stop-after-init", "--max-cron-threads=0",
            ],
            log,
        )  # fmt: skip
        if rc or not Path(target).exists():
            raise devlib.SetupError(f"export failed (exit {rc}); log {log}")
    finally:
        devlib.drop_db(db)
    print(f"exported {target} from database {db} (dropped)")


def review(paths):
    """Glossary and placeholder problems of loose .po files (no template)."""
    problems = []
    for path in paths:
        lang = path.suffixes[-2].lstrip(".") if len(path.suffixes) > 1 else ""
        if lang not in LANGS:
            problems.append(f"{path}: cannot tell the language (name it <x>.uk.po or <x>.ru.po)")
            continue
        for entry in read_po(path):
            if not entry.msgid or entry.obsolete:
                continue
            if not entry.msgstr.strip():
                problems.append(f"{path.name}: untranslated: {entry.msgid[:70]!r}")
                continue
            if tokens(entry.msgid) != tokens(entry.msgstr):
                problems.append(f"{path.name}: placeholders or markup differ: {entry.msgid[:70]!r}")
            for problem in glossary_problems(lang, entry.msgid, entry.msgstr):
                problems.append(f"{path.name}: glossary: {problem}: {entry.msgid[:70]!r}")
            for problem in glossary_problems("en", entry.msgid, ""):
                problems.append(f"{path.name}: msgid: {problem}: {entry.msgid[:70]!r}")
    for problem in problems:
        print(problem)
    print(f"review: {'FAILED' if problems else 'ok'} ({len(problems)} problem(s))")
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--export",
        action="store_true",
        help=f"first re-export {POT.relative_to(ROOT)} with Odoo's exporter (needs the database)",
    )
    parser.add_argument(
        "--missing",
        action="store_true",
        help="print the untranslated msgids as a .po snippet (msgstr empty) to translate",
    )
    parser.add_argument("--pot", type=Path, default=POT, help="template (default %(default)s)")
    parser.add_argument(
        "--review",
        nargs="+",
        type=Path,
        metavar="PO",
        help="only check these .po files (e.g. a branch's <branch>.uk.po side file; the"
        " language is the name's second-last suffix) against the glossary rules and their"
        " msgids' placeholders, then stop",
    )
    args = parser.parse_args()
    if args.review:
        return review(args.review)
    if args.export:
        export_pot(args.pot)
    if not args.pot.exists():
        print(f"{args.pot} is missing: export it first (--export)")
        return 1
    pot = read_po(args.pot)
    pot_ids = [e.msgid for e in pot if not e.obsolete]
    all_problems = [
        f"{args.pot.name}: glossary: {problem}: {msgid[:70]!r}"
        for msgid in pot_ids
        for problem in glossary_problems("en", msgid, "")
    ]
    for lang in LANGS:
        problems, translated = check_language(pot_ids, lang)
        all_problems += problems
        share = 100.0 * translated / len(pot_ids) if pot_ids else 100.0
        print(f"{lang}: {translated}/{len(pot_ids)} msgids translated ({share:.1f}%)")
    if args.missing:
        done = {
            lang: {e.msgid for e in read_po(I18N / f"{lang}.po") if e.msgstr.strip()}
            for lang in LANGS
            if (I18N / f"{lang}.po").exists()
        }
        for entry in pot:
            if any(entry.msgid not in done.get(lang, ()) for lang in LANGS):
                print(entry)
    for problem in all_problems:
        print(problem)
    print(f"translations: {'FAILED' if all_problems else 'ok'} ({len(all_problems)} problem(s))")
    return 1 if all_problems else 0


if __name__ == "__main__":
    sys.exit(main())
