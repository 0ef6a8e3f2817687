"""What invoices and estimates print alike: the issuer, the customer billed, the car, the
lines, and the Core statements that read them under the viewer's scope.

A bill (invoice or estimate) is narrowed by the same visibility conditions as every GraphQL
read of its table (auth/access.py through `scope`), so a viewer who may not see it gets
None, exactly as for one that does not exist. Its lines carry their own table's conditions
too, and the car is joined only where the viewer may see that car.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from models.loaders import Relation, Scope
from models.tables import cars, customers, organizations

T = TypeVar("T")
ORG = "document_org"  # the bound parameters of a document's statements
ROW = "document_row"


@dataclass(frozen=True, slots=True)
class Issuer:
    name: str
    address: str | None
    email: str | None
    phone: str | None
    brand_color: str | None  # "#1a2b3c"


@dataclass(frozen=True, slots=True)
class BillTo:
    name: str
    company: str | None
    email: str | None
    address_lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CarLine:
    description: str  # "1973 Porsche 911"
    license_plate: str | None


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    quantity_milli: int
    unit_price: int
    tax_rate_bp: int
    total: int
    optional: bool = False  # an estimate's line the customer may decline alone


@dataclass(frozen=True, slots=True)
class Parties:
    """Who issues the bill, whom it is for, and the car it concerns."""

    issuer: Issuer
    bill_to: BillTo
    car: CarLine | None


def bill_head(
    bill: sa.Table, columns: list[Any], scope: Scope, *, extra: tuple[Any, ...] = ()
) -> sa.Select[Any]:
    """One bill's `columns` with its parties' columns, under the viewer's scope."""
    return (
        sa.select(
            *columns,
            organizations.c.name.label("org_name"),
            organizations.c.address.label("org_address"),
            organizations.c.email.label("org_email"),
            organizations.c.phone.label("org_phone"),
            organizations.c.brand_color,
            customers.c.name.label("customer_name"),
            customers.c.company,
            customers.c.email.label("customer_email"),
            customers.c.address_line1,
            customers.c.address_line2,
            customers.c.city,
            customers.c.region,
            customers.c.postal_code,
            customers.c.country,
            cars.c.id.label("car_id"),
            cars.c.year,
            cars.c.make,
            cars.c.model,
            cars.c.license_plate,
        )
        .select_from(bill)
        .join(organizations, organizations.c.id == bill.c.organization_id)
        .join(customers, customers.c.id == bill.c.customer_id)
        # The car only where the viewer may see it (a billing-only contact may not).
        .outerjoin(cars, sa.and_(cars.c.id == bill.c.car_id, *scope.conditions(cars)))
        .where(
            *scope.conditions(bill),
            bill.c.organization_id == sa.bindparam(ORG, type_=sa.Uuid()),
            bill.c.id == sa.bindparam(ROW, type_=sa.Uuid()),
            *extra,
        )
    )


def bill_lines(relation: Relation, scope: Scope, *extra_columns: Any) -> sa.Select[Any]:
    """The lines of one bill, in their order, under the viewer's scope."""
    lines = relation.table
    return (
        sa.select(
            lines.c.description,
            lines.c.quantity_milli,
            lines.c.unit_price,
            lines.c.tax_rate_bp,
            lines.c.total,
            *extra_columns,
        )
        .where(
            *scope.conditions(lines),
            lines.c.organization_id == sa.bindparam(ORG, type_=sa.Uuid()),
            relation.key_column == sa.bindparam(ROW, type_=sa.Uuid()),
        )
        .order_by(*relation.ordering.order_by())
    )


def statements_for(cache: dict[Hashable, T], scope: Scope, build: Callable[[Scope], T]) -> T:
    """A document's statements for one shape of viewer, built once (only parameters
    differ)."""
    found = cache.get(scope.shape)
    if found is None:
        found = cache[scope.shape] = build(scope)
    return found


def parties_of(row: RowMapping) -> Parties:
    return Parties(
        issuer=Issuer(
            name=row["org_name"],
            address=row["org_address"],
            email=row["org_email"],
            phone=row["org_phone"],
            brand_color=row["brand_color"],
        ),
        bill_to=BillTo(
            name=row["customer_name"],
            company=row["company"],
            email=row["customer_email"],
            address_lines=_address(row),
        ),
        car=_car(row),
    )


def lines_of(rows: Sequence[RowMapping]) -> tuple[DocumentLine, ...]:
    return tuple(
        DocumentLine(
            description=r["description"],
            quantity_milli=r["quantity_milli"],
            unit_price=r["unit_price"],
            tax_rate_bp=r["tax_rate_bp"],
            total=r["total"],
            optional=bool(r.get("optional", False)),
        )
        for r in rows
    )


def _address(row: RowMapping) -> tuple[str, ...]:
    town = " ".join(p for p in (row["postal_code"], row["city"]) if p)
    parts = (row["address_line1"], row["address_line2"], town, row["region"], row["country"])
    return tuple(p for p in parts if p)


def _car(row: RowMapping) -> CarLine | None:
    if row["car_id"] is None:
        return None
    name = " ".join(str(p) for p in (row["year"], row["make"], row["model"]) if p)
    return CarLine(description=name, license_plate=row["license_plate"])
