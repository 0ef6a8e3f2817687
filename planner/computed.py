"""The planner's SQL for fields that a resolver computes (the `COMPUTED` entries).

Each entry builds the GraphQL form of one resolver in schema/: money objects, decimals,
nested objects and lists, links filled in afterwards (planner/filled.py). A value derived
from rows is the loaders' own expression (models/derived.py), called here, never written
again. tests/test_planner.py compares both paths on the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from graphql import FieldNode

from auth.downloads import (
    CAR_PHOTO,
    DOCUMENT,
    ESTIMATE_PDF,
    INVOICE_PDF,
    JOB_PHOTO,
    MESSAGE_ATTACHMENT,
)
from domain.subscriptions.plans import INTERVAL_MONTHS
from models import derived, tables
from models import relations as rel
from models.cars import CAR_EVENT_REFERENCES
from planner import sql
from planner.filled import link, marker

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
        for key, child in planner.fields(planner.object_type("Money"), node.selection_set):
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
        return sa.case((value.is_(None), sa.null()), else_=planner.sql.json_object(pairs))

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


def count_of(relation: Any, parent_key: str = "id") -> Any:
    """How many rows of `relation` the parent (the row whose `parent_key` names it) has,
    under the viewer's visibility, as the loaders count them (models/loaders.py `count`)."""

    def build(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
        table = relation.table
        t = table.alias(planner.alias_name())
        where = [
            *planner.conditions(table, t),
            t.c[relation.key] == source.c[parent_key],
            *planner.adapt(relation.where(table), t),
        ]
        counted = sa.select(sa.func.count()).select_from(t).where(*where).correlate(source)
        return counted.scalar_subquery()

    return build


def conversation(planner: Planner, source: Source, selection: Any) -> Expr:
    """schema.messaging.Conversation over its newest message's row."""
    gql_type = planner.schema.type_map["Conversation"]
    unread = count_of(rel.CUSTOMER_UNREAD_FOR_STAFF, "customer_id")
    pairs: list[tuple[str, Expr]] = []
    for key, child in planner.fields(gql_type, selection):  # type: ignore[arg-type]
        match child.name.value:
            case "customer":
                pairs.append((key, planner.row_by_key("Customer", source, "customer_id", child)))
            case "latestMessage":
                body = planner.object_json("Message", source, child.selection_set, Context())
                pairs.append((key, body))
            case "unreadCount":
                pairs.append((key, unread(planner, source, child, Context())))
            case "__typename":
                pairs.append((key, sql.text("Conversation")))
            case other:
                from planner.plan import Unplannable

                raise Unplannable(f"Conversation.{other}")
    return planner.sql.json_object(pairs)


# Objects that are not rows of their own (schema/node.py ROW_TYPES), built over a row.
OBJECTS: dict[str, Callable[[Planner, Source, Any], Expr]] = {"Conversation": conversation}


def children(relation: Any, type_name: str) -> Any:
    """Every child row, in the relation's order (schema.relations.children_of)."""
    return lambda planner, source, node, ctx: planner.children(
        relation, type_name, source, node, Context()
    )


def portal_settings(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """The organization's portal settings row (schema.organization.portal_settings)."""
    table = tables.portal_settings
    t = table.alias(planner.alias_name())
    body = planner.object_json("PortalSettings", t, node.selection_set, Context())
    where = [*planner.conditions(table, t), t.c.organization_id == source.c.id]
    return sa.select(body).where(*where).correlate(source).limit(1).scalar_subquery()


def subject_global_id(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """The global ID of a row named by a type column and an id column (core/ids.py)."""
    typed = source.c.subject_type.op("||")(sql.const(":")).op("||")(
        planner.sql.uuid_hex(source.c.subject_id)
    )
    return planner.sql.base64url(typed)


def current_decision(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """The decision on the estimate's current version (schema.billing.Estimate.decision):
    one per version at most."""
    relation = rel.ESTIMATE_DECISIONS
    table = relation.table
    t = table.alias(planner.alias_name())
    body = planner.object_json("EstimateDecision", t, node.selection_set, Context())
    where = [
        *planner.conditions(table, t),
        t.c[relation.key] == source.c.id,
        t.c.version == source.c.version,
        *planner.adapt(relation.where(table), t),
    ]
    return sa.select(body).where(*where).correlate(source).limit(1).scalar_subquery()


def line_positions(ids_column: str) -> Any:
    """Positions of the snapshot's lines whose ids the column lists, in the snapshot's
    order (schema.billing.EstimateDecision._positions)."""

    def build(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
        name = planner.alias_name()
        return planner.sql.chosen_positions(source.c.snapshot, source.c[ids_column], name)

    return build


def snapshot_currency(source: Any, ctx: Context) -> Expr:
    return source.c.snapshot.op("->>", return_type=sa.Text())(sql.const("currency"))


def next_bill_date(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.subscriptions.BillingSubscription.next_bill_date: null while paused or when
    the viewer may not see the plan; otherwise the proration rule's, filled in by Python
    from the dates, the plan's interval and timing, and the organization's day."""
    table = tables.billing_plans
    plan = table.alias(planner.alias_name())
    where = [*planner.conditions(table, plan), plan.c.id == source.c.plan_id]

    def of_plan(column: str) -> Expr:
        return sa.select(plan.c[column]).where(*where).correlate(source).scalar_subquery()

    inputs = [
        ("today", derived.organization_today(source)),
        ("start", source.c.start_date),
        ("anchor", source.c.anchor_day),
        ("months", of_plan("interval_months")),
        ("timing", of_plan("timing")),
        ("end", source.c.end_date),
    ]
    unbilled = sa.or_(source.c.paused_at.is_not(None), ~sa.exists().where(*where))
    return sa.case((unbilled, sa.null()), else_=marker(planner, "next_bill_date", inputs))


def _schedule_inputs(source: Source, *names: str) -> list[tuple[str, Expr]]:
    return [(name, source.c[name]) for name in names]


def next_due_on(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """models/maintenance.py next_due_on, filled in by Python from the schedule's columns."""
    inputs = _schedule_inputs(source, "last_done_on", "every_months")
    return marker(planner, "next_due_on", inputs)


def next_due_mileage(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """models/maintenance.py next_due_mileage: the last mileage plus the miles, where both
    are given (and the miles are not 0)."""
    last, miles = source.c.last_done_mileage, source.c.every_miles
    given = sa.and_(last.is_not(None), miles.is_not(None), miles != 0)
    return sa.case((given, last + miles), else_=sa.null())


def maintenance_due(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """models/maintenance.py is_due, filled in by Python: the schedule's columns, the
    organization's day and the car's mileage (null when the viewer may not see the car)."""
    table = tables.cars
    car = table.alias(planner.alias_name())
    mileage = (
        sa.select(car.c.mileage)
        .where(*planner.conditions(table, car), car.c.id == source.c.car_id)
        .correlate(source)
        .scalar_subquery()
    )
    columns = ("last_done_on", "every_months", "last_done_mileage", "every_miles")
    inputs = [
        *_schedule_inputs(source, *columns),
        ("today", derived.organization_today(source)),
        ("mileage", mileage),
    ]
    return marker(planner, "maintenance_due", inputs)


def linked_cars(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.customers.Contact.cars: the cars a contact's links name, in the links' order,
    each under the viewer's visibility (a car the viewer may not see is left out)."""
    relation = rel.CONTACT_CARS
    links = relation.table.alias(planner.alias_name())
    table = tables.cars
    car = table.alias(planner.alias_name())
    order = planner.adapt(relation.ordering.order_by(), links)
    where = [
        *planner.conditions(relation.table, links),
        links.c[relation.key] == source.c.id,
        *planner.adapt(relation.where(relation.table), links),
        *planner.conditions(table, car),
        car.c.id == links.c.car_id,
    ]
    return planner.sql.listed_array(
        car,
        lambda rows: planner.object_json("Car", rows, node.selection_set, Context()),
        where,
        order,
        source,
        planner.alias_name,
    )


def decimal(name: str, scale: int) -> Any:
    return lambda planner, source, node, ctx: planner.sql.plain_decimal(source.c[name], scale)


def selected(planner: Planner, type_name: str, selection: Any, values: Mapping[str, Any]) -> Expr:
    """A JSON object of the fields of `type_name` the selection asks, each from `values` by
    its GraphQL name (`__typename` is the type's own)."""
    pairs: list[tuple[str, Expr]] = []
    for key, child in planner.fields(planner.object_type(type_name), selection):
        name = child.name.value
        pairs.append((key, sql.text(type_name) if name == "__typename" else values[name]))
    return planner.sql.json_object(pairs)


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
    values = {name: source.c[column] for name, column in columns.items()}
    return selected(planner, "CommunicationPreferences", node.selection_set, values)


def inspection_items(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.cars._item over the JSON list: missing areas are "", missing ratings 0."""
    item = planner.sql.json_elements(source.c["items"], "item")
    gql_type = planner.object_type("ConditionItem")
    pairs: list[tuple[str, Expr]] = []
    for key, child in planner.fields(gql_type, node.selection_set):
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
    return planner.sql.array_over(planner.sql.json_object(pairs), item)


def _money_fields(type_name: str, names: dict[str, str], currency: Any) -> dict[Any, Any]:
    return {(type_name, field): money(column(col), currency) for field, col in names.items()}


BILL_TOTALS = {"subtotal": "subtotal", "tax_total": "tax_total", "total": "total"}
LINE_AMOUNTS = {
    "discount": "discount",
    "unit_price": "unit_price",
    "unit_cost": "unit_cost",
    "subtotal": "subtotal",
    "tax": "tax",
    "total": "total",
}


def customer_balance(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.customers.CustomerBalance: the loaders' expressions (models/derived.py
    `customer_balance`) over the invoices the viewer may see."""
    invoice = tables.invoices.alias(planner.alias_name())
    visible = planner.conditions(tables.invoices, invoice)
    parts = derived.customer_balance(source, invoice, visible)

    def currency(_source: Any, _ctx: Context) -> Expr:
        return parts["currency"]

    def part_of(name: str) -> Callable[[Any], Expr]:
        return lambda _source: parts[name]

    pairs: list[tuple[str, Expr]] = []
    for key, child in planner.fields(planner.object_type("CustomerBalance"), node.selection_set):
        name = child.name.value
        if name == "__typename":
            pairs.append((key, sql.text("CustomerBalance")))
            continue
        pairs.append((key, money(part_of(name), currency)(planner, source, child, ctx)))
    return planner.sql.json_object(pairs)


def onboarding(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.onboarding.Onboarding over a customer: the loaders' expressions
    (models/derived.py `onboarding_progress` and `onboarding_step_done`)."""
    step = tables.onboarding_steps.alias(planner.alias_name())
    parts = derived.onboarding_progress(source, step)
    pairs: list[tuple[str, Expr]] = []
    for key, child in planner.fields(planner.object_type("Onboarding"), node.selection_set):
        match child.name.value:
            case "steps":
                pairs.append((key, onboarding_steps(planner, source, child)))
            case "completed" | "total" as name:
                pairs.append((key, parts[name]))
            case "isComplete":
                pairs.append((key, parts["complete"]))
            case "__typename":
                pairs.append((key, sql.text("Onboarding")))
    return planner.sql.json_object(pairs)


def onboarding_steps(planner: Planner, source: Source, node: FieldNode) -> Expr:
    """schema.onboarding.Onboarding.steps: the customer's organization's steps in order,
    each with whether it is done."""
    step = tables.onboarding_steps.alias(planner.alias_name())

    def each(rows: Any) -> Expr:
        values = {
            "kind": rows.c.kind,
            "title": rows.c.title,
            "done": derived.onboarding_step_done(rows, source),
        }
        return selected(planner, "OnboardingStepStatus", node.selection_set, values)

    return planner.sql.listed_array(
        step,
        each,
        [step.c.organization_id == source.c.organization_id],
        [step.c.position, step.c.id],
        source,
        planner.alias_name,
    )


def car_event_data(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.cars.CarEvent.data: the keys naming records are for staff only."""
    if planner.viewer.is_staff:
        return source.c["data"]
    return planner.sql.without_keys(source.c["data"], tuple(CAR_EVENT_REFERENCES))


def interval_name(planner: Planner, source: Source, node: FieldNode, ctx: Context) -> Expr:
    """schema.subscriptions.BillingPlan.interval: the named interval of a month count."""
    months = source.c.interval_months
    named = [(months == n, sa.literal(name.value)) for name, n in INTERVAL_MONTHS.items()]
    return sa.case(*named, else_=sa.null())


COMPUTED: dict[tuple[str, str], Any] = {
    **_money_fields(
        "Invoice",
        {
            **BILL_TOTALS,
            "amount_paid": "amount_paid",
            "credited_amount": "credited_amount",
            "credit_applied": "credit_applied",
            "discount_total": "discount_total",
            "discount_amount": "discount_fixed",
        },
        own_currency,
    ),
    **_money_fields(
        "Estimate",
        {"discount_total": "discount_total", "discount_amount": "discount_fixed"},
        own_currency,
    ),
    ("Invoice", "discount_percent"): decimal("discount_bp", 100),
    ("Estimate", "discount_percent"): decimal("discount_bp", 100),
    ("InvoiceLine", "discount_percent"): decimal("discount_bp", 100),
    ("EstimateLine", "discount_percent"): decimal("discount_bp", 100),
    # Credit notes: their totals, their lines in the note's currency.
    **_money_fields("CreditNote", BILL_TOTALS, own_currency),
    **_money_fields(
        "CreditNoteLine", {"subtotal": "subtotal", "tax": "tax", "total": "total"}, parent_currency
    ),
    ("Invoice", "credit_notes"): children(rel.INVOICE_CREDIT_NOTES, "CreditNote"),
    ("CreditNote", "lines"): lines(rel.CREDIT_NOTE_LINES, "CreditNoteLine"),
    ("CreditNoteLine", "quantity"): decimal("quantity_milli", 1000),
    **_money_fields("Estimate", BILL_TOTALS, own_currency),
    **_money_fields(
        "Payment", {"amount": "amount", "refunded_amount": "refunded_amount"}, own_currency
    ),
    **_money_fields("InvoiceLine", LINE_AMOUNTS, parent_currency),
    **_money_fields("EstimateLine", LINE_AMOUNTS, parent_currency),
    # The loaders select these same expressions (models/derived.py): one definition each.
    ("Invoice", "amount_due"): money(derived.amount_due, own_currency),
    ("Estimate", "status"): lambda planner, source, node, ctx: derived.estimate_status(source),
    ("EmailDelivery", "state"): lambda planner, source, node, ctx: derived.delivery_state(source),
    ("Invoice", "line_items"): lines(rel.INVOICE_LINES, "InvoiceLine"),
    ("Estimate", "line_items"): lines(rel.ESTIMATE_LINES, "EstimateLine"),
    ("InvoiceLine", "quantity"): decimal("quantity_milli", 1000),
    ("InvoiceLine", "tax_rate"): decimal("tax_rate_bp", 100),
    ("EstimateLine", "quantity"): decimal("quantity_milli", 1000),
    ("EstimateLine", "tax_rate"): decimal("tax_rate_bp", 100),
    ("Customer", "communication_preferences"): preferences,
    ("Customer", "balance"): customer_balance,
    ("Customer", "onboarding"): onboarding,
    ("Organization", "onboarding_steps"): children(
        rel.ORGANIZATION_ONBOARDING_STEPS, "OnboardingStepDefinition"
    ),
    ("Contact", "communication_preferences"): preferences,
    ("ConditionReport", "items"): inspection_items,
    ("CarEvent", "data"): car_event_data,
    ("Customer", "unread_message_count_for_staff"): count_of(rel.CUSTOMER_UNREAD_FOR_STAFF),
    ("Message", "attachments"): children(rel.MESSAGE_ATTACHMENTS, "MessageAttachment"),
    ("TelematicsReading", "engine_hours"): decimal("engine_hours_tenths", 10),
    ("PortalSettings", "estimate_deposit_percent"): decimal("estimate_deposit_bp", 100),
    ("Organization", "portal_settings"): portal_settings,
    ("AccessLogEntry", "subject_id"): subject_global_id,
    ("Estimate", "decision"): current_decision,
    ("EstimateDecision", "decided_at"): lambda planner, source, node, ctx: planner.sql.scalar(
        source.c.created_at, tables.estimate_decisions.c.created_at.type
    ),
    ("EstimateDecision", "approved_lines"): line_positions("approved_line_ids"),
    ("EstimateDecision", "declined_lines"): line_positions("declined_line_ids"),
    ("EstimateDecision", "approved_total"): money(column("approved_total"), snapshot_currency),
    ("EstimateDecision", "deposit"): money(column("deposit_amount"), snapshot_currency),
    ("BillingSubscription", "next_bill_date"): next_bill_date,
    ("Car", "maintenance_schedules"): children(rel.CAR_SCHEDULES, "MaintenanceSchedule"),
    ("Contact", "cars"): linked_cars,
    ("Organization", "integration_keys"): children(
        rel.ORGANIZATION_INTEGRATION_KEYS, "IntegrationKey"
    ),
    ("Organization", "webhook_endpoints"): children(
        rel.ORGANIZATION_WEBHOOK_ENDPOINTS, "WebhookEndpoint"
    ),
    ("MaintenanceSchedule", "next_due_on"): next_due_on,
    ("MaintenanceSchedule", "next_due_mileage"): next_due_mileage,
    ("MaintenanceSchedule", "is_due"): maintenance_due,
    # Signed per request: the statement marks where, planner/filled.py fills them in.
    ("Invoice", "pdf_url"): link(INVOICE_PDF),
    ("Estimate", "pdf_url"): link(ESTIMATE_PDF),
    ("Document", "download_url"): link(DOCUMENT, unless_null="storage_key"),
    ("CarPhoto", "url"): link(CAR_PHOTO),
    ("JobPhoto", "url"): link(JOB_PHOTO),
    ("MessageAttachment", "url"): link(MESSAGE_ATTACHMENT),
    # Recurring billing: a plan's price and tax, a subscription's price (its own, else the
    # plan's: the loaders' own expression, models/derived.py).
    **_money_fields("BillingPlan", {"amount": "amount"}, own_currency),
    ("BillingPlan", "tax_rate"): decimal("tax_rate_bp", 100),
    ("BillingPlan", "interval"): interval_name,
    ("BillingSubscription", "unit_price"): money(derived.subscription_price, own_currency),
    **_money_fields(
        "BillingSubscription", {"custom_unit_price": "custom_unit_price"}, own_currency
    ),
}
