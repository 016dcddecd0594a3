"""Labels the storefront shows from the models (order status, history kinds) are marked for
translation, like the templates' own strings."""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.utils.functional import Promise

PROJECT_APPS = ("shop", "points", "catalog", "orders", "notifications")


def _choice_classes() -> list[type[models.Choices]]:
    found = []
    for config in apps.get_app_configs():
        if config.label not in PROJECT_APPS:
            continue
        for model in config.get_models():
            for value in vars(model).values():
                if isinstance(value, type) and issubclass(value, models.Choices):
                    found.append(value)
    return found


def test_every_choice_label_is_marked_for_translation() -> None:
    classes = _choice_classes()
    # The order status and the ledger's entry types are among them; an empty scan proves nothing.
    assert len(classes) >= 10
    unmarked = [
        f"{cls.__qualname__}.{member.name}"
        for cls in classes
        for member in cls
        if not isinstance(member.label, Promise)
    ]
    assert unmarked == []
