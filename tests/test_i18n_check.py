"""scripts/i18n_check.py: each glossary rule fails on the mistake it names
(issue 28) and passes the wording the glossary asks for."""

import i18n_check as check
import pytest


@pytest.mark.parametrize(
    ("lang", "msgid", "msgstr", "rule"),
    [
        # a number glued to a counted noun, in the source and in translations
        ("en", "%s hours", "", "counted noun"),
        ("en", "It now holds %(count)s conversion(s).", "", "counted noun"),
        ("en", "<span> days</span>", "", "counted noun"),
        ("en", "numbers registered.", "", "counted noun"),
        ("uk", "Keep (days): %s", "%s днів", "counted noun"),
        ("uk", "<span> days</span>", "<span> годин</span>", "counted noun"),
        ("ru", "%(n)s calls", "%(n)s звонков", "counted noun"),
        # a goal beside a targeted word
        ("uk", "Targeted Calls Goal", "Ціль за цільовими дзвінками", "goal word"),
        ("ru", "Targeted Goal Met", "Цель по целевым достигнута", "goal word"),
        # "Пропущено" for anything but a missed call
        ("uk", "Skipped", "Пропущено", "not a missed call"),
        ("ru", "Skip Reason", "Причина пропуска", "not a missed call"),
        # Russianisms in Ukrainian
        ("uk", "Call Tracking Client Lock", "Блокування клієнта коллтрекінгу", "коллтрек"),
        ("uk", "Referrer Domains", "Домени рефереров", "-ров"),
    ],
)
def test_rule_fails(lang, msgid, msgstr, rule):
    problems = check.glossary_problems(lang, msgid, msgstr)
    assert any(rule in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("lang", "msgid", "msgstr"),
    [
        ("en", "%s h", ""),
        ("en", "Test calls deleted: %s.", ""),
        ("en", "<span>Keep, days: </span>", ""),
        ("en", "Call Analysis", ""),
        ("uk", "%s h", "%s год"),
        ("uk", "%s d", "%s дн."),
        ("ru", "%s h", "%s ч"),
        ("uk", "Test calls deleted: %s.", "Видалено тестових дзвінків: %s."),
        ("uk", "<span>Keep, days: </span>", "<span>Зберігати, днів: </span>"),
        ("uk", "Targeted Calls Goal", "План за цільовими дзвінками"),
        ("ru", "Targeted Goal Met", "План по целевым выполнен"),
        ("uk", "Yandex: the goal name.", "Яндекс: назва цілі."),
        ("uk", "Missed", "Пропущено"),
        ("ru", "Missed calls among finished calls.", "Доля пропущенных среди завершенных звонков."),
        ("uk", "Skipped", "Не передано"),
        ("uk", "Referrer Domains", "Домени реферерів"),
        ("uk", "Call Tracking", "Колтрекінг"),
        ("ru", "Call Tracking", "Коллтрекинг"),
    ],
)
def test_rule_passes(lang, msgid, msgstr):
    assert check.glossary_problems(lang, msgid, msgstr) == []


def test_committed_translations_keep_the_rules():
    pot = check.read_po(check.POT)
    for lang in check.LANGS:
        po = check.read_po(check.I18N / f"{lang}.po")
        broken = [
            (entry.msgid, problem)
            for entry in po
            if not entry.obsolete
            for problem in check.glossary_problems(lang, entry.msgid, entry.msgstr)
        ]
        assert not broken, broken
    assert not [p for e in pot for p in check.glossary_problems("en", e.msgid, "")]


def test_review_of_a_side_file(tmp_path, capsys):
    """--review checks a branch's side file (no header) by its name's language."""
    bad = tmp_path / "h99.uk.po"
    bad.write_text(
        'msgid "%s hours"\nmsgstr "%s годин"\n\nmsgid "Call back %s"\nmsgstr "Дзвінок"\n'
    )
    assert check.review([bad]) == 1
    out = capsys.readouterr().out
    assert "counted noun" in out and "placeholders or markup differ" in out
    good = tmp_path / "h99.ru.po"
    good.write_text('msgid "Test calls deleted: %s."\nmsgstr "Удалено тестовых звонков: %s."\n')
    assert check.review([good]) == 0
