"""Credit notes from the API: the input checked and its IDs decoded, the domain's action
called (domain/billing/credit_notes.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from strawberry import Info

from core.ids import decode_id_of
from domain.billing import credit_notes
from domain.problems import Common
from models.money import QUANTITY_SCALE
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks, scaled

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.billing import IssueCreditNoteInput


@mutation_outcome
async def issue_credit_note(info: Info, data: IssueCreditNoteInput) -> uuid.UUID:
    checks = Checks()
    lines: list[credit_notes.CreditLineInput] | None = None
    if data.lines is not None:
        lines = []
        for index, line in enumerate(data.lines):
            quantity = None
            if line.quantity is not None and line.amount is not None:
                checks.fail(f"lines.{index}", "Give a quantity or an amount, not both.")
            if line.quantity is not None:
                quantity = scaled(line.quantity, QUANTITY_SCALE)
                if quantity is None or quantity <= 0:
                    message = "A positive quantity with up to 3 decimals."
                    checks.fail(f"lines.{index}.quantity", message, Common.INVALID)
            if line.amount is not None and line.amount <= 0:
                checks.fail(f"lines.{index}.amount", "A positive amount in minor units.")
            lines.append(credit_notes.CreditLineInput(line.position, quantity, line.amount))
    checks.done()
    invoice_id = decode_id_of("Invoice", data.invoice_id)
    issued = await credit_notes.issue_credit_note(info.context, invoice_id, data.reason, lines)
    return issued.credit_note_id
