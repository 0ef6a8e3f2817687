"""Signed export links, for browsers that cannot send the bearer header."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from auth.exports import export_url
from domain.exports.codes import ExportCode
from domain.problems import Problem, Rejected
from domain.work import Work


@dataclass(frozen=True)
class ExportLink:
    url: str
    expires_at: datetime


async def create_export_link(
    work: Work, kind: str, first: date | None, last: date | None
) -> ExportLink:
    """A link to the export of `kind` over the days `first`..`last` (either open). Who may
    export is the field's guard; the link's opening checks it again."""
    if first is not None and last is not None and first > last:
        raise Rejected(Problem("from", "`from` is after `to`.", ExportCode.BAD_DATE))
    url = export_url(work.settings, work.viewer, kind, first, last)
    expires = work.clock.now + timedelta(seconds=work.settings.download_url_seconds)
    return ExportLink(url, expires)
