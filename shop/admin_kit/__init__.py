"""What the back office's admin screens share: list filters, CSV export, form pages, charts, the repeat confirmation."""
