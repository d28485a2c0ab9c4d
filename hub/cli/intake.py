"""``rmt-hub intake advise``: the selection aid for the professional at intake.

Reads a client profile (the canonical record as JSON), says which of the working
document's selection criteria apply, scores them with the region's weights
(:mod:`schemas.selection`) and shows each criterion's contribution. It advises; the
decision (``IntakeDecision.selected``) is the professional's.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from hub.cli._common import console, handle_errors
from hub.errors import ConfigError
from hub.i18n import N_, _, format_date, format_number, language
from schemas.models import ClientProfile
from schemas.models.enums import SelectionCriterion
from schemas.regions import municipality_table
from schemas.selection import advise, assess, load_weights

__all__ = ["advise_command", "app"]

app = typer.Typer(
    name="intake",
    help="Intake and selection: the selection aid (advice; the decision is the professional's).",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    """Intake and selection (one command today; a group so more can follow)."""


LABELS: dict[SelectionCriterion, str] = {
    SelectionCriterion.OWN_NEED_MOTIVATION: N_("own need and motivation"),
    SelectionCriterion.SHRINKING_SECTOR: N_("sector before unemployment is shrinking"),
    SelectionCriterion.NO_STARTING_QUALIFICATION: N_("no starting qualification"),
    SelectionCriterion.MBO_LEVEL: N_("education at mbo level"),
    SelectionCriterion.SCHOOL_LEAVER: N_("school leaver"),
    SelectionCriterion.ONE_SIDED_WORK_HISTORY: N_("one-sided work history"),
    SelectionCriterion.LANGUAGE_BELOW_B2: N_("oral Dutch below B2"),
    SelectionCriterion.AGE_UNDER_27: N_("younger than 27"),
    SelectionCriterion.AGE_OVER_55: N_("55 or older"),
}


def _yes_no(value: bool | None) -> str:
    return _("to judge") if value is None else (_("yes") if value else _("no"))


@app.command("advise")
@handle_errors
def advise_command(
    profile_file: Annotated[
        Path, typer.Argument(help="The client profile as JSON (the canonical record).")
    ],
    on: Annotated[
        str | None, typer.Option("--on", help="The intake day, YYYY-MM-DD (default: today).")
    ] = None,
    own_need: Annotated[
        bool | None,
        typer.Option("--own-need/--no-own-need", help="Your judgement of need and motivation."),
    ] = None,
    weights_file: Annotated[
        Path | None, typer.Option("--weights", help="Weights per region (JSON; default: shipped).")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="nl (default) or en.")] = "nl",
) -> None:
    """Score the selection criteria of one person, with each criterion's contribution."""
    try:
        profile = ClientProfile.model_validate(json.loads(profile_file.read_text("utf-8")))
    except OSError as exc:
        raise ConfigError(f"{profile_file}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ConfigError(f"{profile_file}: not a client profile: {exc}") from exc
    try:
        day = date.fromisoformat(on) if on else date.today()
    except ValueError as exc:
        raise ConfigError(f"--on {on!r}: not a day YYYY-MM-DD") from exc
    region = profile.region or municipality_table().get(profile.municipality_code or "")
    result = advise(
        assess(profile, day, own_need=own_need),
        region=region,
        banenafspraak=bool(profile.banenafspraak),
        weights=load_weights(weights_file),
    )
    with language(lang):
        table = Table(title=_("Selection aid, {day}").format(day=format_date(day)))
        table.add_column(_("criterion"))
        table.add_column(_("applies"))
        table.add_column(_("weight"), justify="right")
        table.add_column(_("points"), justify="right")
        for row in result.contributions:
            table.add_row(
                _(LABELS[row.criterion]),
                _yes_no(row.applies),
                format_number(row.weight),
                format_number(row.points),
            )
        console.print(table)
        where = region.cbs_name if region is not None else _("no region known")
        console.print(
            _("Score {score} of threshold {threshold} ({region}).").format(
                score=format_number(result.score),
                threshold=format_number(result.threshold),
                region=where,
            ),
            highlight=False,
        )
        if result.eligible_by_definition:
            console.print(_("Banenafspraak target group: eligible by definition."))
        elif result.suggests_selection:
            console.print(_("The criteria together suggest selection."))
        else:
            console.print(_("The criteria together do not suggest selection."))
        if result.open_questions:
            console.print(
                _("Still to judge: {criteria}.").format(
                    criteria=", ".join(_(LABELS[c]) for c in result.open_questions)
                ),
                highlight=False,
            )
        console.print(_("This is advice: the decision is yours (selected in the intake)."))
