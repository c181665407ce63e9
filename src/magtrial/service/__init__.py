"""Application services: the one place the CLI and web call; each method is one unit of work.

Services combine pure core rules with the store and write an audit event in the same
transaction as every change.
"""

from magtrial.service.access import Actor, Role
from magtrial.service.trials import TrialService

__all__ = ["Actor", "Role", "TrialService"]
