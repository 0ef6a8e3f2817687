"""Fields computed by resolvers, written again as SQL for the planner.

Each entry mirrors one resolver in schema/ (money objects, amount due, overdue, decimals,
preferences, inspection items). tests/test_planner.py compares both on the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from graphql import FieldNode

from models import derived
from models import relations as rel
from models.cars import CAR_EVENT_REFERENCES
from planner import sql

if TYPE_CHECKING:
    from planner.plan import Planner, Source

Expr = sa.ColumnElement[Any]


@dataclass(frozen=True)
class Context:
    """What a child object needs from its parent (a line item's currency)."""

    currency: Expr | None = None


def money(amount: Callable[[Any], Expr], currency: Callable[[Any, Context], Expr]) -> Any:
    """A `Money` object from an amount column; null when the amount is null."""

    def build(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
        value = amount(source)
        pairs: list[tuple[str, Expr]] = []
        for key, child in planner.fields(planner.schema.type_map["Money"], node.selection_set):  # type: ignore[arg-type]
            match child.name.value:
                case "amount":
                    pairs.append((key, value))
                case "currency":
                    pairs.append((key, currency(source, ctx)))
                case "__typename":
                    pairs.append((key, sql.text("Money")))
                case other:
                    from planner.plan import Unplannable

                    raise Unplannable(f"Money.{other}")
        return sa.case((value.is_(None), sa.null()), else_=sql.json_object(pairs))

    return build


def column(name: str) -> Callable[[Any], Expr]:
    return lambda source: source.c[name]


def own_currency(source: Any, ctx: Context) -> Expr:
    return source.c.currency


def parent_currency(source: Any, ctx: Context) -> Expr:
    assert ctx.currency is not None
    return ctx.currency


def lines(relation: Any, type_name: str) -> Any:
    def build(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
        child_ctx = Context(currency=source.c.currency)
        return planner.children(relation, type_name, source, node, child_ctx)

    return build


def decimal(name: str, scale: int) -> Any:
    return lambda planner, source, node, ctx: sql.plain_decimal(source.c[name], scale)


def preferences(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    columns = {
        "invoices": "wants_invoices",
        "estimates": "wants_estimates",
        "scheduling": "wants_scheduling",
        "carUpdates": "wants_car_updates",
        "contracts": "wants_contracts",
        "socialEvents": "wants_social_events",
        "marketing": "wants_marketing",
    }
    gql_type = planner.schema.type_map["CommunicationPreferences"]
    pairs: list[tuple[str, Expr]] = []
    for key, child in planner.fields(gql_type, node.selection_set):  # type: ignore[arg-type]
        name = child.name.value
        value = sql.text("CommunicationPreferences") if name == "__typename" else None
        pairs.append((key, value if value is not None else source.c[columns[name]]))
    return sql.json_object(pairs)


def inspection_items(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.cars._item over the JSON list: missing areas are "", missing ratings 0."""
    item = sa.func.jsonb_array_elements(source.c["items"]).table_valued("value").alias("item")
    gql_type = planner.schema.type_map["ConditionItem"]
    pairs: list[tuple[str, Expr]] = []
    for key, child in planner.fields(gql_type, node.selection_set):  # type: ignore[arg-type]
        match child.name.value:
            case "area":
                pairs.append((key, sa.func.coalesce(item.c.value.op("->>")("area"), "")))
            case "rating":
                rating = sa.cast(item.c.value.op("->>")("rating"), sa.Integer())
                pairs.append((key, sa.func.coalesce(rating, 0)))
            case "notes":
                pairs.append((key, item.c.value.op("->>")("notes")))
            case "__typename":
                pairs.append((key, sql.text("ConditionItem")))
    aggregated = sa.select(sa.func.json_agg(sql.json_object(pairs))).select_from(item)
    return sa.func.coalesce(aggregated.scalar_subquery(), sa.literal_column("'[]'::json"))


def _money_fields(type_name: str, names: dict[str, str], currency: Any) -> dict[Any, Any]:
    return {(type_name, field): money(column(col), currency) for field, col in names.items()}


BILL_TOTALS = {"subtotal": "subtotal", "tax_total": "tax_total", "total": "total"}
LINE_AMOUNTS = {
    "unit_price": "unit_price",
    "unit_cost": "unit_cost",
    "subtotal": "subtotal",
    "tax": "tax",
    "total": "total",
}


def customer_balance(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.customers.CustomerBalance: the loaders' expressions (models/derived.py
    `customer_balance`) over the invoices the viewer may see."""
    invoice = rel.invoices.alias(planner.alias_name())
    visible = planner.conditions(rel.invoices, invoice)
    parts = derived.customer_balance(source, invoice, visible)
    gql_type = planner.schema.type_map["CustomerBalance"]
    pairs: list[tuple[str, Expr]] = []
    for key, child in planner.fields(gql_type, node.selection_set):  # type: ignore[arg-type]
        name = child.name.value
        if name == "__typename":
            pairs.append((key, sql.text("CustomerBalance")))
            continue
        part = money(lambda _source, name=name: parts[name], lambda _s, _c: parts["currency"])
        pairs.append((key, part(planner, source, child, ctx)))
    return sql.json_object(pairs)


def car_event_data(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.cars.CarEvent.data: the keys naming records are for staff only."""
    if planner.viewer.is_staff:
        return source.c["data"]
    assert all(key.replace("_", "").isalnum() for key in CAR_EVENT_REFERENCES)  # inlined
    keys = ",".join(f"'{key}'" for key in CAR_EVENT_REFERENCES)
    return source.c["data"].op("-")(sa.literal_column(f"ARRAY[{keys}]::text[]"))


COMPUTED: dict[tuple[str, str], Any] = {
    **_money_fields("Invoice", {**BILL_TOTALS, "amount_paid": "amount_paid"}, own_currency),
    **_money_fields("Estimate", BILL_TOTALS, own_currency),
    **_money_fields(
        "Payment", {"amount": "amount", "refunded_amount": "refunded_amount"}, own_currency
    ),
    **_money_fields("InvoiceLine", LINE_AMOUNTS, parent_currency),
    **_money_fields("EstimateLine", LINE_AMOUNTS, parent_currency),
    # The loaders select these same expressions (models/derived.py): one definition each.
    ("Invoice", "amount_due"): money(derived.amount_due, own_currency),
    ("Estimate", "status"): lambda planner, source, node, ctx: derived.estimate_status(source),
    ("Invoice", "line_items"): lines(rel.INVOICE_LINES, "InvoiceLine"),
    ("Estimate", "line_items"): lines(rel.ESTIMATE_LINES, "EstimateLine"),
    ("InvoiceLine", "quantity"): decimal("quantity_milli", 1000),
    ("InvoiceLine", "tax_rate"): decimal("tax_rate_bp", 100),
    ("EstimateLine", "quantity"): decimal("quantity_milli", 1000),
    ("EstimateLine", "tax_rate"): decimal("tax_rate_bp", 100),
    ("Customer", "communication_preferences"): preferences,
    ("Customer", "balance"): customer_balance,
    ("Contact", "communication_preferences"): preferences,
    ("ConditionReport", "items"): inspection_items,
    ("CarEvent", "data"): car_event_data,
}
