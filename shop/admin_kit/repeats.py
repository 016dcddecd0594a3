"""The same change twice within a short window: applied only when HR confirms the repeat.

A one-time key per rendered form stops a double click or a resend of the same page, but not
the browser's Back button: Back fetches the form again (a fresh key) while the browser restores
the values HR typed, so the second press looks like a new form. What the two submissions share
is their content (the same points to the same people for the same reason, the same stock
change with the same note), so the services that move points or stock look for a change with
the same content made within ``REPEAT_WINDOW_MINUTES`` (under the same row locks as the change
itself, so two tabs pressed at once are caught too) and refuse with :class:`RepeatNotConfirmed`,
which names the earlier change. HR confirms by ticking a box that names that earlier change;
the confirmation is only good for it, so a page restored with the box ticked after a confirmed
repeat is asked again about the newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from shop.http.errors import ApplicationError

DEFAULT_REPEAT_WINDOW_MINUTES = 10


def repeat_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "REPEAT_WINDOW_MINUTES", DEFAULT_REPEAT_WINDOW_MINUTES)))


def repeat_since() -> datetime:
    """Changes made after this moment count as a repeat of the same content."""
    return timezone.now() - repeat_window()


def when(moment: datetime) -> str:
    """A moment as HR reads it in these messages: local time, to the minute."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class EarlierChange:
    """A change with the same content inside the window: ``token`` identifies it (what a
    confirmation must name), ``description`` says what and when, for HR."""

    token: str
    description: str


class RepeatNotConfirmed(ApplicationError):
    status_code = 409
    code = "repeat_not_confirmed"
    default_detail = "The same change was made a moment ago; confirm to make it again."

    def __init__(self, earlier: EarlierChange) -> None:
        self.earlier = earlier
        super().__init__(
            f"The same change was already made: {earlier.description}. Nothing was changed this time. "
            "If you really mean to make it a second time, tick the box below and submit again."
        )


def check_repeat(earlier: EarlierChange | None, confirmed: str | None) -> None:
    """Refuse a repeat unless ``confirmed`` names the earlier change found.

    ``confirmed`` None means the caller does not check (a management command, an approval
    applying a request that was checked when it was made); "" means nothing was confirmed.
    """
    if confirmed is None or earlier is None:
        return
    if confirmed != earlier.token:
        raise RepeatNotConfirmed(earlier)


class RepeatConfirmForm(forms.Form):
    """Adds the confirmation of a repeat to a form that moves points or stock.

    The box appears only after a refusal, naming the earlier change; its hidden companion
    carries that change's token, so ticking it confirms that repeat and no other.
    """

    repeat_of = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound and self.data.get("repeat_of"):
            self.fields["confirm_repeat"] = self._confirm_field()

    @staticmethod
    def _confirm_field() -> forms.BooleanField:
        return forms.BooleanField(required=False, label="Yes, make this change a second time")

    def confirmed_repeat(self) -> str:
        """The token of the earlier change HR confirmed, or "" (what the services take)."""
        if self.cleaned_data.get("confirm_repeat"):
            return str(self.cleaned_data.get("repeat_of") or "")
        return ""

    def ask_repeat(self, refusal: RepeatNotConfirmed) -> None:
        """Show the form again with the refusal and an unticked box naming the earlier change."""
        data = QueryDict(mutable=True)
        for key in self.data:
            values = self.data.getlist(key) if isinstance(self.data, QueryDict) else [self.data[key]]
            data.setlist(key, list(values))
        data["repeat_of"] = refusal.earlier.token
        data.pop("confirm_repeat", None)
        self.data = data
        # The refusal above the form names the earlier change; the box does not repeat it.
        self.fields["confirm_repeat"] = self._confirm_field()
        self.add_error(None, refusal.detail)
