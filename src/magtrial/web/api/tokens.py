"""``/me`` and ``/tokens``: who a token acts as; list and revoke your own tokens.

Tokens are made with ``magtrial token create`` (or the account page), never by another token, so
a leaked token cannot mint a longer-lived one.
"""

from __future__ import annotations

import datetime as dt

from magtrial.service import tokens
from magtrial.web.api.auth import Ctx
from magtrial.web.api.errors import ERRORS
from magtrial.web.api.router import api_router
from magtrial.web.api.schemas import Out
from magtrial.web.api.writer import write

router = api_router(tags=["tokens"])


class MeOut(Out):
    name: str
    role: str  # patient, clinician or pharmacist


class TokenOut(Out):
    id: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    state: str  # active, expired or revoked

    @classmethod
    def of(cls, t: tokens.Token, now: dt.datetime) -> TokenOut:
        return cls(
            id=t.id,
            name=t.name,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
            state=t.state(now),
        )


@router.get("/me", response_model=MeOut, responses=ERRORS)
def me(ctx: Ctx) -> MeOut:
    """The account this token acts as."""
    return MeOut(name=ctx.actor.name, role=ctx.actor.role.value)


@router.get("/tokens", response_model=list[TokenOut], responses=ERRORS)
def list_tokens(ctx: Ctx) -> list[TokenOut]:
    """Your tokens (never their secrets)."""
    now = ctx.clock()
    return [TokenOut.of(t, now) for t in tokens.list_tokens(ctx)]


@router.delete("/tokens/{token_id}", response_model=TokenOut, responses=ERRORS)
async def revoke(ctx: Ctx, token_id: str) -> TokenOut:
    """Revoke one of your tokens (this one too); it fails from the next request on."""
    return TokenOut.of(await write(ctx.db, tokens.revoke_token, ctx, token_id), ctx.clock())
