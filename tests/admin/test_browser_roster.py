# ruff: noqa: F811  (the `hr` fixture is imported from test_browser and named as an argument)
"""The roster import in a real browser: upload with "deactivate leavers", preview, confirm.

Screenshots go to artifacts/screenshots/ like the other back-office browser tests.
"""

from __future__ import annotations

import pytest

from shop.models import Department, User
from tests.admin.browser_support import screenshot
from tests.admin.test_browser import hr, sign_in  # noqa: F401
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hr_imports_the_roster_and_deactivates_a_leaver(page, live_server, hr, tmp_path):
    Department.objects.create(name="Finance")
    UserFactory(email="stays@example.com", name="Stays", employee_id="E-1")
    UserFactory(email="leaves@example.com", name="Leaves", employee_id="E-2")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "email,name,employee_id,department\n"
        "stays@example.com,Stays Here,E-1,Finance\n"
        "new.hire@example.com,New Hire,E-3,Engineering\n"
    )
    sign_in(page, live_server, hr)
    page.goto(f"{live_server.url}/admin/shop/user/")
    page.click("text=Import roster from CSV")
    page.set_input_files("input[name=file]", str(roster))
    page.check("input[name=deactivate_leavers]")
    page.click("input[type=submit]")
    page.wait_for_selector("#roster-leavers")
    assert "leaves@example.com" in page.inner_text("#roster-leavers")
    assert "new.hire@example.com" in page.inner_text("#roster-new")
    screenshot(page, "31-roster-import-preview")
    assert not User.objects.filter(email="new.hire@example.com").exists()  # nothing yet

    # "Engineering" is not a department yet: the preview says so, and Confirm does nothing until
    # HR ticks "Create these departments".
    assert "“Engineering”: line 3" in page.inner_text("#roster-unknown-departments")
    page.click("input[name=confirm]")
    assert page.evaluate("document.querySelector('#id_create_departments').validity.valueMissing")
    assert not User.objects.filter(email="new.hire@example.com").exists()
    page.check("#id_create_departments")
    page.click("input[name=confirm]")
    page.wait_for_selector("ul.messagelist")
    assert "1 registered, 1 updated, 1 deactivated" in page.inner_text("ul.messagelist")
    assert "Departments created: Engineering" in page.inner_text("ul.messagelist")
    screenshot(page, "32-roster-imported")
    assert User.objects.get(email="new.hire@example.com").department == "Engineering"
    assert User.objects.get(email="stays@example.com").name == "Stays Here"
    assert not User.objects.get(email="leaves@example.com").is_active
