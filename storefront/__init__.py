"""The employee storefront: server-rendered pages where employees sign in, browse and redeem.

It sits above the domain apps (beside ``backoffice``) and calls their services and selectors;
no business rule is written here twice.
"""
