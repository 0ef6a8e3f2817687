"""Issue 15 item 6: with introspection off, no error message rebuilds the schema.

graphql-core suggests names ("Did you mean ...?") in several validation rules and in the
coercion of variables; each misspelling below would reveal the hidden word next to it.
Its messages also name types ("Field 'customers' of type 'CustomerConnection!' must have a
selection"), which lets a tool such as clairvoyance walk from one guessed field to the
next: for viewers who may not introspect, no schema type name appears that the document
did not write itself. Validation errors carry GRAPHQL_VALIDATION_FAILED; only the
introspection refusal itself is FORBIDDEN. Refusals are logged as one line, without a
stack.
"""

from __future__ import annotations

import logging
import re

import pytest

from models.db import Database
from schema.root import schema
from tests.helpers import Tenant
from tests.security.apps import PRODUCTION, app_with, client, post

# (document, variables, the name a suggestion would reveal, in its quotes)
MISSPELLED = [
    ("{ viewr { kind } }", {}, "viewer"),
    ("{ viewer { knd } }", {}, "kind"),
    ("{ customers(frist: 3) { nodes { id } } }", {}, "first"),
    ("{ customers { nodes { cars(frist: 1) { totalCount } } } }", {}, "first"),
    ("query($x: Strin) { customers(search: $x) { totalCount } }", {"x": "a"}, "String"),
    ("{ viewer { ... on PortalViewr { kind } } }", {}, "PortalViewer"),
    ("query { ...F } fragment F on Quer { __typename }", {}, "Query"),
    ("{ __typename @include(iff: true) }", {}, "if"),
    ("{ customers { nodes } }", {}, "nodes { ... }"),
    (
        'mutation { createCustomer(input: {nme: "x"}) { customer { id } } }',
        {},
        "name",
    ),
    (
        "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } } }",
        {"i": {"nme": "x"}},
        "name",
    ),
    (
        "mutation { updatePortalSettings(input: {signInMethod: PASWORD}) { userErrors { code } } }",
        {},
        "PASSWORD",
    ),
    (
        "mutation($i: PortalSettingsInput!) { updatePortalSettings(input: $i) "
        "{ userErrors { code } } }",
        {"i": {"signInMethod": "PASWORD"}},
        "PASSWORD",
    ),
    (
        "mutation($i: PortalSettingsInput!) { updatePortalSettings(input: $i) "
        "{ userErrors { code } } }",
        {"i": {"signInMthod": "PASSWORD"}},
        "signInMethod",
    ),
    # Correct names, wrong use: the messages would name the types behind them.
    ("{ customers }", {}, "CustomerConnection!"),
    ("{ viewer { kind { x } } }", {}, "ViewerKind!"),
    ("{ customers(search: 1) { totalCount } }", {}, "String"),
    ("query($n: String) { customers(first: $n) { totalCount } }", {"n": "1"}, "Int!"),
    ("mutation { signIn(input: {}) { token } }", {}, "String!"),
    ("mutation { createCustomer { customer { id } } }", {}, "CreateCustomerInput!"),
]
TYPE_NAMES = set(schema._schema.type_map)


@pytest.mark.parametrize(("document", "variables", "hidden"), MISSPELLED)
async def test_no_error_suggests_a_name(
    db: Database, document: str, variables: dict, hidden: str, caplog: pytest.LogCaptureFixture
):
    async with app_with(db, **PRODUCTION) as app, client(app) as http:
        with caplog.at_level(logging.INFO):
            result = (await post(http, document, variables)).json()
    assert result["errors"], result
    for error in result["errors"]:
        assert "Did you mean" not in error["message"], error
        assert f"'{hidden}'" not in error["message"], error  # suggestions quote names
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
        named = set(re.findall(r"'([^']*)'", error["message"]))
        named |= {part for name in named for part in re.split(r"[^A-Za-z_0-9]+", name)}
        assert not (named & TYPE_NAMES) - set(re.findall(r"\w+", document)), error
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_staff_who_may_introspect_keep_the_type_names(db: Database, tenant: Tenant):
    async with app_with(db, **PRODUCTION) as app, client(app) as http:
        staff = (await post(http, "{ customers }", token=tenant.staff_token)).json()
    (error,) = staff["errors"]
    assert "of type 'CustomerConnection!'" in error["message"]
    assert "Did you mean" not in error["message"]  # suggestions are gone for everyone


async def test_only_the_introspection_refusal_is_forbidden(db: Database):
    async with app_with(db, **PRODUCTION) as app, client(app) as http:
        result = (await post(http, "{ __schema { queryType { name } } viewr }")).json()
    codes = {("introspection" in e["message"], e["extensions"]["code"]) for e in result["errors"]}
    assert codes == {(True, "FORBIDDEN"), (False, "GRAPHQL_VALIDATION_FAILED")}, result


async def test_parse_errors_carry_their_own_code(db: Database):
    async with app_with(db, **PRODUCTION) as app, client(app) as http:
        result = (await post(http, "{ viewer { kind }")).json()
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
