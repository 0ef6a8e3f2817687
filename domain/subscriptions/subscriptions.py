"""Subscriptions: a customer billed on a plan every period, optionally for one of their
cars and a storage space, until it ends.

Staff create, change (plan, price, quantity, car, space, terms), pause, resume and end
them; each change is one transaction with its audit row, and bad input changes nothing.
Its status is derived: ENDED from its end date (the first day no longer covered) on the
organization's day, PAUSED while paused, else ACTIVE (`status_of` here; its SQL form,
which the API shows, is models/derived.py `subscription_status`). Periods and bill dates
follow domain/billing/proration.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import NotFound
from core.ids import encode_id
from domain.audit import audit
from domain.billing.proration import MAX_ANCHOR_DAY, period_on
from domain.edits import KEEP, Edit, changes
from domain.problems import Problem, Rejected
from domain.rows import locked, organization_of
from domain.subscriptions.adjustments import Adjusted, adjust_periods
from domain.subscriptions.billing import skip_paused_periods
from domain.subscriptions.codes import SubscriptionCode
from domain.subscriptions.plans import MAX_AMOUNT
from domain.work import Work
from models import BillingPlan, BillingSubscription, Car, Customer, Organization, PortalSettings
from models.calendar import local_today
from models.enums import CheckOutEnd, SubscriptionStatus
from models.writes import apply, get_for_update

S = SubscriptionStatus
MAX_QUANTITY = 10_000
DEFAULT_TERMS_DAYS = 14  # as invoices, where the organization has set none

NOT_THEIR_CAR = Problem("carId", "Choose a car of this customer.", SubscriptionCode.NOT_THEIR_CAR)
PLAN_ARCHIVED = Problem(
    "planId", "This plan is archived; choose another.", SubscriptionCode.PLAN_ARCHIVED
)
ENDED = Problem("id", "This subscription has ended.", SubscriptionCode.ALREADY_ENDED)


@dataclass(frozen=True)
class Terms:
    """A new subscription's own fields, as checked at the edge."""

    start_date: date
    end_date: date | None = None
    anchor_day: int | None = None  # the start date's day when None
    quantity: int = 1
    custom_unit_price: int | None = None  # the plan's amount when None
    storage_label: str | None = None
    payment_terms_days: int | None = None  # the organization's invoice terms when None
    autopay: bool = False


@dataclass(frozen=True)
class Change:
    """What `change_subscription` sets; KEEP leaves a field as it is."""

    plan_id: Edit[uuid.UUID] = KEEP
    custom_unit_price: Edit[int | None] = KEEP
    quantity: Edit[int] = KEEP
    car_id: Edit[uuid.UUID | None] = KEEP
    storage_label: Edit[str | None] = KEEP
    payment_terms_days: Edit[int] = KEEP
    autopay: Edit[bool] = KEEP


def status_of(subscription: BillingSubscription, today: date) -> SubscriptionStatus:
    """The Python form of models/derived.py `subscription_status`, on the organization's
    `today`."""
    if subscription.end_date is not None and subscription.end_date <= today:
        return S.ENDED
    return S.PAUSED if subscription.paused_at is not None else S.ACTIVE


def quantity_problems(quantity: object) -> list[Problem]:
    if isinstance(quantity, int) and not 1 <= quantity <= MAX_QUANTITY:
        message = f"The quantity must be from 1 to {MAX_QUANTITY}."
        return [Problem("quantity", message, SubscriptionCode.NOT_POSITIVE)]
    return []


def price_problems(price: object) -> list[Problem]:
    if isinstance(price, int) and price < 0:
        message = "The price must not be negative."
        return [Problem("unitPrice", message, SubscriptionCode.NEGATIVE_AMOUNT)]
    if isinstance(price, int) and price > MAX_AMOUNT:
        return [Problem("unitPrice", "The price is too large.")]
    return []


def terms_days_problems(days: object) -> list[Problem]:
    if isinstance(days, int) and not 0 <= days <= 365:
        return [Problem("paymentTermsDays", "Use 0 to 365 days.")]
    return []


def dates_problems(start_date: date, end_date: date | None) -> list[Problem]:
    if end_date is not None and end_date <= start_date:
        message = "The end date must be after the start date."
        return [Problem("endDate", message, SubscriptionCode.ENDS_BEFORE_START)]
    return []


def anchor_problems(anchor_day: int | None) -> list[Problem]:
    if anchor_day is not None and not 1 <= anchor_day <= MAX_ANCHOR_DAY:
        return [Problem("anchorDay", "Use a day of the month from 1 to 31.")]
    return []


def terms_problems(terms: Terms) -> list[Problem]:
    """Every problem of a new subscription's own fields, all at once."""
    return [
        *quantity_problems(terms.quantity),
        *price_problems(terms.custom_unit_price),
        *terms_days_problems(terms.payment_terms_days),
        *dates_problems(terms.start_date, terms.end_date),
        *anchor_problems(terms.anchor_day),
    ]


def change_problems(change: Change) -> list[Problem]:
    return [
        *quantity_problems(change.quantity),
        *price_problems(change.custom_unit_price),
        *terms_days_problems(change.payment_terms_days),
    ]


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise Rejected(*problems)


async def _their_car(
    session: AsyncSession, org_id: uuid.UUID, customer_id: uuid.UUID, car_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The car named, which must be one of the customer's and not archived; a car outside
    the organization is NOT_FOUND like a missing one."""
    if car_id is None:
        return None
    car = await get_for_update(session, Car, org_id, car_id)
    if car is None:
        raise NotFound(row=("Car", car_id))
    if car.customer_id != customer_id or car.archived_at is not None:
        raise Rejected(NOT_THEIR_CAR)
    return car.id


async def _open_plan(session: AsyncSession, org_id: uuid.UUID, plan_id: uuid.UUID) -> BillingPlan:
    plan = await locked(session, BillingPlan, org_id, plan_id)
    if plan.archived_at is not None:
        raise Rejected(PLAN_ARCHIVED)
    return plan


async def _today(session: AsyncSession, work: Work, org_id: uuid.UUID) -> date:
    org = await session.get(Organization, org_id)
    assert org is not None  # the row's foreign key holds it
    return work.clock.today(org.timezone)


def _audit(work: Work, action: str, subscription: BillingSubscription, **data: Any) -> Any:
    return audit(
        work,
        action,
        organization_id=subscription.organization_id,
        customer_id=subscription.customer_id,
        subject_type="BillingSubscription",
        subject_id=subscription.id,
        data=data,
    )


async def create_subscription(
    work: Work,
    customer_id: uuid.UUID,
    plan_id: uuid.UUID,
    car_id: uuid.UUID | None,
    terms: Terms,
) -> uuid.UUID:
    """Put a customer on a plan from `terms.start_date`."""
    _refuse(terms_problems(terms))
    org_id = organization_of(work)
    async with work.write() as session:
        customer = await locked(session, Customer, org_id, customer_id)
        plan = await _open_plan(session, org_id, plan_id)
        car = await _their_car(session, org_id, customer.id, car_id)
        terms_days = terms.payment_terms_days
        if terms_days is None:
            options = await session.get(PortalSettings, org_id)
            terms_days = options.invoice_due_days if options else DEFAULT_TERMS_DAYS
        subscription = BillingSubscription(
            organization_id=org_id,
            customer_id=customer.id,
            plan_id=plan.id,
            car_id=car,
            storage_label=terms.storage_label,
            quantity=terms.quantity,
            custom_unit_price=terms.custom_unit_price,
            currency=plan.currency,
            start_date=terms.start_date,
            end_date=terms.end_date,
            anchor_day=terms.anchor_day or terms.start_date.day,
            payment_terms_days=terms_days,
            autopay=terms.autopay,
        )
        session.add(subscription)
        await session.flush()
        session.add(
            _audit(
                work,
                "subscription.created",
                subscription,
                plan=encode_id("BillingPlan", plan.id),
                quantity=subscription.quantity,
                custom_unit_price=subscription.custom_unit_price,
                start_date=subscription.start_date.isoformat(),
            )
        )
    return subscription.id


async def _live(
    session: AsyncSession, work: Work, subscription_id: uuid.UUID
) -> BillingSubscription:
    """The organization's subscription, locked, refused once it has ended."""
    org_id = organization_of(work)
    subscription = await locked(session, BillingSubscription, org_id, subscription_id)
    if status_of(subscription, await _today(session, work, org_id)) is S.ENDED:
        raise Rejected(ENDED)
    return subscription


def _audited(value: object, name: str) -> object:
    """A changed value as an audit row keeps it: row ids as global ids."""
    if isinstance(value, uuid.UUID):
        return encode_id({"plan_id": "BillingPlan", "car_id": "Car"}[name], value)
    return value


async def change_subscription(work: Work, subscription_id: uuid.UUID, change: Change) -> uuid.UUID:
    """Move a subscription to another plan, give it its own price (or back to the plan's),
    change its quantity, car, space, payment terms or autopay. A new price or quantity
    counts from today: a period billed in advance that runs past today is credited or
    billed the difference for its days from today (domain/subscriptions/adjustments.py);
    the other changes count from the next bill on."""
    _refuse(change_problems(change))
    async with work.write() as session:
        subscription = await _live(session, work, subscription_id)
        org_id = subscription.organization_id
        values = changes(
            custom_unit_price=change.custom_unit_price,
            quantity=change.quantity,
            storage_label=change.storage_label,
            payment_terms_days=change.payment_terms_days,
            autopay=change.autopay,
        )
        if change.plan_id is not KEEP:
            plan = await locked(session, BillingPlan, org_id, change.plan_id)
            if plan.id != subscription.plan_id and plan.archived_at is not None:
                raise Rejected(PLAN_ARCHIVED)
            values |= {"plan_id": plan.id, "currency": plan.currency}
        if change.car_id is not KEEP:
            car = await _their_car(session, org_id, subscription.customer_id, change.car_id)
            values["car_id"] = car
        before = {name: getattr(subscription, name) for name in values}
        was = await _terms(session, subscription)
        if apply(subscription, values):
            changed = {
                name: [_audited(before[name], name), _audited(value, name)]
                for name, value in values.items()
                if before[name] != value and name != "currency"
            }
            adjusted: list[Adjusted] = []
            now = await _terms(session, subscription)
            if now != was:  # the period running today is charged the new terms from today
                today = await _today(session, work, org_id)
                adjusted = await adjust_periods(work, session, subscription, today, terms=now)
            session.add(
                _audit(
                    work,
                    "subscription.changed",
                    subscription,
                    changes=changed,
                    **_adjusted(adjusted),
                )
            )
    return subscription.id


async def _terms(session: AsyncSession, subscription: BillingSubscription) -> tuple[int, int]:
    """The subscription's price (its own, else its plan's) and quantity."""
    if subscription.custom_unit_price is not None:
        return subscription.custom_unit_price, subscription.quantity
    plan = await session.get(BillingPlan, subscription.plan_id)
    assert plan is not None  # the row's foreign key holds it
    return plan.amount, subscription.quantity


def _adjusted(adjusted: list[Adjusted]) -> dict[str, Any]:
    """The credit notes and invoices of a difference made, for the audit row."""
    if not adjusted:
        return {}
    return {
        "adjustments": [
            {
                "period_start": a.period_start.isoformat(),
                "amount": a.amount,
                "invoice": encode_id("Invoice", a.invoice_id),
                "credit_note": encode_id("CreditNote", a.credit_note_id)
                if a.credit_note_id
                else None,
            }
            for a in adjusted
        ]
    }


async def pause_subscription(work: Work, subscription_id: uuid.UUID) -> uuid.UUID:
    """Stop billing an active subscription until it is resumed."""
    async with work.write() as session:
        subscription = await _live(session, work, subscription_id)
        if subscription.paused_at is not None:
            message = "This subscription is already paused."
            raise Rejected(Problem("id", message, SubscriptionCode.ALREADY_PAUSED))
        apply(subscription, {"paused_at": work.clock.now})
        session.add(_audit(work, "subscription.paused", subscription))
    return subscription.id


async def resume_subscription(work: Work, subscription_id: uuid.UUID) -> uuid.UUID:
    """Bill a paused subscription again from its next bill date."""
    async with work.write() as session:
        subscription = await _live(session, work, subscription_id)
        if subscription.paused_at is None:
            message = "This subscription is not paused."
            raise Rejected(Problem("id", message, SubscriptionCode.NOT_PAUSED))
        paused_at = subscription.paused_at
        org = await session.get(Organization, subscription.organization_id)
        plan = await session.get(BillingPlan, subscription.plan_id)
        assert org is not None and plan is not None  # the row's foreign keys hold them
        # Nothing is billed for the pause: the periods that came due in it are settled
        # unbilled, and the scheduler goes on from the next bill date.
        skipped = await skip_paused_periods(
            session,
            subscription,
            plan,
            local_today(org.timezone, paused_at),
            work.clock.today(org.timezone),
        )
        apply(subscription, {"paused_at": None})
        session.add(
            _audit(
                work,
                "subscription.resumed",
                subscription,
                paused_at=paused_at.isoformat(),
                periods_not_billed=skipped,
            )
        )
    return subscription.id


async def end_subscription(
    work: Work, subscription_id: uuid.UUID, end_date: date | None
) -> uuid.UUID:
    """End a subscription before `end_date` (the first day no longer covered, today or
    later), or when None at the end of the period running today (of its first period, when
    it has not started yet). Days after the end already billed in advance are credited by
    the proration rule (domain/subscriptions/adjustments.py)."""
    async with work.write() as session:
        subscription = await _live(session, work, subscription_id)
        await _end(work, session, subscription, end_date)
    return subscription.id


async def _end(
    work: Work,
    session: AsyncSession,
    subscription: BillingSubscription,
    end_date: date | None,
    **why: Any,
) -> None:
    """`end_subscription` in the caller's transaction, the subscription locked and live."""
    today = await _today(session, work, subscription.organization_id)
    if end_date is None:
        day = max(today, subscription.start_date)
        period = period_on(
            day,
            subscription.start_date,
            subscription.anchor_day,
            await _interval(session, subscription),
            subscription.end_date,
        )
        if period is None:  # an end already set before any period left: none to end
            raise Rejected(ENDED)
        end_date = period.end
    else:
        _refuse(dates_problems(subscription.start_date, end_date))
        if end_date < today:
            message = "Choose today or a later day."
            raise Rejected(Problem("endDate", message, SubscriptionCode.IN_THE_PAST))
    was = subscription.end_date
    apply(subscription, {"end_date": end_date})
    # Days already billed in advance after the end are credited (or, for an end moved
    # later again, billed): domain/subscriptions/adjustments.py.
    adjusted = await adjust_periods(work, session, subscription, today)
    session.add(
        _audit(
            work,
            "subscription.ended",
            subscription,
            end_date=end_date.isoformat(),
            previous_end_date=was.isoformat() if was else None,
            **_adjusted(adjusted),
            **why,
        )
    )


async def end_for_check_out(
    work: Work, session: AsyncSession, car_id: uuid.UUID, when: CheckOutEnd
) -> list[uuid.UUID]:
    """In the caller's transaction (the car's status just became CHECKED_OUT): end the car's
    running subscriptions by the organization's setting: at the end of the period running
    (PERIOD_END), or that day, the check-out day being the first no longer billed
    (CHECK_OUT_DAY; days billed in advance after it are credited). One not started yet is
    left to staff, and one already ending by then is left as it is. The ones ended."""
    org_id = organization_of(work)
    today = await _today(session, work, org_id)
    found = await session.execute(
        sa.select(BillingSubscription.id)  # type: ignore[call-overload]
        .where(
            col(BillingSubscription.organization_id) == org_id,
            col(BillingSubscription.car_id) == car_id,
            col(BillingSubscription.start_date) < today,
            sa.or_(
                col(BillingSubscription.end_date).is_(None),
                col(BillingSubscription.end_date) > today,
            ),
        )
        .order_by(col(BillingSubscription.id))
    )
    ended = []
    for subscription_id in found.scalars():
        subscription = await locked(session, BillingSubscription, org_id, subscription_id)
        end_date = today if when is CheckOutEnd.CHECK_OUT_DAY else None
        await _end(work, session, subscription, end_date, reason="car.checked_out")
        ended.append(subscription.id)
    return ended


async def _interval(session: AsyncSession, subscription: BillingSubscription) -> int:
    plan = await session.get(BillingPlan, subscription.plan_id)
    assert plan is not None  # the row's foreign key holds it
    return plan.interval_months
