"""Load demo categories, products (with images) and employees; safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from catalog.demo import seed_demo


class Command(BaseCommand):
    help = "Create demo categories, products with images, and employees with points. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        created = seed_demo()
        pictures = created.pop("pictures added to older products")
        parts = [f"{count} {what} created" for what, count in created.items()]
        if created["products"]:
            parts[list(created).index("products")] += " (each product with its picture and thumbnail)"
        line = "Demo data: " + ", ".join(parts)
        if pictures:
            line += f"; {pictures} older products given a picture"
        self.stdout.write(line + ".")
