"""Pure domain code: no database, web, CLI or file-format imports (a test enforces this)."""
