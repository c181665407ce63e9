"""The diary's side-effect names, importable without pydantic: ``diary add --help`` lists them (issue 13)."""

from __future__ import annotations

SIDE_EFFECTS = ("diarrhoea", "nausea", "abdominal-cramps", "flushing", "drowsiness", "muscle-weakness")
