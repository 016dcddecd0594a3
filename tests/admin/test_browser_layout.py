"""Every HR page in a real browser, at a laptop's width and a phone's.

At 1366 x 900 no page scrolls sideways and nothing inside the main content is wider than the
content area unless it sits in a container that scrolls on its own (a wide table), and no box
cuts its text off; the employee, ledger and order lists fit without scrolling at all. At 390 px
no page scrolls sideways either, and the key facts of the employee, ledger and order lists
(who, how many points, what state) are on the screen. One live server, one browser, one page,
signed in once: the pages are visited in turn, and every problem found is reported at the end.

Screenshots of each page at both widths go to artifacts/screenshots/layout-*.png.

Layout does not depend on the database engine, so this runs once, in the SQLite pass; the
MariaDB and PostgreSQL passes skip it and say why.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from notifications.models import Notification
from orders.services import order_place
from points.models import GrantRequest, PointsTransaction
from points.services.approvals import points_grant_or_request
from points.services.grants import points_grant, points_grant_bulk
from shop.identity.services import user_create
from shop.models import Department, IdentitySync, User
from tests.admin.browser_support import screenshot
from tests.factories import CategoryFactory, ProductFactory
from tests.support.hr import make_hr

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite",
        reason="the layout is the same on every engine: checked once, in the SQLite pass",
    ),
]

PASSWORD = "hr-layout-pass-42"
WIDE = {"width": 1366, "height": 900}
NARROW = {"width": 390, "height": 844}
LONG_REASON = (
    "Quarterly recognition for leading the warehouse migration across three sites, "
    "including weekend cut-overs and the training of forty new colleagues"
)

# Problems in the main content area (#content): boxes that stick out of it without a scrolling
# container around them, and boxes that hide part of their content (overflow hidden or clip).
# Hidden, fixed (off-canvas panels) and 1-pixel (screen-reader) elements are not laid out for
# the eye and are skipped, and so are form fields, which scroll their own text; inside a box
# already reported, its children are not reported again.
CLIPPED_JS = """
() => {
  // The sign-in page has no sidebar and no #content: its one column is #page.
  const content = document.querySelector('#content') || document.querySelector('#page');
  if (!content) return ['the page has no #content'];
  const area = content.parentElement.getBoundingClientRect();
  const left = Math.max(area.left, 0), right = Math.min(area.right, window.innerWidth);
  const scrolls = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const fixed = (el) => {
    for (let a = el; a; a = a.parentElement) if (getComputedStyle(a).position === 'fixed') return true;
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + [...el.classList].slice(0, 2).map(c => '.' + c).join('');
  const reported = [];
  const problems = [];
  for (const el of content.querySelectorAll('*')) {
    if (reported.some(r => r.contains(el))) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || fixed(el)) continue;
    if ((r.right > right + 1 || r.left < left - 1) && !scrolls(el)) {
      problems.push(`${name(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px,`
        + ` the content area ${Math.round(left)}..${Math.round(right)} px`);
      reported.push(el);
    } else if (['hidden', 'clip'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1
               && !scrolls(el) && !el.matches('input, textarea, select')) {
      problems.push(`${name(el)} cuts its content off: ${el.scrollWidth} px in ${el.clientWidth} px`);
      reported.push(el);
    }
  }
  return problems;
}
"""
# The result table and the box it must fit: its nearest scrolling container, else #content.
LIST_FIT_JS = """
() => {
  const table = document.querySelector('#result_list');
  if (!table) return null;
  let box = table.parentElement;
  while (box.id !== 'content' && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
    box = box.parentElement;
  }
  return [Math.round(table.getBoundingClientRect().width), box.clientWidth];
}
"""
PAGE_WIDTH_JS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# Tables that scroll sideways inside their own box (a report card, the result list): [id, wide, box].
TABLES_SCROLL_JS = """
() => [...document.querySelectorAll('#content table')].map(t => {
  let box = t.parentElement;
  while (box && box.id !== 'content' && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
    box = box.parentElement;
  }
  const where = t.closest('[id]');
  return [where ? where.id : 'table', t.getBoundingClientRect().width, box ? box.clientWidth : 0];
}).filter(([, wide, box]) => wide > box + 1).map(([id, wide, box]) => `${id}: ${Math.round(wide)} px in ${box} px`)
"""
# Pages read whole at 1366 px: none of their tables scrolls sideways, even inside its own box.
NO_SIDEWAYS_TABLES = {"reports", "grant-requests", "grant-batches"}
# On a phone, a page's own actions are labelled buttons on the screen, not behind the header's "⋯".
PHONE_ACTIONS = {
    "change-employee": ["Grant points", "Adjust / deduct points"],
    "change-order": ["Refund this order"],
    "change-grant-request": ["Approve and apply", "Reject"],
    "change-product": ["Change stock"],
}
PHONE_ACTIONS_JS = """
(titles) => titles.filter(title => ![...document.querySelectorAll('#content a')].some(a => {
  const r = a.getBoundingClientRect();
  return a.innerText.trim().endsWith(title) && r.width > 0 && r.left >= 0 && r.right <= window.innerWidth
    && getComputedStyle(a).visibility !== 'hidden';
}))
"""
# A list card on a phone: its checkbox unlabelled (not "Select record"), its links underlined.
PHONE_CARD_JS = """
() => {
  const problems = [];
  const box = document.querySelector('#result_list tbody td.action-checkbox');
  if (box) {
    const label = getComputedStyle(box, '::before').content;
    if (label && label !== 'none' && label !== 'normal' && label !== '""') problems.push(`checkbox labelled ${label}`);
  }
  const link = document.querySelector('#result_list tbody th a, #result_list tbody td a');
  if (link && !getComputedStyle(link).textDecorationLine.includes('underline')) problems.push('links look like plain text');
  return problems;
}
"""
# Each of the columns of a list row must be at least this wide at 1366 px: a word, not a syllable.
MIN_COLUMN_PX = 64
# The first result row's cells for these columns, as the phone shows them: [left, right, text].
CELLS_JS = """
(fields) => fields.map(f => {
  const cell = document.querySelector(`#result_list tbody tr .field-${f}`);
  if (!cell) return [f, null, null, ''];
  const r = cell.getBoundingClientRect();
  return [f, r.left, r.right, cell.innerText.trim()];
})
"""
# The lists whose key facts must be readable on a phone: their column names.
KEY_FACTS = {
    "employees": ["email", "balance", "is_active"],
    "ledger": ["employee", "points", "balance"],
    "orders": ["user", "points", "status"],
}

# On a phone an employee's card shows the essentials (email, name, department, balance, active),
# so a screen holds several cards: a card is at most this share of the screen's height.
COMPACT_CARDS = {"employees"}
MAX_CARD_SHARE = 0.4
CARD_HEIGHT_JS = """
() => {
  const row = document.querySelector('#result_list tbody tr');
  return row ? row.getBoundingClientRect().height : null;
}
"""

# Whole words of 2 to 16 letters split across two lines in a list cell at 1366 px ("Employe" / "e"):
# the lists let long emails and descriptions wrap anywhere, and a squeezed column then breaks
# short words too. Each word's range has one box per line it is drawn on.
BROKEN_WORDS_JS = """
() => {
  const broken = [];
  const walker = document.createTreeWalker(
    document.querySelector('#result_list tbody') || document.createElement('tbody'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.textContent.matchAll(/(?<!\\S)\\p{L}{2,16}(?!\\S)/gu)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}
"""


class Layout:
    """Visits pages with one browser page and collects what is wrong with each."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.problems: list[str] = []
        self.visited: list[str] = []

    def visit(self, name: str, path: str, *, status: int = 200) -> None:
        response = self.page.goto(self.base_url + path)
        got = response.status if response else None
        if got != status:
            self.problems.append(f"{name}: {path} answered {got}, expected {status}")
        self.check(name)

    def check(self, name: str) -> None:
        """The page as it is now: measured at 1366 px, then looked at at 390 px."""
        page = self.page
        self.visited.append(name)
        page.wait_for_load_state("load")
        scroll_width, inner_width = page.evaluate(PAGE_WIDTH_JS)
        if scroll_width > inner_width:
            self.problems.append(f"{name}: the page is {scroll_width} px wide in a {inner_width} px window")
        for problem in page.evaluate(CLIPPED_JS):
            self.problems.append(f"{name}: {problem}")
        if name in NO_SIDEWAYS_TABLES:
            for problem in page.evaluate(TABLES_SCROLL_JS):
                self.problems.append(f"{name}: a table scrolls sideways at 1366 px: {problem}")
            narrow = page.evaluate(
                "(min) => [...document.querySelectorAll('#result_list thead th')]"
                ".filter(th => th.getBoundingClientRect().width < min && th.innerText.trim())"
                ".map(th => th.innerText.trim())",
                MIN_COLUMN_PX,
            )
            if narrow:
                self.problems.append(f"{name}: columns squeezed below {MIN_COLUMN_PX} px: {narrow}")
        broken = page.evaluate(BROKEN_WORDS_JS)
        if broken:
            self.problems.append(f"{name}: words broken across lines in the list: {sorted(set(broken))}")
        if name in KEY_FACTS:
            # HR's main lists are read whole at 1366 px: no sideways scrolling, even in their own box.
            fit = page.evaluate(LIST_FIT_JS)
            if fit is None:
                self.problems.append(f"{name}: no result list")
            elif fit[0] > fit[1] + 1:
                self.problems.append(
                    f"{name}: the list is {fit[0]} px wide in {fit[1]} px, it scrolls sideways"
                )
        screenshot(page, f"layout-{name}-1366")
        page.set_viewport_size(NARROW)
        try:
            scroll_width, inner_width = page.evaluate(PAGE_WIDTH_JS)
            if scroll_width > inner_width:
                self.problems.append(
                    f"{name} at 390 px: the page is {scroll_width} px wide, it scrolls sideways"
                )
            if name in KEY_FACTS:
                self._key_facts(name, KEY_FACTS[name])
            if name in COMPACT_CARDS:
                height = page.evaluate(CARD_HEIGHT_JS)
                if height is None or height > NARROW["height"] * MAX_CARD_SHARE:
                    self.problems.append(
                        f"{name} at 390 px: a card is {height} px high, over {MAX_CARD_SHARE:.0%} of the "
                        f"{NARROW['height']} px screen"
                    )
            for missing in page.evaluate(PHONE_ACTIONS_JS, PHONE_ACTIONS.get(name, [])):
                self.problems.append(f"{name} at 390 px: no labelled {missing!r} button on the screen")
            for problem in page.evaluate(PHONE_CARD_JS):
                self.problems.append(f"{name} at 390 px: list cards: {problem}")
            screenshot(page, f"layout-{name}-390")
        finally:
            page.set_viewport_size(WIDE)

    def _key_facts(self, name: str, fields: list[str]) -> None:
        for field, left, right, text in self.page.evaluate(CELLS_JS, fields):
            if left is None:
                self.problems.append(f"{name} at 390 px: no {field} column")
            elif left < 0 or right > NARROW["width"] + 1 or not text:
                self.problems.append(
                    f"{name} at 390 px: {field} ({text!r}) is at {round(left)}..{round(right)} px, off the screen"
                )


def _post(page: Any, path: str, fields: list[tuple[str, str]]) -> None:
    """Submits a form the way the admin's own would (an action on selected rows)."""
    page.evaluate(
        """([path, fields]) => {
          const form = document.createElement('form');
          form.method = 'post';
          form.action = path;
          const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
          for (const [name, value] of [['csrfmiddlewaretoken', token], ...fields]) {
            const input = document.createElement('input');
            input.type = 'hidden'; input.name = name; input.value = value;
            form.appendChild(input);
          }
          document.body.appendChild(form);
          form.submit();
        }""",
        [path, fields],
    )
    page.wait_for_load_state("load")


def _back_office(hr: User) -> dict[str, Any]:
    """A small company with long names and reasons, in every state HR's pages show."""
    other_hr = make_hr("olga.approver@example.com")
    category = CategoryFactory(name="Home office and ergonomic equipment", slug="home-office")
    product = ProductFactory(
        name="Height-adjustable standing desk with memory presets (walnut)", category=category, stock=3
    )
    ProductFactory(name="Noise-cancelling headphones", category=category, stock=40)
    for department in ("Finance and procurement", "Engineering", "People operations"):
        Department.objects.create(name=department, location="Lisbon")
    people = [
        user_create(
            email=f"{first}.{last}@example.com",
            name=f"{first.title()} {last.title()}",
            employee_id=f"E-{1000 + i}",
            department=department,
        )
        for i, (first, last, department) in enumerate(
            [
                ("alexandra", "konstantinopoulou-featherstonehaugh", "Finance and procurement"),
                ("li", "wei", "Engineering"),
                ("ana", "silva", "Finance and procurement"),
                ("bo", "lee", "People operations"),
            ]
        )
    ]
    for person in people:
        points_grant(user=person, amount=9_500, reason=LONG_REASON, granted_by=other_hr)
    order = order_place(user=people[0], product_id=product.pk, quantity=2)
    order_place(user=people[1], product_id=product.pk)
    batch = points_grant_bulk(
        grants=[(p, 250, "Holiday gift") for p in people], source="all_active", granted_by=other_hr
    )
    request = points_grant_or_request(
        user=people[2],
        amount=settings.GRANT_APPROVAL_THRESHOLD + 1,
        reason=LONG_REASON,
        requested_by=other_hr,
    )
    assert isinstance(request, GrantRequest)
    sync = IdentitySync.objects.create(
        user=people[3], action="invite", status="failed", attempts=3, last_error="ServiceUnavailable: " * 8
    )
    return {
        "people": people,
        "product": product,
        "order": order,
        "batch": batch,
        "request": request,
        "sync": sync,
        "entry": PointsTransaction.objects.filter(account_id=people[0].pk).latest("created_at"),
        "notification": Notification.objects.order_by("created_at").first(),
    }


def _change(obj: Any) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_every_hr_page_fits_at_1366_and_shows_its_key_facts_at_390(browser, live_server, tmp_path):
    hr = make_hr("hana.layout@example.com")
    hr.set_password(PASSWORD)
    hr.save(update_fields=["password"])
    data = _back_office(hr)
    alex = data["people"][0]
    context = browser.new_context(viewport=WIDE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    layout = Layout(page, live_server.url)

    layout.visit("login", "/admin/login/")
    page.fill("input[name=username]", hr.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_selector("#hr-dashboard")
    layout.check("dashboard")

    changelists: list[tuple[str, str]] = [
        ("employees", "shop_user"),
        ("departments", "shop_department"),
        ("cognito-syncs", "shop_identitysync"),
        ("ledger", "points_pointstransaction"),
        ("grant-batches", "points_grantbatch"),
        ("grant-requests", "points_grantrequest"),
        ("categories", "catalog_category"),
        ("products", "catalog_product"),
        ("stock-changes", "catalog_stockmovement"),
        ("orders", "orders_order"),
        ("notifications", "notifications_notification"),
    ]
    for name, model in changelists:
        layout.visit(name, reverse(f"admin:{model}_changelist"))
    layout.visit(
        "ledger-of-one-employee",
        reverse("admin:points_pointstransaction_changelist") + f"?employee={alex.email}",
    )
    for name, model in [
        ("employee", "shop_user"),
        ("category", "catalog_category"),
        ("product", "catalog_product"),
    ]:
        layout.visit(f"add-{name}", reverse(f"admin:{model}_add"))
    changes: list[tuple[str, Any]] = [
        ("employee", alex),
        ("cognito-sync", data["sync"]),
        ("ledger-entry", data["entry"]),
        ("grant-batch", data["batch"]),
        ("grant-request", data["request"]),
        ("category", data["product"].category),
        ("product", data["product"]),
        ("stock-change", data["product"].stock_movements.first()),
        ("order", data["order"]),
        ("notification", data["notification"]),
    ]
    for name, obj in changes:
        layout.visit(f"change-{name}", _change(obj))
    layout.visit("employee-history", reverse("admin:shop_user_history", args=[alex.pk]))
    for app_label in ("shop", "points", "catalog", "orders", "notifications"):
        layout.visit(f"section-{app_label}", reverse("admin:app_list", args=[app_label]))
    layout.visit("password-change", reverse("admin:password_change"))
    layout.visit("reports", reverse("hr_reports"))

    # The bulk grant pages, the single grant and adjustment, and the other intermediate forms.
    layout.visit("grant-all", reverse("admin:shop_user_grant_all"))
    layout.visit("grant-department", reverse("admin:shop_user_grant_department") + "?department=Engineering")
    layout.visit("grant-one", reverse("admin:shop_user_grant", args=[alex.pk]))
    layout.visit("adjust-one", reverse("admin:shop_user_adjust", args=[alex.pk]))
    layout.visit("refund-order", reverse("admin:orders_order_refund", args=[data["order"].pk]))
    layout.visit("change-stock", reverse("admin:catalog_product_stock", args=[data["product"].pk]))
    layout.visit("approve-request", reverse("admin:points_grantrequest_approve", args=[data["request"].pk]))
    layout.visit("reject-request", reverse("admin:points_grantrequest_reject", args=[data["request"].pk]))
    users = reverse("admin:shop_user_changelist")
    page.goto(live_server.url + users)
    _post(
        page,
        users,
        [("action", "grant_points_selected"), *(("_selected_action", str(p.pk)) for p in data["people"])],
    )
    page.wait_for_selector("input[name=apply]")
    layout.check("grant-selected")

    # The two CSV imports: the upload page, then the preview of a file with a bad line.
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "email,name,employee_id,department\n"
        f"{alex.email},Alexandra K. Featherstonehaugh,E-1000,Finance and procurement\n"
        "maximilian.oppenheimer-vandersloot@example.com,Maximilian Oppenheimer,E-2001,Research\n"
        "not-an-email,Nobody,E-2002,\n"
    )
    layout.visit("roster-import", reverse("admin:shop_user_roster_import"))
    page.set_input_files("input[name=file]", str(roster))
    page.check("input[name=deactivate_leavers]")
    page.click("#content [type=submit]")
    page.wait_for_selector("#roster-errors")
    layout.check("roster-import-preview")
    grants = tmp_path / "grants.csv"
    grants.write_text(
        "email,amount,reason\n"
        + "".join(f'{p.email},500,"{LONG_REASON}"\n' for p in data["people"])
        + "nobody@example.com,5,Unknown\n"
    )
    layout.visit("points-import", reverse("admin:points_pointstransaction_import"))
    page.set_input_files("input[name=file]", str(grants))
    page.click("#content [type=submit]")
    page.wait_for_selector("#import-preview")
    layout.check("points-import-preview")

    # Error pages: forbidden, not found.
    layout.visit(
        "error-403", reverse("admin:points_pointstransaction_delete", args=[data["entry"].pk]), status=403
    )
    layout.visit("error-404", "/admin/nonexistent/", status=404)
    context.close()

    # The lockout page, in a browser that is not signed in.
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    layout.page = page
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(live_server.url + "/admin/login/")
        page.fill("input[name=username]", "who.knows@example.com")
        page.fill("input[name=password]", "wrong-password")
        page.click("#login-form [type=submit]")
    page.wait_for_selector("#lockout")
    layout.check("lockout")
    context.close()

    assert not layout.problems, "\n".join(layout.problems)
    assert len(layout.visited) == 51, layout.visited  # every page above was looked at
