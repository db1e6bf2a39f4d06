"""Ukrainian and Russian translations.

TestTranslations runs Odoo's exporter in memory (what ``--i18n-export``
writes) and checks that every msgid of the code is in the committed template
``i18n/call_tracking.pot`` and translated in ``uk.po`` and ``ru.po`` with the
same placeholders and markup. TestUkrainianTour opens the back end, in
Chromium, as a sales manager whose language is Ukrainian
(call_tracking/static/tests/tours/call_tracking_i18n_tour.js).
"""

import re
from collections import Counter

import polib

from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

from odoo.addons.mail.tests.common import mail_new_test_user

MODULE = "call_tracking"
LANGS = ("uk", "ru")
PLACEHOLDER = re.compile(
    r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdirfxXeEgGc]|\{[A-Za-z_][A-Za-z0-9_.]*\}"
)
TAG = re.compile(r"</?[A-Za-z][^<>]*>")
ENTITY = re.compile(r"&(?:[A-Za-z]+|#\d+|#x[0-9a-fA-F]+);")


def tokens(text):
    """What a translation must keep of its msgid: placeholders, tags with
    their attributes, entities."""
    found = PLACEHOLDER.findall(text) + ENTITY.findall(text)
    found += [" ".join(tag.split()) for tag in TAG.findall(text)]
    return Counter(found)


def read_po(name):
    return polib.pofile(f"{get_module_path(MODULE)}/i18n/{name}")


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the rows --i18n-export writes: (module, type, name, res_id, src, value, comments)
        reader = TranslationModuleReader(cls.env.cr, modules=[MODULE])
        cls.exported = {row[4] for row in reader if row[0] == MODULE}
        cls.pot = {e.msgid for e in read_po(f"{MODULE}.pot") if not e.obsolete}

    def test_exported_terms(self):
        """The exporter sees the module's menus, views, fields, selections
        and code strings (a check against an empty export proves nothing)."""
        for msgid in ("Call Tracking", "Call Analysis", "Targeted", "Call back %s"):
            self.assertIn(msgid, self.exported)

    def test_template_is_fresh(self):
        """Every msgid of the code is in the committed template: after
        changing strings, re-export it (docs/developer/i18n.rst)."""
        missing = sorted(self.exported - self.pot)
        self.assertFalse(
            missing,
            "msgids missing from i18n/call_tracking.pot (re-export it: "
            ".venv/bin/python scripts/i18n_check.py --export --missing):\n"
            + "\n".join(map(repr, missing)),
        )

    def test_languages_translate_every_msgid(self):
        """uk.po and ru.po translate every exported msgid and keep its
        placeholders and markup."""
        for lang in LANGS:
            with self.subTest(lang=lang):
                po = read_po(f"{lang}.po")
                self.assertTrue(po.metadata.get("Language", "").startswith(lang))
                self.assertIn("nplurals=3", po.metadata.get("Plural-Forms", ""))
                entries = {e.msgid: e for e in po if not e.obsolete}
                untranslated, broken = [], []
                for msgid in sorted(self.exported):
                    entry = entries.get(msgid)
                    if not entry or not entry.msgstr.strip() or "fuzzy" in entry.flags:
                        untranslated.append(msgid)
                    elif tokens(entry.msgstr) != tokens(msgid):
                        broken.append(msgid)
                self.assertFalse(
                    untranslated,
                    f"untranslated in {lang}.po:\n" + "\n".join(map(repr, untranslated)),
                )
                self.assertFalse(
                    broken,
                    f"placeholders or markup differ in {lang}.po:\n" + "\n".join(map(repr, broken)),
                )

    def test_tokens(self):
        """The comparison sees a lost placeholder, a renamed key and a
        changed attribute."""
        self.assertNotEqual(tokens("Call back %s"), tokens("Передзвонити"))
        self.assertNotEqual(tokens("%(caller)s"), tokens("%(абонент)s"))
        self.assertNotEqual(
            tokens('<span class="badge">Unique</span>'), tokens('<span class="x">Унікальний</span>')
        )
        self.assertEqual(tokens("From %(a)s to %(b)s"), tokens("До %(b)s від %(a)s"))


@tagged("post_install", "-at_install")
class TestUkrainianTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("uk_UA")
        cls.env["ir.module.module"]._load_module_terms([MODULE], ["uk_UA"], overwrite=True)
        cls.manager = mail_new_test_user(
            cls.env,
            login="ct_tour_manager_uk",
            groups="sales_team.group_sale_manager",
            name="Менеджер колтрекінгу",
            lang="uk_UA",
        )

    def test_terms_loaded(self):
        """The module's terms are loaded in Ukrainian (the tour reads them)."""
        menu = self.env.ref("call_tracking.call_tracking_menu_root")
        self.assertEqual(menu.with_context(lang="uk_UA").name, "Колтрекінг")
        fields_uk = self.env["call.tracking.call.report"].with_context(lang="uk_UA").fields_get()
        self.assertEqual(fields_uk["call_count"]["string"], "Дзвінки")

    def test_call_analysis_in_ukrainian(self):
        self.start_tour("/odoo", "call_tracking_i18n_uk_tour", login=self.manager.login)
