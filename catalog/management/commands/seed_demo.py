"""Load demo categories, products (with images) and employees; safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from catalog.demo import seed_demo


class Command(BaseCommand):
    help = "Create demo categories, products with images, and employees with points. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        created = seed_demo()
        self.stdout.write(
            "Demo data: " + ", ".join(f"{count} {what} created" for what, count in created.items()) + "."
        )
