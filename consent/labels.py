"""What the pages call the codes of the consent vocabulary, in the page's language.

A code stays a code in the API, the exports and the English pages (``GIVEN``,
``MATCHING_PLACEMENT``); a Dutch page shows the working document's word for it
(*gegeven*, *bemiddeling en plaatsing*). Every code is marked here for the catalogue with
its vocabulary as the gettext context, so a code that means two things (``EDUCATION``
as a partner kind and a sector, ``CONSENT`` as a legal basis and a data category) gets
two translations. A test checks that every member of every enum below is listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from consent.model import CollectionMethod, ConsentStatus, LegalBasis, Recipient
from hub.i18n import NP_, _, pgettext
from schemas.models.enums import ConsentChangeType
from schemas.vocabulary import DataCategory, JobSeekerCategory, PartnerKind, Purpose

__all__ = ["LABELS", "label", "labels", "recipient_label", "recipients_label"]

LABELS: dict[type[StrEnum], dict[str, tuple[str, str]]] = {
    ConsentStatus: {
        "GIVEN": NP_("consent status", "GIVEN"),
        "WITHDRAWN": NP_("consent status", "WITHDRAWN"),
        "EXPIRED": NP_("consent status", "EXPIRED"),
    },
    ConsentChangeType: {
        "GIVEN": NP_("consent status", "GIVEN"),
        "WITHDRAWN": NP_("consent status", "WITHDRAWN"),
        "EXPIRED": NP_("consent status", "EXPIRED"),
    },
    Purpose: {
        "INTAKE_DIAGNOSIS": NP_("purpose", "INTAKE_DIAGNOSIS"),
        "ARRANGEMENT": NP_("purpose", "ARRANGEMENT"),
        "MATCHING_PLACEMENT": NP_("purpose", "MATCHING_PLACEMENT"),
        "SCHOOLING": NP_("purpose", "SCHOOLING"),
        "WARM_HANDOVER": NP_("purpose", "WARM_HANDOVER"),
        "RESPONSIBILITY_TRANSFER": NP_("purpose", "RESPONSIBILITY_TRANSFER"),
        "BUDGET_ADMINISTRATION": NP_("purpose", "BUDGET_ADMINISTRATION"),
        "MONITORING": NP_("purpose", "MONITORING"),
    },
    DataCategory: {
        "meta": NP_("data category", "meta"),
        "pseudonym": NP_("data category", "pseudonym"),
        "identity": NP_("data category", "identity"),
        "contact": NP_("data category", "contact"),
        "residence": NP_("data category", "residence"),
        "labour_market_profile": NP_("data category", "labour_market_profile"),
        "education": NP_("data category", "education"),
        "benefit_status": NP_("data category", "benefit_status"),
        "health": NP_("data category", "health"),
        "debts": NP_("data category", "debts"),
        "intake": NP_("data category", "intake"),
        "arrangement": NP_("data category", "arrangement"),
        "outcome": NP_("data category", "outcome"),
        "business": NP_("data category", "business"),
        "consent": NP_("data category", "consent"),
        "statistical": NP_("data category", "statistical"),
    },
    LegalBasis: {
        "CONSENT": NP_("legal basis", "CONSENT"),
        "EXPLICIT_CONSENT": NP_("legal basis", "EXPLICIT_CONSENT"),
        "CONTRACT": NP_("legal basis", "CONTRACT"),
        "LEGAL_OBLIGATION": NP_("legal basis", "LEGAL_OBLIGATION"),
        "VITAL_INTERESTS": NP_("legal basis", "VITAL_INTERESTS"),
        "PUBLIC_TASK": NP_("legal basis", "PUBLIC_TASK"),
        "LEGITIMATE_INTERESTS": NP_("legal basis", "LEGITIMATE_INTERESTS"),
    },
    CollectionMethod: {
        "IN_PERSON_SIGNED": NP_("collection method", "IN_PERSON_SIGNED"),
        "IN_PERSON_VERBAL": NP_("collection method", "IN_PERSON_VERBAL"),
        "DIGITAL_SIGNED": NP_("collection method", "DIGITAL_SIGNED"),
        "PAPER_FORM": NP_("collection method", "PAPER_FORM"),
        "TELEPHONE": NP_("collection method", "TELEPHONE"),
        "VIDEO_CALL": NP_("collection method", "VIDEO_CALL"),
    },
    JobSeekerCategory: {
        "THREATENED_EMPLOYEE": NP_("job seeker category", "THREATENED_EMPLOYEE"),
        "WW_ENTRANT": NP_("job seeker category", "WW_ENTRANT"),
        "YOUNG_PERSON": NP_("job seeker category", "YOUNG_PERSON"),
        "BIJSTAND_APPLICANT": NP_("job seeker category", "BIJSTAND_APPLICANT"),
        "SELF_EMPLOYED": NP_("job seeker category", "SELF_EMPLOYED"),
        "NO_BENEFIT": NP_("job seeker category", "NO_BENEFIT"),
    },
    PartnerKind: {
        "UWV": NP_("partner kind", "UWV"),
        "GEMEENTE": NP_("partner kind", "GEMEENTE"),
        "SOCIAL_PARTNER": NP_("partner kind", "SOCIAL_PARTNER"),
        "SBB": NP_("partner kind", "SBB"),
        "EDUCATION": NP_("partner kind", "EDUCATION"),
    },
}
"""Per vocabulary: code -> (gettext context, code)."""


def label(value: StrEnum | None, empty: str = "-") -> str:
    """What the page calls ``value`` (its code in English)."""
    if value is None:
        return empty
    marked = LABELS.get(type(value), {}).get(value.value)
    return pgettext(*marked) if marked else value.value


def labels(values: Iterable[StrEnum]) -> str:
    """Several codes as one comma-separated text."""
    return ", ".join(label(v) for v in values)


def recipient_label(recipient: Recipient) -> str:
    """``uwv``, ``every municipality``, ``every municipality in GROOT_AMSTERDAM``."""
    if recipient.partner_id is not None:
        who = str(recipient.partner_id)
    else:
        who = _("every {kind}").format(kind=label(recipient.partner_kind))
    if recipient.region is None:
        return who
    return _("{recipient} in {region}").format(recipient=who, region=recipient.region.value)


def recipients_label(recipients: Iterable[Recipient]) -> str:
    return ", ".join(recipient_label(r) for r in recipients)
