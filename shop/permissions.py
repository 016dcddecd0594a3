"""The API's default permission: a signed-in, active employee."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class IsActiveEmployee(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None:
            raise exceptions.NotAuthenticated("Sign in: send an Authorization: Bearer <token>.")
        if not user.is_active:
            raise exceptions.PermissionDenied("This employee account is deactivated.")
        return True
