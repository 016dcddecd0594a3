"""The back office's admin screens, one module per screen family.

Django's admin autodiscovery imports this package; importing the modules below registers their
admin classes with the site. That is the only reason for the import here: it re-exports nothing,
so import a name from the module that defines it.

- employees: UserAdmin (admin:shop_user_...), the employee list and page, registering and
  deactivating employees; it wires in the two screen families below.
- grants: the grant and adjust screens on the employee admin: one employee, everyone, a
  department, a selection.
- roster: the roster import on the employee admin: upload, preview, confirm.
"""

from backoffice.admin import employees  # noqa: F401  (registers UserAdmin)
