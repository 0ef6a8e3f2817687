"""README.md is a test: every fenced ```graphql example runs against the demo data
(`portico demo`), on SQLite and PostgreSQL, and answers without errors.

Examples are read from README.md itself, so a new one is tested as soon as it is written:
- each operation of a block runs on its own, in README order (mutations change the demo);
- a ```json variables block right after a graphql block gives its variables;
- `<!-- README: as portal -->` (or `as anonymous`) on the line before a block runs it as a
  signed-in portal customer (or signed out); otherwise as the demo owner;
- placeholder strings stand for real demo records: `"..."` for an argument `fooId`/`fooIds`
  is a Foo's global id, a truncated global id (`"Q3VzdG9tZXI6..."`) one of its type, and
  `"<token from the link>"` the token of the sign-in link the portal invite emailed, and
  `"<token from the pay link>"` the pay link's token of the customer's open invoice.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    ArgumentNode,
    DocumentNode,
    ListValueNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    StringValueNode,
    parse,
    print_ast,
)

from auth.pay_links import pay_link_token
from core.ids import decode_id
from core.settings import settings_from_env
from demo.seed import OWNER_EMAIL, OWNER_PASSWORD, load_demo, sign_in_help
from models.db import Database
from models.migrate import upgrade
from portico.app import create_app
from tests.conftest import SUITE_LIMITS
from tests.portal import REDEEM, deliver, tokens_for
from tests.smtp import SmtpServer

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(
    r"(?:<!-- README: as (?P<role>\w+) -->\n)?^```graphql\n(?P<body>.*?)^```\n"
    r"(?:\s*^```json variables\n(?P<variables>.*?)^```\n)?",
    re.MULTILINE | re.DOTALL,
)
ROLES = {"owner", "portal", "anonymous"}


@dataclass
class Example:
    line: int
    role: str
    document: str
    variables: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"README.md:{self.line} as {self.role}"


def readme_examples(text: str) -> list[Example]:
    examples = []
    for found in BLOCK.finditer(text):
        role = found["role"] or "owner"
        assert role in ROLES, f"README.md: unknown role {role!r}"
        variables = json.loads(found["variables"]) if found["variables"] else {}
        line = text.count("\n", 0, found.start("body"))
        examples.append(Example(line, role, found["body"], variables))
    return examples


def operations(document: DocumentNode) -> list[DocumentNode]:
    """Each operation alone (with the block's fragments): a block may hold several."""
    fragments = [d for d in document.definitions if not isinstance(d, OperationDefinitionNode)]
    return [
        DocumentNode(definitions=(d, *fragments))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]


def placeholders(node: Any, name: str = "") -> list[tuple[str, StringValueNode]]:
    """Every placeholder string in the document, with the argument or field it is given for."""
    found: list[tuple[str, StringValueNode]] = []
    if isinstance(node, StringValueNode):
        value = node.value
        if value.endswith("...") or (value.startswith("<") and value.endswith(">")):
            found.append((name, node))
        return found
    if isinstance(node, ArgumentNode | ObjectFieldNode):
        return placeholders(node.value, node.name.value)
    if isinstance(node, ListValueNode):
        return [p for value in node.values for p in placeholders(value, name)]
    for key in getattr(node, "keys", ()):
        child = getattr(node, key, None)
        for item in child if isinstance(child, tuple | list) else [child]:
            if hasattr(item, "kind"):
                found += placeholders(item, name)
    return found


def type_of_truncated_id(value: str) -> str | None:
    """`Q3VzdG9tZXI6...` -> `Customer`: the part of a global id before the elision."""
    head = value.removesuffix("...")
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4)).decode(errors="ignore")
    except (binascii.Error, ValueError):
        return None
    return decoded.split(":", 1)[0] if ":" in decoded else None


class Demo:
    """The demo organization served in process, and the records placeholders stand for."""

    def __init__(self, http: httpx.AsyncClient, db: Database, smtp: SmtpServer) -> None:
        self.http, self.db, self.smtp = http, db, smtp
        self.tokens: dict[str, str | None] = {"anonymous": None}
        self.ids: dict[str, str] = {}
        self.portal_email = ""
        self.settings = db.settings

    async def post(self, document: str, variables: dict[str, Any], role: str) -> dict[str, Any]:
        token = self.tokens[role] if role == "anonymous" else await self.token(role)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": document, "variables": variables}
        response = await self.http.post("/graphql", json=body, headers=headers)
        return response.json()

    async def token(self, role: str) -> str:
        if role not in self.tokens:
            self.tokens[role] = await (self._owner() if role == "owner" else self._portal())
        token = self.tokens[role]
        assert token
        return token

    async def _owner(self) -> str:
        sign_in = (
            "mutation($e: String!, $p: String!) "
            "{ signIn(input: {email: $e, password: $p}) { token } }"
        )
        answer = await self.post(sign_in, {"e": OWNER_EMAIL, "p": OWNER_PASSWORD}, "anonymous")
        return answer["data"]["signIn"]["token"]

    async def choose_records(self) -> None:
        """The portal customer: one with an email, a car and an open invoice; the other
        records come from other customers (a car to move to this one, say)."""
        query = """{ customers(first: 100) { nodes { id email
            cars(first: 3) { nodes { id } } openInvoices(first: 3) { nodes { id } } } } }"""
        answer = await self.post(query, {}, "owner")
        assert "errors" not in answer, answer
        customers = answer["data"]["customers"]["nodes"]
        chosen = next(
            c for c in customers if c["email"] and c["cars"]["nodes"] and c["openInvoices"]["nodes"]
        )
        other_car = next(
            car["id"] for c in customers if c is not chosen for car in c["cars"]["nodes"]
        )
        self.portal_email = chosen["email"]
        organization = await self.post("{ organization { id } }", {}, "owner")
        self.organization_id = decode_id(organization["data"]["organization"]["id"])[1]
        jobs = await self.post(
            "{ organization { bulkInvites(first: 1) { nodes { id } } } }", {}, "owner"
        )
        self.ids = {
            "BulkInvite": jobs["data"]["organization"]["bulkInvites"]["nodes"][0]["id"],
            "Customer": chosen["id"],
            "Invoice": chosen["openInvoices"]["nodes"][0]["id"],
            "Car": other_car,
        }

    async def link_token(self) -> str:
        """The newest sign-in link emailed to the portal customer."""
        await deliver(self.db, self.smtp)
        return tokens_for(self.smtp, self.portal_email)[-1]

    def pay_link_token(self) -> str:
        """The pay link of the portal customer's open invoice (as its email carries it)."""
        kind, invoice_id = decode_id(self.ids["Invoice"])
        assert kind == "Invoice"
        return pay_link_token(self.settings, self.organization_id, invoice_id)

    async def _portal(self) -> str:
        invite = "mutation($c: ID!) { sendPortalInvite(input: {customerId: $c}) { userErrors { code } } }"  # noqa: E501
        sent = await self.post(invite, {"c": self.ids["Customer"]}, "owner")
        assert sent["data"]["sendPortalInvite"]["userErrors"] == [], sent
        redeemed = await self.post(REDEEM, {"token": await self.link_token()}, "anonymous")
        assert redeemed["data"]["redeemMagicLink"]["outcome"] == "SIGNED_IN", redeemed
        return redeemed["data"]["redeemMagicLink"]["token"]

    async def value_for(self, name: str, placeholder: str) -> str:
        if placeholder == "<token from the link>":
            return await self.link_token()
        if placeholder == "<token from the pay link>":
            return self.pay_link_token()
        kind = type_of_truncated_id(placeholder) if placeholder != "..." else None
        if kind is None:
            kind = re.sub(r"Ids?$", "", name)
            kind = kind[:1].upper() + kind[1:]
        assert kind in self.ids, f"no demo record stands for {name}: {placeholder!r}"
        return self.ids[kind]


@pytest.fixture
async def demo(scratch_database_url: str, tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[Demo]:
    env = {
        "DATABASE_URL": scratch_database_url,
        "STORAGE_DIR": str(tmp_path / "storage"),
        "SMTP_URL": smtp.url,
        **SUITE_LIMITS,
    }
    settings = settings_from_env(env)
    db = Database(settings)
    await upgrade(db.engine)
    await load_demo(settings)
    app = create_app(settings, db=db, run_mail_worker=False)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        found = Demo(http, db, smtp)
        await found.choose_records()
        yield found
    await db.dispose()


def test_the_readme_has_examples_of_each_kind():
    text = README.read_text()
    examples = readme_examples(text)
    assert len(examples) == text.count("```graphql") > 0  # none missed by the pattern
    assert {e.role for e in examples} == ROLES
    assert any(e.variables for e in examples)


async def test_every_readme_graphql_example_answers_without_errors(demo: Demo):
    failures = []
    for example in readme_examples(README.read_text()):
        for operation in operations(parse(example.document)):
            for name, node in placeholders(operation):
                object.__setattr__(node, "value", await demo.value_for(name, node.value))
            document = print_ast(operation)
            answer = await demo.post(document, example.variables, example.role)
            if answer.get("errors") or not answer.get("data"):
                failures.append(f"{example}:\n{document}\n-> {json.dumps(answer)}")
    assert failures == [], "\n\n".join(failures)
    # The sign-in `portico demo` prints (and the README repeats) works as printed.
    (printed,) = [line for line in sign_in_help(demo.settings).splitlines() if "signIn" in line]
    answer = await demo.post(printed.strip(), {}, "anonymous")
    assert "errors" not in answer and answer["data"]["signIn"]["token"], answer
