"""The grant and adjust screens of the employee admin: one employee's grant or adjustment,
and the bulk grants to everyone, a department or a selection, each submitted once and queued
for a second HR user's approval above the threshold."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from points.forms import AdjustForm, BulkGrantForm, DepartmentGrantForm, GrantForm, OneTimeSubmissionForm
from points.models import GrantBatch, GrantRequest, PointsAccount, PointsTransaction
from points.selectors import grant_recipients_split
from points.services.approvals import (
    points_adjust_or_request,
    points_grant_bulk_or_request,
    points_grant_or_request,
)
from points.services.checks import approval_threshold
from points.services.grants import DuplicateSubmission, grant_recipients_all
from shop.admin_kit.repeats import RepeatNotConfirmed
from shop.admin_kit.tools import acting_user, admin_url, counted, form_page, points_figure
from shop.http.errors import ApplicationError, NegativeBalance
from shop.identity.selectors import department_members
from shop.models import User

if TYPE_CHECKING:
    # Only ever mixed into UserAdmin (employees.py), so typed as the admin it extends; its
    # log entries are for other models too (requests, batches), hence Any.
    _Base = admin.ModelAdmin[Any]
else:
    _Base = object


def approval_note(*, bulk: bool = False) -> str:
    what = "A total" if bulk else "An amount"
    return f"{what} above {approval_threshold():,} points waits for another HR user's approval before anything moves."


class EmployeeGrantsMixin(_Base):
    """UserAdmin's grant screens; their URLs are in UserAdmin.get_urls."""

    def has_grant_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("points.grant_points")

    def _employee(self, request: HttpRequest, object_id: str) -> User:
        if not self.has_grant_permission(request):
            raise PermissionDenied
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404("No such employee.")
        return user

    def _pending_message(self, request: HttpRequest, pending: GrantRequest) -> HttpResponse:
        self.log_addition(request, pending, f"Requested approval: {pending}")
        self.message_user(
            request,
            f"{pending.total_points} points is above the approval threshold of {approval_threshold()}: "
            "the request waits for another HR user's approval. Nothing has moved yet.",
            messages.WARNING,
        )
        return HttpResponseRedirect(admin_url(pending))

    def grant_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._employee(request, object_id)
        form = GrantForm(request.POST or None)
        return self._one_employee_points_page(
            request,
            user,
            form,
            apply=lambda: points_grant_or_request(
                user=user,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                requested_by=acting_user(request),
                submission_key=form.cleaned_data["submission"],
                confirm_repeat_of=form.confirmed_repeat(),
            ),
            done=lambda: (
                f"Granted {form.cleaned_data['amount']} points: {form.cleaned_data['reason']}",
                f"Granted {form.cleaned_data['amount']} points to {user.email}.",
            ),
            title=f"Grant points to {user.get_full_name()}",
            intro=f"Current balance: {points_figure(user.points_account.balance)} points. {approval_note()}",
            submit="Grant points",
        )

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self._employee(request, object_id)
        form = AdjustForm(request.POST or None)
        return self._one_employee_points_page(
            request,
            user,
            form,
            apply=lambda: points_adjust_or_request(
                user=user,
                amount=form.signed_amount(),
                reason=form.cleaned_data["reason"],
                requested_by=acting_user(request),
                submission_key=form.cleaned_data["submission"],
                confirm_repeat_of=form.confirmed_repeat(),
            ),
            done=lambda: (
                f"Adjusted points by {form.signed_amount():+d}: {form.cleaned_data['reason']}",
                f"Adjusted {user.email} by {form.signed_amount():+d} points.",
            ),
            negative_balance=lambda: (
                f"Refused: {user.email} has {PointsAccount.objects.get(user=user).balance} points, so "
                f"deducting {-form.signed_amount()} would make the balance negative. Nothing was changed."
            ),
            title=f"Adjust the points of {user.get_full_name()}",
            intro=f"Current balance: {points_figure(user.points_account.balance)} points. A deduction can never "
            f"take the balance below zero. {approval_note()}",
            submit="Adjust points",
        )

    def _one_employee_points_page(
        self,
        request: HttpRequest,
        user: User,
        form: OneTimeSubmissionForm,
        *,
        apply: Callable[[], PointsTransaction | GrantRequest],
        done: Callable[[], tuple[str, str]],
        negative_balance: Callable[[], str] | None = None,
        title: str,
        intro: str,
        submit: str,
    ) -> HttpResponse:
        """The grant and adjust pages of one employee: never one's own account, each form
        applied once (its one-time key), queued for approval above the threshold, and every
        refusal said on the page with nothing changed. ``done`` gives the history entry and the
        message once ``apply`` has written; ``negative_balance`` words a refused deduction."""
        if user.pk == request.user.pk:
            # The employee's page says so in its own note; a message too would say it twice.
            return HttpResponseRedirect(admin_url(user))
        if request.method == "POST" and form.is_valid():
            try:
                result = apply()
            except DuplicateSubmission as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                return HttpResponseRedirect(admin_url(user))
            except RepeatNotConfirmed as exc:
                form.ask_repeat(exc)
            except NegativeBalance as exc:
                form.add_error(None, negative_balance() if negative_balance else exc.detail)
            except ApplicationError as exc:
                form.add_error(None, exc.detail)
            else:
                if isinstance(result, GrantRequest):
                    return self._pending_message(request, result)
                history, message = done()
                self.log_change(request, user, history)
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(admin_url(user))
        return form_page(request, self, title=title, intro=intro, form=form, submit=submit, obj=user)

    def _bulk_grant(
        self,
        request: HttpRequest,
        form: BulkGrantForm,
        *,
        users: list[User],
        source: str,
        logged: str,
        announced: str,
        done: str,
        duplicate: str,
        department: str = "",
        **words: str,
    ) -> HttpResponse | None:
        """What the three bulk grant pages (everyone, a selection, a department) share: the
        form's amount to each of `users` in one batch, or one request for approval above the
        threshold, and a second submit of the same page refused.

        `logged` (the admin log) and `announced` (HR's message) are formatted with amount,
        reason, rows, total and `words`; HR is then sent to `done`, or to `duplicate` after a
        refused second submit. None means the page is shown again: the form was not sent or is
        invalid, nobody can receive the grant, or the service refused it (the reason is on the form).
        """
        if not (form.is_bound and form.is_valid() and users):
            return None
        amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
        try:
            result = points_grant_bulk_or_request(
                grants=[(u, amount, reason) for u in users],
                source=source,
                requested_by=acting_user(request),
                submission_key=form.cleaned_data["submission"],
                confirm_repeat_of=form.confirmed_repeat(),
                department=department,
            )
        except DuplicateSubmission as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(duplicate)
        except RepeatNotConfirmed as exc:
            form.ask_repeat(exc)
            return None
        except ApplicationError as exc:
            form.add_error(None, exc.detail)
            return None
        if isinstance(result, GrantRequest):
            return self._pending_message(request, result)
        figures = {
            "amount": f"{amount:,}",
            "reason": reason,
            "rows": result.rows,
            "employees": counted(result.rows, "employee"),
            "active_employees": counted(result.rows, "active employee"),
            "total": f"{result.total_points:,}",
        }
        self.log_addition(request, result, logged.format(**figures, department=department, **words))
        self.message_user(
            request, announced.format(**figures, department=department, **words), messages.SUCCESS
        )
        return HttpResponseRedirect(done)

    def grant_all_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_grant_permission(request):
            raise PermissionDenied
        acting = acting_user(request)
        users = grant_recipients_all(acting=acting)
        count = len(users)
        form = BulkGrantForm(request.POST or None)
        response = self._bulk_grant(
            request,
            form,
            users=users,
            source=GrantBatch.Source.ALL_ACTIVE,
            logged="Granted {amount} points to all {active_employees}: {reason}",
            announced="Granted {amount} points to {active_employees} ({total} points).",
            done=reverse("admin:shop_user_changelist"),
            duplicate=reverse("admin:points_grantbatch_changelist"),
        )
        if response is not None:
            return response
        # Active accounts the grant does not reach (deactivated ones are not listed: they never are).
        others = User.objects.filter(is_active=True).filter(Q(is_employee=False) | Q(pk=acting.pk))
        left_out = [f"{u.email}: {why}" for u, why in grant_recipients_split(users=others, acting=acting)[1]]
        intro = f"Every one of the {counted(count, 'active employee')} on the roster gets the same amount, in one step."
        if not users:
            intro = "No active employee is on the roster: there is nobody to grant to."
        return form_page(
            request,
            self,
            title="Grant points to all active employees",
            intro=f"{intro} {approval_note(bulk=True)}",
            form=form,
            submit=f"Grant to {counted(count, 'employee')}",
            left_out=left_out,
        )

    def grant_department_view(self, request: HttpRequest) -> HttpResponse:
        """One amount to everyone in a department: the bulk grant, its left-out list and four eyes."""
        if not self.has_grant_permission(request):
            raise PermissionDenied
        acting = acting_user(request)
        form = DepartmentGrantForm(
            request.POST or None, initial={"department": request.GET.get("department")}
        )
        department = form.data.get("department") or form.initial.get("department") or ""
        users, left = grant_recipients_split(users=department_members(department=department), acting=acting)
        left_out = [f"{u.email}: {why}" for u, why in left]
        response = None
        unseen = form.is_bound and department != form.data.get("shown_for", "")
        if unseen:
            # The department was picked in the list on this page, so HR has not seen whom it
            # reaches: show the count and who is left out first; the next press grants.
            data = request.POST.copy()
            data["shown_for"] = department
            form = DepartmentGrantForm(data)
        else:
            response = self._bulk_grant(
                request,
                form,
                users=users,
                source=GrantBatch.Source.DEPARTMENT,
                logged="Granted {amount} points to {employees} of {department}: {reason}",
                announced="Granted {amount} points to {employees} of {department} ({total} points).",
                done=reverse("admin:shop_user_changelist") + f"?department={quote(department)}",
                duplicate=reverse("admin:points_grantbatch_changelist"),
                department=department,
            )
        if response is not None:
            return response
        if form.is_bound and form.is_valid() and not users:
            form.add_error("department", "Nobody in this department can receive points.")
        intro = "Every active employee of the chosen department gets the same amount, in one step."
        if department:
            verb = "gets" if len(users) == 1 else "get"
            intro = f"{counted(len(users), 'active employee')} of {department} {verb} the same amount, in one step."
        if unseen and department:
            intro += " Check whom it reaches below, then press the button to grant."
        return form_page(
            request,
            self,
            title="Grant points to a department",
            intro=f"{intro} {approval_note(bulk=True)}",
            form=form,
            submit=f"Grant to {counted(len(users), 'employee')}" if department else "Show whom it reaches",
            left_out=left_out,
        )

    @admin.action(description="Grant points to the selected employees", permissions=["grant"])
    def grant_points_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> Any:
        acting = acting_user(request)
        users, left = grant_recipients_split(users=queryset.order_by("pk"), acting=acting)
        left_out = [f"{u.email}: {why}" for u, why in left]
        form = BulkGrantForm(request.POST if "apply" in request.POST else None)
        left_out_note = ""
        if left_out:
            left_out_note = f" Left out: {'; '.join(left_out[:5])}" + ("; ..." if len(left_out) > 5 else ".")
        # Both ways back lead to the list the action was run from (where an action returning
        # None leads too), with its filters and page.
        response = self._bulk_grant(
            request,
            form,
            users=users,
            source=GrantBatch.Source.SELECTION,
            logged="Granted {amount} points to {employees} selected: {reason}",
            announced="Granted {amount} points to {employees}.{left_out}",
            done=request.get_full_path(),
            duplicate=request.get_full_path(),
            left_out=left_out_note,
        )
        if response is not None:
            return response
        if not users:
            self.message_user(
                request,
                "Nobody in the selection can receive points: " + "; ".join(left_out[:10]),
                messages.ERROR,
            )
            return None
        hidden = [("action", "grant_points_selected")] + [
            (helpers.ACTION_CHECKBOX_NAME, str(u.pk)) for u in users
        ]
        intro = f"Each selected active employee gets the amount below. {approval_note(bulk=True)}"
        return form_page(
            request,
            self,
            title="Grant points to the selected employees",
            intro=intro,
            form=form,
            submit=f"Grant to {counted(len(users), 'employee')}",
            objects=users,
            hidden=hidden,
            left_out=left_out,
        )
