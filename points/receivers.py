"""What the foundation tells the points app: new users get their accounts."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from points.services.ledger import account_create, accounts_create
from shop.signals import users_created


@receiver(users_created)
def open_accounts(sender: Any, users: list[Any], **kwargs: Any) -> None:
    # One user: one INSERT as before; many (the roster import): one batched statement.
    if len(users) == 1:
        account_create(user=users[0])
    else:
        accounts_create(users=users)
