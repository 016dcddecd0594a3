"""Browser sessions with their user's id as a column (awsomeshop/sessions.py).

The sessions signed in before this release are copied over, so nobody is signed out by it. Django's
table stays, unused, as the previous release still writes to it while a deployment rolls: a
session that release starts during the rollout is not copied, and that browser signs in again.
"""

import uuid
from itertools import islice

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

USER_ID_KEY = "_auth_user_id"  # django.contrib.auth.SESSION_KEY


def copy_signed_in_sessions(apps, schema_editor):
    # Django's engine decodes the data (the same signature salt as ours: both classes are
    # named SessionStore), only to read the user id; the data itself is copied as it is.
    # In chunks, so a large table is never held in memory at once.
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    BrowserSession = apps.get_model("shop", "BrowserSession")
    User = apps.get_model("shop", "User")
    decoder = SessionStore()
    unexpired = Session.objects.filter(expire_date__gt=timezone.now()).order_by("pk").iterator(chunk_size=CHUNK)
    while chunk := list(islice(unexpired, CHUNK)):
        user_ids = {old.session_key: _user_id(decoder.decode(old.session_data)) for old in chunk}
        known = set(User.objects.filter(pk__in={u for u in user_ids.values() if u}).values_list("pk", flat=True))
        BrowserSession.objects.bulk_create(
            [
                BrowserSession(
                    session_key=old.session_key,
                    session_data=old.session_data,
                    expire_date=old.expire_date,
                    # None: signed out, or a user removed since
                    user_id=user_ids[old.session_key] if user_ids[old.session_key] in known else None,
                )
                for old in chunk
            ]
        )


CHUNK = 500


def _user_id(data):
    value = data.get(USER_ID_KEY)
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


class Migration(migrations.Migration):

    dependencies = [
        ("sessions", "0001_initial"),
        ("shop", "0006_departments"),
    ]

    operations = [
        migrations.CreateModel(
            name="BrowserSession",
            fields=[
                ("session_key", models.CharField(max_length=40, primary_key=True, serialize=False, verbose_name="session key")),
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "browser session",
                "verbose_name_plural": "browser sessions",
                "abstract": False,
            },
        ),
        migrations.RunPython(copy_signed_in_sessions, migrations.RunPython.noop),
    ]
