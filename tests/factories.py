"""factory-boy factories for the test suite."""

from __future__ import annotations

from typing import Any

import factory
from django.db import transaction

from catalog.models import Category, Product
from points.lock_objects import account_for_update
from points.models import PointsTransaction
from points.services.ledger import ledger_apply
from shop.identity.services import user_create
from shop.models import Department, User


class UserFactory(factory.Factory):
    """Employees are made through the service, so each gets its points account."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"employee{n}@example.com")
    name = factory.Faker("name")
    employee_id = factory.Sequence(lambda n: f"E{n:05d}")

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        points = kwargs.pop("points", 0)
        if kwargs.get("department"):
            # HR's departments are records; a test naming one gets it, as HR would have added it.
            Department.objects.get_or_create(name=kwargs["department"])
        user = user_create(**kwargs)
        if points:
            # Starting balances are fixture data: written through the ledger, but not through
            # the HR grant rules (roster, approval threshold) that the tests exercise.
            with transaction.atomic():
                ledger_apply(
                    account=account_for_update(user.pk),
                    type=PointsTransaction.Type.EARNED,
                    amount=points,
                    description="test grant",
                )
        return user


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    description = "A useful thing."
    points_cost = 100
    stock = 10
    is_active = True
    category = factory.SubFactory(CategoryFactory)
