"""Accounts: passwords are hashed, checked, and refused when they are leaked or easy to guess."""

import pytest

from magtrial.errors import Forbidden, ValidationError
from magtrial.service import Context, Role, accounts


@pytest.mark.parametrize(
    "password", ["password123", "qwertyuiop", "iloveyou12", "Passw0rd!!", "dragon1234", "P-001P-001P-001"]
)
def test_leaked_or_guessable_passwords_are_refused(sqlite_db, password):
    ctx = Context(sqlite_db, accounts.bootstrap(sqlite_db, "dr-lee"))
    with pytest.raises(ValidationError, match="choose another password"):
        accounts.add_account(ctx, "P-001", Role.PATIENT, password)
    with pytest.raises(ValidationError, match="choose another password"):
        accounts.set_password(ctx, "dr-lee", password)
    assert [a.name for a in accounts.list_accounts(ctx)] == ["dr-lee"]


def test_a_strong_password_is_stored_only_as_an_argon2_hash_and_checked(sqlite_db):
    from sqlalchemy import text

    ctx = Context(sqlite_db, accounts.bootstrap(sqlite_db, "dr-lee"))
    accounts.add_account(ctx, "P-001", Role.PATIENT, "lantern orchid gravel")
    with sqlite_db.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM accounts WHERE name = 'P-001'")).scalar()
    assert stored.startswith("$argon2id$") and "lantern" not in stored
    assert accounts.actor_for(sqlite_db, "P-001", "lantern orchid gravel").role is Role.PATIENT
    with pytest.raises(Forbidden, match="wrong password"):
        accounts.actor_for(sqlite_db, "P-001", "lantern orchid grave1")
    with pytest.raises(ValidationError, match="at least 10"):
        accounts.set_password(ctx, "P-001", "short")
