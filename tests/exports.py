"""Helpers of the export tests: asking for an export, reading it back."""

from __future__ import annotations

import csv
import io

import httpx


async def export(
    http: httpx.AsyncClient, kind: str, token: str | None, **params: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.get(f"/exports/{kind}.csv", params=params, headers=headers)


def table(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


LINK = """
mutation L($input: CreateExportLinkInput!) {
  createExportLink(input: $input) { url expiresAt userErrors { field code } }
}
"""


def path_of(url: str) -> str:
    """The link's path, for the in-process client (links are absolute, on PUBLIC_URL)."""
    return url[url.index("/exports/") :]
