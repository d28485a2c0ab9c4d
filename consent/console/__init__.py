"""The privacy officer console: server-rendered pages under ``/console``.

A privacy officer signs in with an API key (role ``privacy_officer``); the browser then
holds only a signed session cookie (:mod:`consent.console.session`). The pages
(:mod:`consent.console.pages`): find a subject by pseudonym or BSN (the BSN is never
shown back nor put in a URL), see its consents and their status, record a consent,
withdraw one, read the subject access report, and read the policy matrix. Every form
carries a CSRF token. The routes (:mod:`consent.console.routes`) go through the JSON
API's controller, so both check roles in one place.

Served by the consent service's app (:func:`consent.api.create_app`); no scripts, no
external assets.
"""

from __future__ import annotations

from consent.console.routes import build_console_router
from consent.console.session import SessionSigner, session_secret

__all__ = ["SessionSigner", "build_console_router", "session_secret"]
