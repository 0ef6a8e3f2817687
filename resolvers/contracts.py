"""Contracts from the API: the input checked and its IDs decoded, the domain's actions
called (domain/documents/contracts.py)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from strawberry import Info

from core.ids import decode_id_of
from domain.documents import contracts
from domain.documents.contracts import Terms
from domain.problems import Common
from resolvers.inputs import decoded_id, kept
from resolvers.outcome import mutation_outcome
from resolvers.validation import Checks

if TYPE_CHECKING:  # annotations only: resolvers do not import the schema
    from schema.mutations.contracts import (
        ContractFields,
        CreateContractInput,
        SendContractInput,
        SignContractInput,
        SupersedeContractInput,
        UpdateContractInput,
    )


def _terms(checks: Checks, data: ContractFields | SupersedeContractInput) -> Terms:
    return Terms(
        title=kept(checks.text("title", data.title, 255, required=True)),
        terms=kept(checks.text("terms", data.terms, 100_000, required=True)),
    )


@mutation_outcome
async def create_contract(info: Info, data: CreateContractInput) -> uuid.UUID:
    checks = Checks(creating=True)
    terms = _terms(checks, data)
    checks.done()
    return await contracts.create_contract(
        info.context,
        decode_id_of("Customer", data.customer_id),
        data.kind,
        terms,
        decoded_id("Car", data.car_id),
        decoded_id("Document", data.document_id),
    )


@mutation_outcome
async def update_contract(info: Info, data: UpdateContractInput) -> uuid.UUID:
    checks = Checks(creating=False)
    terms = _terms(checks, data)
    checks.done()
    contract_id = decode_id_of("Contract", data.id)
    document_id = decoded_id("Document", data.document_id)
    return await contracts.update_contract(info.context, contract_id, terms, document_id)


@mutation_outcome
async def send_contract(info: Info, data: SendContractInput) -> uuid.UUID:
    return await contracts.send_contract(info.context, decode_id_of("Contract", data.id))


@mutation_outcome
async def supersede_contract(info: Info, data: SupersedeContractInput) -> uuid.UUID:
    """A new draft replacing a contract; the old one, signed or not, stays as it was."""
    checks = Checks(creating=False)
    terms = _terms(checks, data)
    checks.done()
    contract_id = decode_id_of("Contract", data.id)
    return await contracts.supersede_contract(info.context, contract_id, terms)


@mutation_outcome
async def sign_contract(info: Info, data: SignContractInput) -> uuid.UUID:
    contracts.may_sign_contracts(info.context)  # closed sections refuse before all else
    checks = Checks(creating=True)
    name = checks.text("signerName", data.signer_name, 200, required=True)
    if data.consent is not True:
        message = "Confirm that you have read and agree to the terms."
        checks.fail("consent", message, Common.REQUIRED)
    checks.done()
    contract_id = decode_id_of("Contract", data.contract_id)
    return await contracts.sign_contract(info.context, contract_id, name)
