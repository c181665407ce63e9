"""One exception hierarchy for the whole app, so adapters map errors in one place.

    MagtrialError                 base; ``status`` is the HTTP status an adapter should use
    ├── ValidationError (422)     input that breaks a domain rule
    │   ├── ProtocolError         an invalid trial protocol
    │   ├── DiaryError            an invalid diary value, date or version step
    │   └── SafetyInputError      an invalid person, product or medication for the safety check
    ├── NotFound (404)            an unknown trial, entry or user
    ├── Conflict (409)            a second entry for a day, a trial already unblinded, ...
    ├── Forbidden (403)           a role asking for something it may not see or do
    ├── SafetyBlocked (409)       a regimen the safety checker blocks
    └── IntegrityError (500)      a broken audit chain or a commitment that does not verify

Core code raises these; the CLI prints ``str(error)`` and exits non-zero, the web layer answers
``error.status`` with the message as the reason.
"""


class MagtrialError(Exception):
    status = 400


class ValidationError(MagtrialError):
    status = 422


class ProtocolError(ValidationError):
    pass


class DiaryError(ValidationError):
    pass


class SafetyInputError(ValidationError):
    pass


class NotFound(MagtrialError):
    status = 404


class Conflict(MagtrialError):
    status = 409


class Forbidden(MagtrialError):
    status = 403


class SafetyBlocked(MagtrialError):
    status = 409


class IntegrityError(MagtrialError):
    status = 500
