"""Relations load in batches: SQL statements per query do not grow with the rows returned."""

from models.db import Database
from tests.factories import seed_customers
from tests.helpers import GraphQLClient, make_tenant

NESTED = """
query Nested($first: Int!) {
  customers(first: $first) {
    totalCount
    edges {
      cursor
      node {
        id name
        balance { owed { amount currency } overdue { amount } credit { amount } }
        contacts(first: 5) { totalCount nodes { id name role } }
        cars(first: 5) {
          nodes { id make model events(first: 5) { nodes { id kind occurredAt } } }
        }
        invoices(first: 5) {
          nodes {
            id number total { amount currency } lineItems { description total { amount } }
            payments(first: 5) { nodes { amount { amount } method } }
            collection { remindersSent { step } nextStep lateFees { period } paused }
          }
        }
        estimates(first: 5) {
          nodes {
            status lineItems { description }
            decision { decision approvedLines approvedTotal { amount } }
          }
        }
      }
    }
  }
}
"""


async def _statements_for(db: Database, gql: GraphQLClient, count_statements, size: int):
    tenant = await make_tenant(db, gql)
    await seed_customers(db, tenant.organization_id, size)
    count_statements.statements.clear()
    data = await gql.data(NESTED, {"first": size}, token=tenant.staff_token)
    customers = data["customers"]["edges"]
    assert len(customers) == size
    first = customers[0]["node"]
    invoiced = sum(i["total"]["amount"] for i in first["invoices"]["nodes"])
    assert first["balance"]["owed"] == {"amount": invoiced, "currency": "USD"}  # both open
    assert len(first["contacts"]["nodes"]) == 2 and first["contacts"]["totalCount"] == 2
    assert [len(c["events"]["nodes"]) for c in first["cars"]["nodes"]] == [3, 3]
    assert [len(i["lineItems"]) for i in first["invoices"]["nodes"]] == [3, 3]
    assert [len(i["payments"]["nodes"]) for i in first["invoices"]["nodes"]] == [1, 1]
    estimate = first["estimates"]["nodes"][0]
    assert estimate["decision"]["approvedLines"] == [0, 1] and len(estimate["lineItems"]) == 2
    return count_statements.count, list(count_statements.statements)


async def test_statement_count_is_constant_in_rows(
    db: Database, gql: GraphQLClient, count_statements
):
    small, _ = await _statements_for(db, gql, count_statements, 5)
    large, statements = await _statements_for(db, gql, count_statements, 50)
    assert small == large, statements
    # session check, customers page, count, one statement per relation and level, and one
    # for the balances; invoices' collection state: reminders, late fees, their customers and
    # organizations, and the organization's collection settings
    assert large <= 19, statements
