"""File formats for one trial record: FHIR R4 Bundle, tidy CSV, REDCap flat file, iCalendar reminders.

Every exporter takes a ``TrialRecord`` and only names arms when ``record.allocation`` is present,
so a blinded export cannot leak what the record does not hold.
"""
