"""The web app: server-rendered pages (Jinja2 + a vendored HTMX) over the services, and the JSON API.

    app.py        create_app(settings): middleware, error pages, routers (no app at import time)
    deps.py       typed dependencies: database, settings, clock, the logged-in account, its Context
    sessions.py   login sessions, invitations and throttling (token digests only)
    security.py   security headers and CSRF checks
    routes/       one module per audience: auth, participant, clinician, pharmacist
    api/          the JSON API under /api/v1
"""
