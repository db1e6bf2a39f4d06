"""Every call_tracking menu opens for the users who can see it.

Generic on purpose: menus added later are covered without touching this
file. For each menu of the module that a salesperson, a sales manager or a
Call Tracking administrator can see, its action is loaded as that user the
way the web client does it: window actions get their views (``get_views``) and their records
(``web_search_read``, plus ``read_group`` for pivot and graph views), so a
missing access right, a record rule that breaks, or an invalid view fails.
"""

from datetime import date

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import CallTrackingCommon

MODULE = "call_tracking"


@tagged("post_install", "-at_install")
class TestMenus(CallTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.module_menus = cls.env["ir.ui.menu"].browse(
            cls.env["ir.model.data"]
            .search([("module", "=", MODULE), ("model", "=", "ir.ui.menu")])
            .mapped("res_id")
        )

    def _visible_menus(self, user):
        visible_ids = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        return self.module_menus.filtered(lambda menu: menu.id in visible_ids)

    def _eval_context(self, user):
        return dict(
            self.env["ir.actions.actions"].with_user(user)._get_eval_context(),
            active_id=False,
            active_ids=[],
            active_model=False,
            allowed_company_ids=user.company_ids.ids,
            current_company_id=user.company_id.id,
            context_today=date.today,
            relativedelta=relativedelta,
        )

    def _check_act_window(self, user, action):
        eval_context = self._eval_context(user)
        context = safe_eval(action.get("context") or "{}", eval_context)
        domain = safe_eval(action.get("domain") or "[]", dict(eval_context, context=context))
        model = self.env[action["res_model"]].with_user(user).with_context(**context, bin_size=True)
        views = [list(view) for view in action.get("views") or []]
        if not views:
            views = [[False, mode] for mode in (action.get("view_mode") or "list,form").split(",")]
        search_view = action.get("search_view_id")
        views.append([search_view[0] if search_view else False, "search"])
        result = model.get_views(
            views, {"action_id": action["id"], "load_filters": True, "toolbar": True}
        )
        fields = result["models"][model._name]["fields"]
        specification = {
            name: ({"fields": {"display_name": {}}} if info["type"] == "many2one" else {})
            for name, info in fields.items()
        }
        model.web_search_read(domain, specification, limit=80)
        for view_type in ("pivot", "graph"):
            if view_type in result["views"]:
                self._check_grouping(model, domain, result["views"][view_type]["arch"])

    def _check_grouping(self, model, domain, arch):
        groupby, measures = [], []
        for node in etree.fromstring(arch).iter("field"):
            name = node.get("name")
            if name not in model._fields or node.get("invisible") in ("1", "True"):
                continue
            (measures if node.get("type") == "measure" else groupby).append(name)
        model.read_group(domain, ["__count", *measures], groupby[:2], lazy=False)

    def _check_menu(self, user, menu):
        action_ref = menu.action
        if not action_ref:
            return  # a parent menu
        # as /web/action/load: the action is read with sudo, then used as the user
        action_model = self.env[action_ref._name].with_user(user)
        if action_ref._name == "ir.actions.act_window":
            self._check_act_window(user, action_model.browse(action_ref.id)._get_action_dict())
        elif action_ref._name == "ir.actions.server":
            result = action_model.browse(action_ref.id).run()
            if isinstance(result, dict) and result.get("type") == "ir.actions.act_window":
                self._check_act_window(user, dict(result, id=action_ref.id))
        else:
            action_model.browse(action_ref.id).sudo().read()

    def test_menus(self):
        manager_menus = self._visible_menus(self.manager)
        self.assertTrue(
            manager_menus.filtered("action"),
            f"{MODULE} has no menu with an action visible to a sales manager",
        )
        # a Call Tracking administrator outside sales sees the configuration too
        self.assertEqual(self._visible_menus(self.ct_admin), manager_menus)
        for user in (self.salesman, self.manager, self.ct_admin):
            for menu in self._visible_menus(user):
                with self.subTest(user=user.login, menu=menu.complete_name):
                    self._check_menu(user, menu)
