"""Departments HR manages: create, rename, merge near-duplicates, and resolve typed names.

A department name is unique ignoring case and spacing ("Sales", "sales ", "SALES" are one),
which these services check; names typed elsewhere (the roster file, a command) are resolved to
the record's spelling, so a typo or a different case never splits a department again.
Employees hold their department by name (``User.department``), kept in step here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import transaction

from shop.http.errors import ApplicationError
from shop.models import Department, User

NAME_MAX = Department._meta.get_field("name").max_length or 100


class DepartmentInvalid(ApplicationError):
    status_code = 400
    code = "validation_error"
    default_detail = "The department is not valid."


def department_key(name: str) -> str:
    """What makes two spellings the same department: case and spacing ignored."""
    return " ".join(name.split()).casefold()


def department_clean_name(name: str) -> str:
    return " ".join(name.split())


def departments_by_key(*, active_only: bool = False) -> dict[str, str]:
    """The record's spelling of every department, by key (one query). Of near-duplicates not
    merged yet, the first by name wins."""
    records = Department.objects.order_by("name")
    if active_only:
        records = records.filter(is_active=True)
    names: dict[str, str] = {}
    for name in records.values_list("name", flat=True):
        names.setdefault(department_key(name), name)
    return names


def department_resolve(name: str) -> str | None:
    """The recorded spelling of a typed department name, "" for none, None if unknown."""
    if not name.strip():
        return ""
    return departments_by_key().get(department_key(name))


def department_names(*, active_only: bool = True) -> list[str]:
    """The departments to choose from, by name (one query): active ones, or all for reports."""
    records = Department.objects.order_by("name")
    if active_only:
        records = records.filter(is_active=True)
    return list(records.values_list("name", flat=True))


def department_choices() -> list[tuple[str, str]]:
    """(name, label) of every department for a select: active ones first, closed ones marked."""
    records = Department.objects.order_by("-is_active", "name").values_list("name", "is_active")
    return [(name, name if active else f"{name} (inactive)") for name, active in records]


def department_near_duplicates() -> list[list[Department]]:
    """Groups of departments whose names differ only in case or spacing, for HR to merge."""
    groups: dict[str, list[Department]] = defaultdict(list)
    for department in Department.objects.order_by("name", "pk"):
        groups[department_key(department.name)].append(department)
    return [group for group in groups.values() if len(group) > 1]


def department_check_name(name: str, *, exclude: int | None = None) -> str:
    """The name as stored (spaces collapsed), or DepartmentInvalid: empty, too long, or taken
    ignoring case and spacing."""
    clean = department_clean_name(name)
    if not clean:
        raise DepartmentInvalid("The department needs a name.")
    if len(clean) > NAME_MAX:
        raise DepartmentInvalid(f"The name is longer than {NAME_MAX} characters.")
    taken = [
        d
        for d in Department.objects.exclude(pk=exclude or 0)
        if department_key(d.name) == department_key(clean)
    ]
    if taken:
        raise DepartmentInvalid(f"There is already a department named {taken[0].name!r}.")
    return clean


def _members_spelled(*names: str) -> list[object]:
    """The employees whose department is spelled exactly so. The comparison is made here, not in
    SQL: MariaDB's collation ignores case and trailing spaces, so "Sales" would match "sales "."""
    rows = User.objects.filter(department__in=names).values_list("pk", "department")
    return [pk for pk, name in rows if name in names]


@transaction.atomic
def department_create(*, name: str, manager: User | None = None, location: str = "") -> Department:
    return Department.objects.create(
        name=department_check_name(name), manager=manager, location=location.strip()
    )


@transaction.atomic
def departments_create(*, names: Iterable[str]) -> list[Department]:
    """Create the departments a roster file names (the import's "create" box); known ones are skipped."""
    known = departments_by_key()
    created: dict[str, Department] = {}
    for name in names:
        key = department_key(name)
        if key and key not in known and key not in created:
            created[key] = Department(name=department_clean_name(name))
    return Department.objects.bulk_create(list(created.values()))


@transaction.atomic
def department_rename(*, department: Department, old_name: str) -> int:
    """After ``department`` was saved under a new name: check it, and rename it on its employees.

    Returns how many employees were moved to the new name. Their ledger, orders and grants stay
    theirs, so every report shows the department's whole history under its current name.
    """
    department.name = department_check_name(department.name, exclude=department.pk)
    Department.objects.filter(pk=department.pk).update(name=department.name)
    if old_name == department.name:
        return 0
    return User.objects.filter(pk__in=_members_spelled(old_name)).update(department=department.name)


@transaction.atomic
def departments_merge(*, keep: Department, merged: Sequence[Department]) -> int:
    """Move every employee of ``merged`` into ``keep`` and delete those records.

    Returns the number of employees moved. The admin history keeps what was merged into what.
    """
    others = [d for d in merged if d.pk != keep.pk]
    if not others:
        raise DepartmentInvalid("Choose at least one other department to merge into it.")
    names = [d.name for d in others]
    moved = User.objects.filter(pk__in=_members_spelled(*names)).update(department=keep.name)
    Department.objects.filter(pk__in=[d.pk for d in others]).delete()
    return moved


def department_member_counts() -> dict[str, int]:
    """Employees per department name (one grouped query)."""
    from django.db.models import Count

    rows = User.objects.exclude(department="").values("department").annotate(n=Count("pk"))
    return {row["department"]: row["n"] for row in rows}
