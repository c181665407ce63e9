"""File formats for one trial record: FHIR R4 Bundle, tidy CSV, REDCap flat file, iCalendar reminders.

Every exporter takes a ``TrialRecord`` and only names arms when ``record.allocation`` is present,
so a blinded export cannot leak what the record does not hold: it is the same file whichever order
was drawn (no arm, no grouping of packs), apart from the published commitment. Each export carries
the audit head the record was read at and says when the trial is simulated.
"""
