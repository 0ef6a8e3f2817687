"""Customer statements from the API: the ledger loaded in four statements under the viewer's
scope, the statement computed by domain/billing/statements.py."""

from __future__ import annotations

import uuid
from datetime import date

from strawberry import Info

from core.errors import InvalidInput, NotFound
from core.ids import decode_id_of
from domain.billing import statement_mail
from domain.billing.statements import (
    Statement,
    check_range,
    ledger_queries,
    movements_of,
    statement_of,
)
from domain.problems import Rejected
from models.tables import invoices, organizations
from resolvers.outcome import mutation_outcome


def checked_range(start: date, end: date) -> None:
    """A query has no userErrors: a bad range is a coded error naming the argument."""
    try:
        check_range(start, end)
    except Rejected as rejected:
        problem = rejected.problems[0]
        raise InvalidInput(problem.message, field=problem.field, reason=str(problem.code)) from None


async def customer_statement(
    info: Info, organization_id: uuid.UUID, customer_id: uuid.UUID, start: date, end: date
) -> Statement:
    """The statement of a customer the viewer was shown, over the invoices they may see (as
    their balance)."""
    checked_range(start, end)
    loaders = info.context.loaders
    org = await loaders.get(organizations, organization_id)
    if org is None:
        raise NotFound(row=("Customer", customer_id))
    queries = ledger_queries(
        organization_id, customer_id, org["currency"], end, loaders.scope.conditions(invoices)
    )
    params = {**loaders.scope.params, **loaders.clock.params}
    rows = {name: await loaders.reader.rows(query, params) for name, query in queries.items()}
    movements = movements_of(rows, org["timezone"])
    return statement_of(movements, start, end, org["currency"])


@mutation_outcome
async def send_statement(info: Info, customer_gid: str, start: date, end: date) -> uuid.UUID:
    customer_id = decode_id_of("Customer", customer_gid)
    return await statement_mail.send_statement(info.context, customer_id, start, end)
