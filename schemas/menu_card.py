"""The shared menu card (menukaart): instrument clusters and instruments.

Plain data, mirrored by the Avro enums ``InstrumentCluster`` and ``Instrument``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["BANENAFSPRAAK_ONLY", "TAILORED_BUDGET_CAP_CENTS", "Instrument", "InstrumentCluster"]

TAILORED_BUDGET_CAP_CENTS = 100_000
"""The tailored budget (maatwerkbudget) is capped at EUR 1,000 per job seeker."""


class InstrumentCluster(StrEnum):
    JOB_SEARCH_SKILLS = "JOB_SEARCH_SKILLS"
    CAREER_SUPPORT = "CAREER_SUPPORT"
    LABOUR_MARKET_POSITION = "LABOUR_MARKET_POSITION"
    DEMAND_SUPPLY_MATCHING = "DEMAND_SUPPLY_MATCHING"
    SUPPORTING_SERVICES = "SUPPORTING_SERVICES"
    TAILORED_BUDGET = "TAILORED_BUDGET"
    BANENAFSPRAAK = "BANENAFSPRAAK"  # extra menu for the jobs-agreement target group


class Instrument(StrEnum):
    # job-search and application skills
    WORKSHOP = "WORKSHOP"
    SUCCESSFULLY_TO_OTHER_WORK = "SUCCESSFULLY_TO_OTHER_WORK"
    BROADER_SEARCH_BEHAVIOUR = "BROADER_SEARCH_BEHAVIOUR"
    APPLICATION_HELP = "APPLICATION_HELP"
    # career support
    CAREER_GUIDANCE = "CAREER_GUIDANCE"
    # strengthening labour-market position
    SCHOOLING = "SCHOOLING"
    PRACTICAL_LEARNING_MBO = "PRACTICAL_LEARNING_MBO"
    SCHOOLING_GUIDANCE = "SCHOOLING_GUIDANCE"
    # bringing demand and supply together
    CROSS_BORDER_PLACEMENT = "CROSS_BORDER_PLACEMENT"
    EMPLOYER_MEETINGS = "EMPLOYER_MEETINGS"
    JOB_COACH = "JOB_COACH"
    WORKPLACE_ADAPTATION = "WORKPLACE_ADAPTATION"
    # supporting services (warm handover)
    DEBT_COUNSELLING = "DEBT_COUNSELLING"
    WMO_SERVICES = "WMO_SERVICES"
    LANGUAGE_EDUCATION = "LANGUAGE_EDUCATION"
    # tailored budget
    TAILORED_BUDGET = "TAILORED_BUDGET"
    # banenafspraak target group only
    NO_RISK_POLICY = "NO_RISK_POLICY"
    WAGE_DISPENSATION = "WAGE_DISPENSATION"  # only for Wajong with reduced wage value
    WAGE_COST_SUBSIDY = "WAGE_COST_SUBSIDY"
    SOCIAL_WORK_COMPANY = "SOCIAL_WORK_COMPANY"

    @property
    def cluster(self) -> InstrumentCluster:
        return _CLUSTER[self]


_CLUSTER: dict[Instrument, InstrumentCluster] = {
    **dict.fromkeys(
        (
            Instrument.WORKSHOP,
            Instrument.SUCCESSFULLY_TO_OTHER_WORK,
            Instrument.BROADER_SEARCH_BEHAVIOUR,
            Instrument.APPLICATION_HELP,
        ),
        InstrumentCluster.JOB_SEARCH_SKILLS,
    ),
    Instrument.CAREER_GUIDANCE: InstrumentCluster.CAREER_SUPPORT,
    **dict.fromkeys(
        (Instrument.SCHOOLING, Instrument.PRACTICAL_LEARNING_MBO, Instrument.SCHOOLING_GUIDANCE),
        InstrumentCluster.LABOUR_MARKET_POSITION,
    ),
    **dict.fromkeys(
        (
            Instrument.CROSS_BORDER_PLACEMENT,
            Instrument.EMPLOYER_MEETINGS,
            Instrument.JOB_COACH,
            Instrument.WORKPLACE_ADAPTATION,
        ),
        InstrumentCluster.DEMAND_SUPPLY_MATCHING,
    ),
    **dict.fromkeys(
        (Instrument.DEBT_COUNSELLING, Instrument.WMO_SERVICES, Instrument.LANGUAGE_EDUCATION),
        InstrumentCluster.SUPPORTING_SERVICES,
    ),
    Instrument.TAILORED_BUDGET: InstrumentCluster.TAILORED_BUDGET,
    **dict.fromkeys(
        (
            Instrument.NO_RISK_POLICY,
            Instrument.WAGE_DISPENSATION,
            Instrument.WAGE_COST_SUBSIDY,
            Instrument.SOCIAL_WORK_COMPANY,
        ),
        InstrumentCluster.BANENAFSPRAAK,
    ),
}

BANENAFSPRAAK_ONLY: frozenset[Instrument] = frozenset(
    i for i, c in _CLUSTER.items() if c is InstrumentCluster.BANENAFSPRAAK
)
