# ruff: noqa: F811  (the moto fixtures are imported from test_cognito_moto and named as arguments)
"""Cognito follows the roster: invitations, disables and global sign-outs against moto's server.

The same boto3 calls production makes reach moto's Cognito API. Each change is recorded in
the transaction that makes it and sent after commit; a failure is recorded and retried.
"""

from __future__ import annotations

from io import StringIO
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse

from shop.auth import cognito_profile
from shop.identity.roster import roster_import_confirm, roster_import_stage
from shop.identity.services import employee_register, user_reactivate, users_deactivate
from shop.models import IdentitySync, User
from tests.shop.test_cognito_moto import PASSWORD, Pool, cognito, email, moto_server, pool  # noqa: F401
from tests.support.cognito import free_port

pytestmark = pytest.mark.django_db

Status = IdentitySync.Status


def _cognito_user(pool: Pool, email: str) -> dict[str, Any]:
    user: dict[str, Any] = pool.idp.admin_get_user(UserPoolId=pool.pool_id, Username=email)
    user["attrs"] = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    return user


def _register(email: str, **kwargs: Any) -> User:
    return employee_register(
        email=email, name=kwargs.get("name", "Ann Invite"), employee_id=kwargs.get("employee_id", email[:12])
    )


def test_registering_invites_the_employee_into_the_pool(cognito, email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user = _register(email, name="Ann Invite", employee_id="INV-1")
        # Recorded in the registration's transaction, not yet sent.
        assert IdentitySync.objects.get(user=user).status == Status.PENDING
    assert len(callbacks) == 1
    sync = IdentitySync.objects.get(user=user)
    assert (sync.action, sync.status, sync.attempts, sync.last_error) == ("invite", Status.DONE, 1, "")
    assert sync.completed_at is not None
    created = _cognito_user(cognito, email)
    assert created["attrs"]["email"] == email
    assert created["attrs"]["email_verified"] == "true"
    assert created["attrs"]["name"] == "Ann Invite"
    assert created["attrs"]["custom:employee_id"] == "INV-1"
    # Cognito made the user with a temporary password and sent the invitation (no SUPPRESS).
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert created["Enabled"] is True


def test_the_invitation_is_asked_for_by_email(cognito, email, django_capture_on_commit_callbacks):
    sent: list[dict[str, Any]] = []
    real = cognito_profile.cognito_client

    def spying() -> Any:
        client = real()
        original = client.admin_create_user

        def admin_create_user(**kwargs: Any) -> Any:
            sent.append(kwargs)
            return original(**kwargs)

        client.admin_create_user = admin_create_user
        return client

    with (
        mock.patch("shop.identity.cognito_sync.cognito_client", spying),
        django_capture_on_commit_callbacks(execute=True),
    ):
        _register(email)
    (call,) = sent
    assert call["DesiredDeliveryMediums"] == ["EMAIL"]
    assert "MessageAction" not in call  # SUPPRESS would skip the invitation email


def test_deactivating_disables_the_user_and_signs_it_out_everywhere(
    cognito, email, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = _register(email)
    cognito.idp.admin_set_user_password(
        UserPoolId=cognito.pool_id, Username=email, Password=PASSWORD, Permanent=True
    )
    refresh = cognito.sign_in(email)["RefreshToken"]

    with django_capture_on_commit_callbacks(execute=True):
        users_deactivate(users=[user])
    sync = IdentitySync.objects.get(user=user, action="disable")
    assert sync.status == Status.DONE, sync.last_error
    assert _cognito_user(cognito, email)["Enabled"] is False
    # Enabled again directly in the pool: the refresh token from before still does not work,
    # because the deactivation also signed the user out everywhere.
    cognito.idp.admin_enable_user(UserPoolId=cognito.pool_id, Username=email)
    with pytest.raises(ClientError) as refused:
        cognito.idp.initiate_auth(
            ClientId=cognito.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh, "SECRET_HASH": cognito.secret_hash(email)},
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_a_linked_employee_is_disabled_by_sub_even_after_hr_corrected_the_email(
    anon, cognito, email, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = _register(email)
    cognito.idp.admin_set_user_password(
        UserPoolId=cognito.pool_id, Username=email, Password=PASSWORD, Permanent=True
    )
    me = anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {cognito.sign_in(email)['AccessToken']}")
    assert me.status_code == 200, me.content
    user.refresh_from_db()
    assert user.cognito_sub
    User.objects.filter(pk=user.pk).update(email=f"renamed-{email}")
    user.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        users_deactivate(users=[user])
    assert IdentitySync.objects.get(user=user, action="disable").status == Status.DONE
    assert _cognito_user(cognito, email)["Enabled"] is False


def test_reactivating_enables_the_user_again(cognito, email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = _register(email)
    with django_capture_on_commit_callbacks(execute=True):
        users_deactivate(users=[user])
    assert _cognito_user(cognito, email)["Enabled"] is False
    with django_capture_on_commit_callbacks(execute=True):
        user_reactivate(user=user)
    assert IdentitySync.objects.get(user=user, action="enable").status == Status.DONE
    assert _cognito_user(cognito, email)["Enabled"] is True


def test_deactivating_someone_without_a_cognito_user_is_not_a_failure(
    cognito, make_user, email, django_capture_on_commit_callbacks
):
    user = make_user(email=email)  # registered before the pool existed, never invited
    with django_capture_on_commit_callbacks(execute=True):
        users_deactivate(users=[user])
    assert IdentitySync.objects.get(user=user).status == Status.DONE


def test_an_unreachable_pool_is_recorded_then_retried_by_the_command(
    cognito, settings, email, django_capture_on_commit_callbacks
):
    settings.COGNITO_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        user = _register(email)
    # The registration stands; the invitation failed and says why.
    assert User.objects.filter(pk=user.pk, is_active=True).exists()
    sync = IdentitySync.objects.get(user=user)
    assert (sync.status, sync.attempts) == (Status.FAILED, 1)
    assert "EndpointConnectionError" in sync.last_error or "Could not connect" in sync.last_error
    with pytest.raises(ClientError):
        _cognito_user(cognito, email)

    with pytest.raises(CommandError, match="1 Cognito sync"):
        call_command("retry_identity_sync", stdout=StringIO())
    assert IdentitySync.objects.get(pk=sync.pk).attempts == 2

    settings.COGNITO_ENDPOINT_URL = cognito.moto.url  # the pool is back
    out = StringIO()
    call_command("retry_identity_sync", stdout=out)
    assert "1 of 1 synced." in out.getvalue()
    sync.refresh_from_db()
    assert (sync.status, sync.attempts, sync.last_error) == (Status.DONE, 3, "")
    assert _cognito_user(cognito, email)["attrs"]["email"] == email


def test_a_retry_after_a_lost_answer_does_not_fail_on_the_existing_user(
    cognito, email, django_capture_on_commit_callbacks
):
    # The first attempt reached Cognito but its outcome was never recorded (the process died).
    with django_capture_on_commit_callbacks(execute=False):
        user = _register(email)
    cognito.idp.admin_create_user(UserPoolId=cognito.pool_id, Username=email, MessageAction="SUPPRESS")
    IdentitySync.objects.filter(user=user).update(status=Status.FAILED)
    call_command("retry_identity_sync", stdout=StringIO())
    assert IdentitySync.objects.get(user=user).status == Status.DONE


def test_the_command_picks_up_pending_syncs_whose_call_was_lost_but_not_fresh_ones(
    cognito, email, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False):
        lost = _register(email)  # committed, but the process stopped before the call
        fresh = _register(f"fresh-{email}")
    IdentitySync.objects.filter(user=lost).update(updated_at=timezone.now() - timedelta(minutes=6))
    out = StringIO()
    call_command("retry_identity_sync", stdout=out)
    assert "1 of 1 synced." in out.getvalue()
    assert IdentitySync.objects.get(user=lost).status == Status.DONE
    assert IdentitySync.objects.get(user=fresh).status == Status.PENDING  # may still be running
    assert _cognito_user(cognito, email)["attrs"]["email"] == email


def test_hr_retries_failed_syncs_from_the_admin(
    cognito, settings, email, django_capture_on_commit_callbacks, make_user
):
    from django.contrib.auth.models import Group
    from django.test import Client

    from shop.access.roles import HR_GROUP_NAME

    hr = make_user(email="hr-retry@example.com", is_staff=True, is_employee=False)
    hr.groups.add(Group.objects.get(name=HR_GROUP_NAME))
    client = Client()
    client.force_login(hr)

    settings.COGNITO_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    with django_capture_on_commit_callbacks(execute=True):
        user = _register(email)
    sync = IdentitySync.objects.get(user=user)
    assert sync.status == Status.FAILED
    employees = client.get(reverse("admin:shop_user_changelist")).content.decode()
    assert "1 Cognito change failed" in employees
    listing = client.get(reverse("admin:shop_identitysync_changelist"), {"status__exact": "failed"})
    assert email in listing.content.decode()

    settings.COGNITO_ENDPOINT_URL = cognito.moto.url
    response = client.post(
        reverse("admin:shop_identitysync_changelist"),
        {"action": "retry_selected", "_selected_action": [str(sync.pk)]},
        follow=True,
    )
    assert "1 Cognito sync done." in response.content.decode()
    sync.refresh_from_db()
    assert sync.status == Status.DONE
    assert _cognito_user(cognito, email)["Enabled"] is True


def test_roster_import_invites_new_employees_and_disables_leavers(
    cognito, make_user, django_capture_on_commit_callbacks
):
    hr = make_user(email="hr-roster@example.com", is_staff=True, is_employee=False)
    with django_capture_on_commit_callbacks(execute=True):
        leaver = _register("leaver-roster@example.com")
    staged = roster_import_stage(
        content=b"newbie-roster@example.com,Newbie,R-1,Ops\n",
        filename="r.csv",
        staged_by=hr,
        deactivate_leavers=True,
    )
    assert [u.email for u in staged.plan.leavers] == ["leaver-roster@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        roster_import_confirm(token=staged.token, confirmed_by=hr, create_departments=True)
    assert _cognito_user(cognito, "newbie-roster@example.com")["attrs"]["custom:employee_id"] == "R-1"
    assert _cognito_user(cognito, leaver.email)["Enabled"] is False


def test_roster_mode_end_to_end_only_the_registered_employee_gets_in(
    anon, cognito, email, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _register(email, employee_id="E2E-1")
    cognito.idp.admin_set_user_password(
        UserPoolId=cognito.pool_id, Username=email, Password=PASSWORD, Permanent=True
    )
    ok = anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {cognito.sign_in(email)['AccessToken']}")
    assert ok.status_code == 200, ok.content
    assert ok.json()["employee_id"] == "E2E-1"

    # Someone an administrator put in the pool without registering them on the roster.
    stranger = f"stranger-{email}"
    cognito.add_user(stranger)
    before = User.objects.count()
    refused = anon.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {cognito.sign_in(stranger)['AccessToken']}")
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_registered"
    assert User.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_cognito_is_called_after_commit_and_never_for_a_rolled_back_change(cognito, email):
    from django.db import connection

    seen: list[bool] = []
    real = cognito_profile.cognito_client

    def spying() -> Any:
        seen.append(connection.in_atomic_block)
        return real()

    with mock.patch("shop.identity.cognito_sync.cognito_client", spying):

        def register_then_fail() -> None:
            with transaction.atomic():
                _register(f"rolled-back-{email}")
                raise RuntimeError("the surrounding change failed")

        with pytest.raises(RuntimeError):
            register_then_fail()
        assert seen == []
        assert not IdentitySync.objects.exists()
        _register(email)
    assert seen == [False]
    assert IdentitySync.objects.get().status == Status.DONE


def test_without_a_pool_nothing_is_recorded(db, settings, email):
    settings.COGNITO_USER_POOL_ID = ""
    users_deactivate(users=[_register(email)])
    assert not IdentitySync.objects.exists()
    with pytest.raises(CommandError, match="No Cognito pool"):
        call_command("retry_identity_sync")
