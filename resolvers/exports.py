"""Export links from the API: the domain's action called (domain/exports/links.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from strawberry import Info

from domain.exports.links import ExportLink, create_export_link
from resolvers.validation import Problem, Rejected


@dataclass
class LinkOutcome:
    link: ExportLink | None = None
    problems: list[Problem] = field(default_factory=list)


async def create_link(info: Info, kind: str, first: date | None, last: date | None) -> LinkOutcome:
    try:
        return LinkOutcome(link=await create_export_link(info.context, kind, first, last))
    except Rejected as rejected:
        return LinkOutcome(problems=rejected.problems)
