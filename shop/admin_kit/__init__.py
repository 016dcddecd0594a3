"""What the admin screens share: list filters, CSV export, form pages, charts, the repeat confirmation."""
