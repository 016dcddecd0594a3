"""Answers the load balancer's health checks before host validation and the HTTPS redirect.

The ALB calls each task by its private IP address over plain HTTP, so the Host header is an
address no ALLOWED_HOSTS list can name in advance, and the request is not HTTPS. Rather than
allow every host (`ALLOWED_HOSTS = *`), the paths in ``HEALTH_CHECK_PATHS`` are served here,
early in the middleware stack, by their own views and without ``request.get_host()``; every
other path still needs a configured host name and HTTPS.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import resolve


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Read per request (a list of a few strings) so settings overrides apply in tests.
        if request.path_info not in settings.HEALTH_CHECK_PATHS:
            return self.get_response(request)
        match = resolve(request.path_info)
        response = match.func(request, *match.args, **match.kwargs)
        # The handler renders deferred responses (DRF's) after the view; this path skips it.
        render = getattr(response, "render", None)
        if callable(render):
            render()
        return response
