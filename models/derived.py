"""Values derived from rows that the API shows and filters by, each defined once, in SQL.

The loaders select them with their rows (`derived_columns`), the planner writes the same
expressions into its statement (planner/computed.py), and list filters use them too, so a
list filtered by a status returns exactly the rows that show that status. Anything about
"now" or "today" reads the request's clock (models/clock.py), and "today" is the date in
the organization's time zone: due dates and `validUntil` are the organization's days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from models.calendar import local_date
from models.clock import request_now
from models.enums import (
    DeliveryState,
    EstimateStatus,
    InvoiceStatus,
    OnboardingStepKind,
    OutboxStatus,
    SubscriptionStatus,
)
from models.tables import (
    billing_plans,
    contacts,
    contracts,
    customers,
    invoices,
    organizations,
    payment_methods,
)

Expr = sa.ColumnElement[Any]

# Statuses in which an invoice bills nothing: a draft is not sent, a void one is cancelled.
NOT_BILLED = (InvoiceStatus.DRAFT, InvoiceStatus.VOID)


def organization_today(row: Any) -> Expr:
    """Today, at the request's instant, in the time zone of the row's organization."""
    zone = (
        sa.select(organizations.c.timezone)
        .where(organizations.c.id == row.c.organization_id)
        .scalar_subquery()
    )
    return local_date(request_now(), zone)


def covered(invoice: Any) -> Expr:
    """What counts towards the invoice's total: paid (net of refunds and lost disputes),
    credited by its credit notes, and the customer's credit used on it."""
    paid: Expr = invoice.c.amount_paid + invoice.c.credited_amount + invoice.c.credit_applied
    return paid


def amount_due(invoice: Any) -> Expr:
    """What the customer still owes: its total less what covers it, never below zero, and
    nothing on drafts and void invoices (models.money.amount_due is its Python form for
    writes; tests/test_derived.py checks both on generated rows)."""
    unpaid = sa.case(
        (invoice.c.total > covered(invoice), invoice.c.total - covered(invoice)),
        else_=0,
    )
    return sa.case((invoice.c.status.in_(NOT_BILLED), 0), else_=unpaid)


def credit_left(invoice: Any) -> Expr:
    """The customer's credit this invoice makes or takes, in its currency: what covers it
    beyond its total, up to what credit notes and credit used brought (a credit note on money
    already paid; a payment beyond the total by itself makes no credit), less the credit
    used on it.
    Summed over a customer's billed invoices it is their credit (`customer_balance`,
    domain/billing/credit.py), nothing on drafts and void invoices."""
    over = covered(invoice) - invoice.c.total
    credits = invoice.c.credited_amount + invoice.c.credit_applied
    beyond = sa.case(
        (over <= 0, 0),
        (over > credits, credits),
        else_=over,
    )
    return sa.case((invoice.c.status.in_(NOT_BILLED), 0), else_=beyond - invoice.c.credit_applied)


def is_overdue(invoice: Any) -> Expr:
    """Money is due and the due date (a day of the organization's) has passed there."""
    return sa.and_(
        amount_due(invoice) > 0,
        invoice.c.due_date.is_not(None),
        invoice.c.due_date < organization_today(invoice),
    ).self_group()


def organization_currency(row: Any) -> Expr:
    """The currency of the row's organization."""
    return (
        sa.select(organizations.c.currency)
        .where(organizations.c.id == row.c.organization_id)
        .scalar_subquery()
    )


def customer_balance(customer: Any, invoice: Any, visible: Sequence[Expr] = ()) -> dict[str, Expr]:
    """A customer's balance, in minor units of the organization's currency:

    owed     what is due now on their invoices (`amount_due`: issued, not paid, not void;
             the total less what was paid net of refunds and of disputes lost),
    overdue  the part of `owed` on invoices past their due date there (`is_overdue`),
    credit   money held for them towards their next invoices: credit notes beyond what
             their invoices still owed, less the credit already used (`credit_left`; an
             estimate's deposit shows on its estimate and goes to the invoice made from it),
    currency the organization's.

    An invoice in another currency than the organization's is left out: amounts in two
    currencies do not add up, and nothing converts them. Each such invoice still shows its
    own `amountDue`.

    `customer` is a customers row source; `invoice` the invoices table or an alias of it,
    of which only rows the viewer may see count (`visible`: their scope's conditions on
    it). The loaders select these for a batch of customers (models/loaders.py `computed`)
    and the planner writes them into its statement (planner/computed.py), so both answer the
    same."""
    due = amount_due(invoice)
    where = (
        invoice.c.customer_id == customer.c.id,
        invoice.c.organization_id == customer.c.organization_id,
        invoice.c.currency == organization_currency(invoice),
        invoice.c.status.not_in(NOT_BILLED),
        *visible,
    )

    def total(amount: Expr) -> Expr:
        summed = sa.select(sa.func.coalesce(sa.func.sum(amount), 0)).where(*where)
        return sa.cast(summed.correlate(customer).scalar_subquery(), sa.BigInteger())

    return {
        "currency": organization_currency(customer),
        "owed": total(due),
        "overdue": total(sa.case((is_overdue(invoice), due), else_=0)),
        "credit": total(credit_left(invoice)),
    }


def customer_balance_columns(scope: Any) -> list[sa.Label[Any]]:
    """`customer_balance` for the loaders: over the invoices `scope` (the viewer's
    visibility, auth/access.py) lets them see, labelled by part."""
    visible = scope.conditions(invoices)
    return [
        expression.label(f"balance_{key}")
        for key, expression in customer_balance(customers, invoices, visible).items()
    ]


def estimate_status(estimate: Any) -> Expr:
    """A sent estimate nobody answered by its expiry (the end of `valid_until` in the
    organization's zone, stored as `expires_at`) reads EXPIRED."""
    expired = sa.and_(
        estimate.c.status == EstimateStatus.SENT,
        estimate.c.expires_at.is_not(None),
        estimate.c.expires_at <= request_now(),
    )
    return sa.case((expired, EstimateStatus.EXPIRED.value), else_=estimate.c.status)


def estimate_status_in(estimate: Any, statuses: Iterable[Any]) -> Expr:
    """The filter form of `estimate_status`: what the list shows is what it filters by."""
    return estimate_status(estimate).in_([EstimateStatus(s).value for s in statuses])


def status_filter(table: sa.Table, statuses: list[Any] | None) -> list[Expr]:
    """`status: [...]` of a root list (invoices, estimates, contracts) as conditions."""
    if not statuses:
        return []
    if table.name == "estimates":
        return [estimate_status_in(table, statuses)]
    return [table.c.status.in_(statuses)]


def payments_enabled(organization: Any) -> Expr:
    """Online payment is set up: a connected Stripe account that may take charges. (Whether
    the portal offers it is the portal settings' `allow_online_payment` besides; the
    Python form, with that setting, is payments/requests.py `online_payments_open`.)"""
    return sa.and_(
        organization.c.stripe_account_id.is_not(None),
        organization.c.stripe_charges_enabled.is_(True),
    )


def subscription_status(subscription: Any) -> Expr:
    """ENDED from its end date (the first day not covered) on the organization's day, else
    PAUSED while paused, else ACTIVE (domain/subscriptions/subscriptions.py `status_of` is
    its Python form for writes; tests/test_subscriptions_billing.py checks both)."""
    ended = sa.and_(
        subscription.c.end_date.is_not(None),
        subscription.c.end_date <= organization_today(subscription),
    )
    return sa.case(
        (ended, SubscriptionStatus.ENDED.value),
        (subscription.c.paused_at.is_not(None), SubscriptionStatus.PAUSED.value),
        else_=SubscriptionStatus.ACTIVE.value,
    )


def subscription_price(subscription: Any) -> Expr:
    """The unit price billed: the subscription's own, else its plan's amount."""
    plan_amount = (
        sa.select(billing_plans.c.amount)
        .where(billing_plans.c.id == subscription.c.plan_id)
        .scalar_subquery()
    )
    return sa.func.coalesce(subscription.c.custom_unit_price, plan_amount)


def onboarding_step_done(step: Any, customer: Any) -> Expr:
    """Whether the customer has done one step of the onboarding checklist (`step`: a row of
    onboarding_steps). A step completes by itself when its action happens, so progress is
    read, never stored: a signed contract of the step's kind, a saved card not removed, a
    phone and an address filled in, email preferences confirmed by the customer or one of
    their contacts."""

    # Correlated by name: auto-correlation misses the planner's lateral rows.
    def exists(*where: Expr) -> Expr:
        return sa.exists().where(*where).correlate(customer, step)

    signed = exists(
        contracts.c.customer_id == customer.c.id,
        contracts.c.kind == step.c.contract_kind,
        contracts.c.signed_at.is_not(None),
    )
    card = exists(
        payment_methods.c.customer_id == customer.c.id, payment_methods.c.removed_at.is_(None)
    )
    profile = sa.and_(
        customer.c.phone.is_not(None),
        customer.c.address_line1.is_not(None),
        customer.c.city.is_not(None),
    )
    confirmed = sa.or_(
        customer.c.preferences_confirmed_at.is_not(None),
        exists(
            contacts.c.customer_id == customer.c.id,
            contacts.c.preferences_confirmed_at.is_not(None),
        ),
    )
    kind = step.c.kind
    return sa.case(
        (kind == OnboardingStepKind.SIGN_CONTRACT, signed),
        (kind == OnboardingStepKind.ADD_PAYMENT_METHOD, card),
        (kind == OnboardingStepKind.COMPLETE_PROFILE, profile),
        (kind == OnboardingStepKind.CONFIRM_PREFERENCES, confirmed),
        else_=sa.false(),
    )


def onboarding_progress(customer: Any, step: Any) -> dict[str, Expr]:
    """A customer's progress through their organization's checklist: steps done, steps in
    all, and whether every step is done (true when there are none; the customers list's
    `onboarding:` filter). `step` is onboarding_steps or an alias of it. The loaders select
    these for a batch of customers (resolvers/onboarding.py) and the planner writes them
    (planner/computed.py)."""
    theirs = step.c.organization_id == customer.c.organization_id
    done = onboarding_step_done(step, customer)

    def count(*where: Expr) -> Expr:
        counted = sa.select(sa.func.count()).select_from(step).where(theirs, *where)
        return counted.correlate(customer).scalar_subquery()

    return {
        "completed": count(done),
        "total": count(),
        "complete": sa.not_(sa.exists().where(theirs, sa.not_(done)).correlate(customer)),
    }


# Table name -> row key -> expression; the loaders add these to every row they read. A key
# that is a field's name in the schema is planned as this same expression (planner/plan.py),
# so a derived field is one expression here and one line in its type.
def delivery_state(outbox: Any) -> Expr:
    """An email's state in the delivery log: SENT and DEAD as stored; a pending one is
    FAILED once a try failed (it has an error), QUEUED before."""
    return sa.case(
        (outbox.c.status == OutboxStatus.SENT, DeliveryState.SENT.value),
        (outbox.c.status == OutboxStatus.DEAD, DeliveryState.DEAD.value),
        (outbox.c.last_error.is_not(None), DeliveryState.FAILED.value),
        else_=DeliveryState.QUEUED.value,
    )


DERIVED: dict[str, dict[str, Callable[[Any], Expr]]] = {
    "outbox_emails": {"delivery_state": delivery_state},
    "organizations": {"payments_enabled": payments_enabled},
    "invoices": {"amount_due": amount_due, "is_overdue": is_overdue},
    "estimates": {"current_status": estimate_status},
    # Maintenance falls due by date on the organization's day (schema/jobs.py).
    "maintenance_schedules": {"organization_today": organization_today},
    # A subscription's next bill date is computed from its dates and the organization's day
    # in Python (domain/billing/proration.py); its status and price are these.
    "subscriptions": {
        "status": subscription_status,
        "unit_price_amount": subscription_price,
        "organization_today": organization_today,
    },
}


def derived_columns(table: sa.Table) -> list[sa.Label[Any]]:
    return [build(table).label(key) for key, build in DERIVED.get(table.name, {}).items()]
