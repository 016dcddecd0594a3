"""The points services: the only code that changes balances. Every change writes its ledger
entry in the same transaction, under a row lock on the account (points.lock_objects holds the
one lock order). Callers import from the module that owns the function:

- checks: what every write checks first (amounts, reasons, one's own account, the roster, the
  approval threshold); the underscore helpers are shared inside this package only.
- ledger: opening accounts and the one balance write with its ledger entry (ledger_apply).
- grants: grants and adjustments applied now, one employee or many, and the forms' one-time keys.
- approvals: four eyes, changes above the threshold queued for a second HR user and decided.
- grant_files: CSV grant files, parsed and checked, staged for the admin's preview, applied.
- expiry: the write that expires due points; the policy and the arithmetic are points.expiry.
"""
