"""matplotlib charts for reports and the CLI; each function takes ``ax=None`` and imports matplotlib lazily."""
