"""The API's default permission: a signed-in, active employee on the roster."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from shop.http.errors import NotRegistered


class IsActiveEmployee(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None:
            raise exceptions.NotAuthenticated("Sign in: send an Authorization: Bearer <token>.")
        if not user.is_active:
            raise exceptions.PermissionDenied("This employee account is deactivated.")
        if not getattr(user, "is_employee", False):
            # HR-only and operations accounts run the back office; they hold no points.
            raise NotRegistered(
                "This account is not on the employee roster (it runs the back office only), "
                "so it cannot use the employee API."
            )
        return True
