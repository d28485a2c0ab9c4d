"""The social partners' connector: a webhook taking JSON notices over HTTP.

Format and answers: README.md beside this file; the app: :func:`create_app`.
"""

from __future__ import annotations

from connectors.social_partners.app import MAX_BODY_BYTES, create_app
from connectors.social_partners.mapping import Notice, employee_mapper, vacancy_mapper

__all__ = ["MAX_BODY_BYTES", "Notice", "create_app", "employee_mapper", "vacancy_mapper"]
