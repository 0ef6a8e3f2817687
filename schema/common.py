"""Small shared types: money, user errors."""

import strawberry


@strawberry.type(description="An amount of money in integer minor units (cents) of a currency.")
class Money:
    amount: int = strawberry.field(description="Amount in minor units: 1234 is 12.34 USD.")
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. USD.")


def money(amount: int | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount=amount, currency=currency)


@strawberry.interface(description="A problem with a mutation's input; nothing was changed.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "email"].'
    )
    message: str = strawberry.field(description="What is wrong, for people.")


def input_path(name: str | None) -> list[str] | None:
    """ "lineItems.0.quantity" -> ["input", "lineItems", "0", "quantity"]."""
    return None if not name else ["input", *name.split(".")]


INPUT = strawberry.argument(description="What to do; see the input type.")
