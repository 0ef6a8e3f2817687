"""Mutations on contracts: staff draft, send and supersede; portal viewers sign."""

from enum import Enum
from typing import Annotated

import strawberry
from strawberry import UNSET, Info

from auth.permissions import portal_only, staff_only
from domain.documents.codes import DocumentCode
from resolvers import contracts as actions
from resolvers.outcome import Outcome
from schema.common import INPUT, UserError
from schema.documents import Contract
from schema.enums import ContractKind
from schema.error_codes import code_field, error_codes
from schema.payloads import payload

ContractErrorCode = error_codes(
    "ContractErrorCode", DocumentCode, "Why a contract mutation was refused."
)


@strawberry.type(description="A problem with a contract mutation's input.")
class ContractError(UserError):
    code: Enum = code_field(ContractErrorCode)


@strawberry.input(description="Details of a contract. Omitted fields keep their value.")
class ContractFields:
    title: str | None = strawberry.field(default=UNSET, description="Title.")
    terms: str | None = strawberry.field(default=UNSET, description="The terms to agree to.")
    document_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The customer's stored file to sign; null detaches it."
    )


@strawberry.input(description="A new draft contract.")
class CreateContractInput(ContractFields):
    customer_id: strawberry.ID = strawberry.field(description="Who signs.")
    kind: ContractKind = strawberry.field(
        default=ContractKind.OTHER,
        description="What the contract is; onboarding steps name contracts by kind. "
        "Kept when the contract is superseded.",
    )
    car_id: strawberry.ID | None = strawberry.field(default=UNSET, description="The car, if any.")


@strawberry.input(description="Changes to an unsigned contract.")
class UpdateContractInput(ContractFields):
    id: strawberry.ID = strawberry.field(description="The contract's global ID.")


@strawberry.input(description="A contract to send.")
class SendContractInput:
    id: strawberry.ID = strawberry.field(description="The contract's global ID.")


@strawberry.input(description="Replace a contract with a new draft; the old one stays as it was.")
class SupersedeContractInput:
    id: strawberry.ID = strawberry.field(description="The contract replaced.")
    title: str | None = strawberry.field(default=UNSET, description="New title; same by default.")
    terms: str | None = strawberry.field(default=UNSET, description="New terms; same by default.")


@strawberry.input(description="Sign a contract after reading its terms.")
class SignContractInput:
    contract_id: strawberry.ID = strawberry.field(description="The contract's global ID.")
    signer_name: str = strawberry.field(description="Your full name, typed as your signature.")
    consent: bool = strawberry.field(
        description="True: you have read the terms and agree to sign electronically."
    )


@strawberry.type(description="The result of a contract mutation.")
class ContractPayload:
    contract: Contract | None = strawberry.field(description="The contract, when it worked.")
    user_errors: list[ContractError] = strawberry.field(description="Problems with the input.")


async def _payload(info: Info, outcome: Outcome) -> ContractPayload:
    return await payload(
        info,
        ContractPayload,
        outcome,
        type_name="Contract",
        object_field="contract",
        error_cls=ContractError,
        codes=ContractErrorCode,
    )


@strawberry.type
class ContractMutations:
    @strawberry.mutation(description="Draft a contract for a customer.", extensions=staff_only())
    async def create_contract(
        self, info: Info, input: Annotated[CreateContractInput, INPUT]
    ) -> ContractPayload:
        return await _payload(info, await actions.create_contract(info, input))

    @strawberry.mutation(description="Change an unsigned contract.", extensions=staff_only())
    async def update_contract(
        self, info: Info, input: Annotated[UpdateContractInput, INPUT]
    ) -> ContractPayload:
        return await _payload(info, await actions.update_contract(info, input))

    @strawberry.mutation(description="Send a draft for signature.", extensions=staff_only())
    async def send_contract(
        self, info: Info, input: Annotated[SendContractInput, INPUT]
    ) -> ContractPayload:
        return await _payload(info, await actions.send_contract(info, input))

    @strawberry.mutation(
        description="Replace a contract by a new draft (a signed one cannot change).",
        extensions=staff_only(),
    )
    async def supersede_contract(
        self, info: Info, input: Annotated[SupersedeContractInput, INPUT]
    ) -> ContractPayload:
        return await _payload(info, await actions.supersede_contract(info, input))

    @strawberry.mutation(
        description="Sign a contract sent to you, with your typed name and consent. Final.",
        extensions=portal_only(),
    )
    async def sign_contract(
        self, info: Info, input: Annotated[SignContractInput, INPUT]
    ) -> ContractPayload:
        return await _payload(info, await actions.sign_contract(info, input))
