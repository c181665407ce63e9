"""The web app: server-rendered pages (Jinja2 + a vendored HTMX) over the services, and the JSON API.

app.py        create_app(settings): middleware, error pages, routers (no app at import time)
deps.py       typed dependencies: database, settings, clock, the logged-in account, its Context
sessions.py   login sessions, invitations and throttling (token digests only)
security.py   security headers and CSRF checks
pages.py      Jinja2 templates and the context every page gets (account, CSRF token)
progress.py   completeness, adherence and the history chart's geometry (pack numbers only while blinded)
results.py    after unblinding: analysis, chart images, report, exports; the reminders file
keyupload.py  an uploaded unblinding key opened in memory for one request
routes/       auth, participant (diary), clinic, setup (new trial + live safety check), pharmacy
api/          the JSON API under /api/v1
"""
