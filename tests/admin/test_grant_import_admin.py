"""CSV grants from the admin: preview, confirm, all rows or none, duplicates flagged."""

from __future__ import annotations

import hashlib
import re

from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from points.models import GrantBatch, PendingGrantImport, PointsAccount, PointsTransaction
from points.services.grant_files import GrantImportRefused, grant_import_confirm
from points.services.grants import points_grant_bulk
from shop.identity.services import users_deactivate
from shop.models import User

URL = reverse("admin:points_pointstransaction_import")


def upload(client, text: str, name: str = "grants.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")})


def token_of(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form on the preview page"
    return match.group(1)


def test_preview_then_confirm(hr_client, hr_user, make_user):
    a, b = make_user(), make_user()
    preview = upload(hr_client, f"email,amount,reason\n{a.email},100,Award\n{b.email.upper()},50,Bonus\n")
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "<strong>2</strong> valid rows" in body and "<strong>150</strong> points in total" in body
    assert PointsTransaction.objects.count() == 0  # the preview writes nothing
    done = hr_client.post(URL, {"token": token_of(preview), "confirm": "1"})
    assert done.status_code == 302
    assert PointsAccount.objects.get(user=a).balance == 100
    assert PointsAccount.objects.get(user=b).balance == 50
    batch = GrantBatch.objects.get()
    assert batch.created_by == hr_user and batch.filename == "grants.csv"
    assert LogEntry.objects.filter(object_id=str(batch.pk), user=hr_user).exists()
    assert PendingGrantImport.objects.count() == 0
    # The token was used up: replaying it imports nothing more.
    hr_client.post(URL, {"token": token_of(preview), "confirm": "1"})
    assert GrantBatch.objects.count() == 1


def test_preview_lists_errors_with_line_numbers_and_cannot_be_confirmed(hr_client, make_user):
    a = make_user()
    preview = upload(
        hr_client, f"{a.email},100,Award\nghost@example.com,10,Award\n{a.email},abc,Award\n{a.email},5\n"
    )
    body = preview.content.decode()
    assert "line 2: no active employee has the email ghost@example.com" in body
    assert "line 3: amount &#x27;abc&#x27;" in body
    assert "line 4: expected 3 columns" in body
    assert "Unknown or inactive emails: ghost@example.com" in body
    assert 'name="token"' not in body
    assert PendingGrantImport.objects.count() == 0
    assert PointsTransaction.objects.count() == 0


def test_same_file_twice_is_flagged_and_needs_explicit_consent(hr_client, make_user):
    a = make_user()
    text = f"{a.email},100,Award\n"
    hr_client.post(URL, {"token": token_of(upload(hr_client, text)), "confirm": "1"})
    second = upload(hr_client, text)
    assert "This exact file was already imported" in second.content.decode()
    refused = hr_client.post(URL, {"token": token_of(second), "confirm": "1"})
    # Refused without the box ticked: the preview again, with the reason, not an empty upload form.
    assert refused.status_code == 200 and 'id="import-refused"' in refused.content.decode()
    assert (
        "already imported" in refused.content.decode() and 'id="import-preview"' in refused.content.decode()
    )
    assert PointsAccount.objects.get(user=a).balance == 100
    hr_client.post(URL, {"token": token_of(refused), "confirm": "1", "allow_duplicate": "1"})
    assert PointsAccount.objects.get(user=a).balance == 200
    third = upload(hr_client, text)
    hr_client.post(URL, {"token": token_of(third), "confirm": "1", "allow_duplicate": "1"})
    assert PointsAccount.objects.get(user=a).balance == 300


def test_confirm_revalidates_all_rows_or_none(hr_client, make_user):
    a, b = make_user(), make_user()
    preview = upload(hr_client, f"{a.email},100,Award\n{b.email},100,Award\n")
    users_deactivate(users=[b])  # b leaves between the preview and the confirm
    response = hr_client.post(URL, {"token": token_of(preview), "confirm": "1"}, follow=True)
    assert "no longer passes its checks" in response.content.decode()
    assert PointsTransaction.objects.count() == 0


def test_tampered_or_foreign_token_is_refused(hr_client, hr_user, make_user):
    a = make_user()
    preview = upload(hr_client, f"{a.email},100,Award\n")
    token = token_of(preview)
    response = hr_client.post(URL, {"token": token[:-2] + "xx", "confirm": "1"}, follow=True)
    assert "not valid" in response.content.decode()
    other = User.objects.create_superuser("other@example.com", "pw-other-123")
    try:
        grant_import_confirm(token=token, confirmed_by=other)
    except GrantImportRefused:
        pass
    else:
        raise AssertionError("another user confirmed HR's upload")
    assert PointsTransaction.objects.filter(account_id=a.pk).count() == 0


def test_ten_thousand_rows_with_a_bounded_number_of_queries(
    hr_client, make_user, django_assert_max_num_queries, settings
):
    from points.models import PointsAccount as Account

    # Applied directly here; the same size through an approval is in tests/points/test_grant_requests.py.
    settings.GRANT_APPROVAL_THRESHOLD = 10**9

    users = [make_user() for _ in range(50)]
    lines = [f"{users[i % 50].email},{1 + i % 7},Bulk award" for i in range(10_000)]
    preview = upload(hr_client, "email,amount,reason\n" + "\n".join(lines) + "\n")
    assert "<strong>10000</strong> valid rows" in preview.content.decode()
    # Bulk inserts: ~10 statements on MariaDB/PostgreSQL, ~100 on SQLite (999 parameters per
    # statement); either way far from one per row. The e-mail to each employee goes to the
    # outbox in batches as well: as many statements again as the ledger's on SQLite.
    with django_assert_max_num_queries(240 if connection.vendor == "sqlite" else 130):
        response = hr_client.post(URL, {"token": token_of(preview), "confirm": "1"})
    assert response.status_code == 302
    assert PointsTransaction.objects.count() == 10_000
    assert sum(Account.objects.values_list("balance", flat=True)) == sum(1 + i % 7 for i in range(10_000))


def test_staff_without_hr_role_cannot_import(staff_without_group, make_user):
    a = make_user()
    assert upload(staff_without_group, f"{a.email},100,Award\n").status_code == 403


def test_preview_of_the_issue_example_counts_only_valid_rows_and_lists_errors_by_line(hr_client, make_user):
    # Five good rows (870 points), then an unknown email, a bad amount and a short row.
    people = [make_user() for _ in range(5)]
    amounts = [100, 200, 300, 170, 100]
    lines = [f"{p.email},{n},Award" for p, n in zip(people, amounts, strict=True)]
    text = "email,amount,reason\n" + "\n".join(lines) + "\nnobody@example.com,100,Award\n"
    text += f"{people[0].email},lots,Award\n{people[1].email},5\n"
    body = upload(hr_client, text).content.decode()
    assert "<strong>5</strong> valid rows for <strong>5</strong> employees" in body
    assert "<strong>870</strong> points in total" in body
    table = body.split('id="import-preview"', 1)[1]
    assert "nobody@example.com" not in table and "<td>7</td>" not in table
    errors = body.split('id="import-errors"', 1)[1].split("</ul>", 1)[0]
    positions = [errors.index(f"line {n}:") for n in (7, 8, 9)]
    assert positions == sorted(positions), errors


def test_same_rows_saved_with_bom_crlf_or_trailing_blanks_are_flagged_as_a_duplicate(hr_client, make_user):
    a, b = make_user(), make_user()
    text = f"{a.email},100,Award\n{b.email},50,Bonus\n"
    hr_client.post(URL, {"token": token_of(upload(hr_client, text)), "confirm": "1"})
    variants = {
        "crlf": text.replace("\n", "\r\n"),
        "bom+crlf": "\ufeff" + text.replace("\n", "\r\n"),
        "cr": text.replace("\n", "\r"),
        "trailing blanks and header": "email,amount,reason\r\n"
        + f"{a.email.upper()} ,100 , Award\r\n{b.email},50,Bonus  \r\n\r\n\r\n",
    }
    for name, variant in variants.items():
        preview = upload(hr_client, variant)
        assert "This exact file was already imported" in preview.content.decode(), name
        refused = hr_client.post(URL, {"token": token_of(preview), "confirm": "1"}, follow=True)
        assert "already imported" in refused.content.decode(), name
    assert PointsAccount.objects.get(user=a).balance == 100
    assert GrantBatch.objects.count() == 1
    # Different rows are a different file.
    other = upload(hr_client, f"{a.email},101,Award\n{b.email},50,Bonus\n")
    assert "This exact file was already imported" not in other.content.decode()


def test_a_file_imported_before_rows_were_hashed_is_still_flagged(hr_client, hr_user, make_user):
    # Batches recorded earlier carry the hash of the file's bytes.
    a = make_user()
    text = f"{a.email},100,Award\n"
    points_grant_bulk(
        grants=[(a, 100, "Award")],
        source="csv",
        granted_by=hr_user,
        filename="old.csv",
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )
    preview = upload(hr_client, text)
    assert "This exact file was already imported" in preview.content.decode()
    refused = hr_client.post(URL, {"token": token_of(preview), "confirm": "1"}, follow=True)
    assert "already imported" in refused.content.decode()
    assert PointsAccount.objects.get(user=a).balance == 100
