"""Application services: the one door the CLI, the web pages and the API call.

One module per feature, each a set of functions taking a ``Context`` (database, acting account,
clock); every change writes its audit event in the same transaction.

    accounts    people and roles (argon2 password hashes)
    keys        unblinding keys: the pharmacist's and the clinic's emergency key
    trials      create (sealed allocation), read as the actor may see, amend
    diary       add, correct, void (row lock, safety review in the same transaction)
    unblinding  pack list, pharmacist view, unblind, commitment check (each needs a key)
    audit       head, verify (chain, kept head, replay against tables), a trial's events
    pooling     effect summaries of real, unblinded trials
    consent     versioned consent text, the participant's signature, the check before diary writes
    withdrawal  withdraw keeping the data, or erase it (the audit chain still verifies)
"""

from magtrial.service.access import Actor, Role
from magtrial.service.context import Context

__all__ = ["Actor", "Context", "Role"]
