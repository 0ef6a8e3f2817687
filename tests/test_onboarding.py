"""Onboarding steps complete by themselves from the real actions; staff see who is where."""

from tests.helpers import error_codes, user_errors
from tests.payments import Paying
from tests.test_contracts import CREATE, SEND, SIGN
from tests.test_wallet import _save_card

STEPS = """
mutation S($input: SetOnboardingStepsInput!) {
  setOnboardingSteps(input: $input) {
    organization { onboardingSteps { kind title contractKind } } userErrors { field code }
  }
}
"""
MINE = "{ viewer { customer { onboarding { completed total isComplete steps { kind done } } } } }"
LIST = """
query L($f: OnboardingFilter) { customers(onboarding: $f, first: 50) { nodes { id } } }
"""


async def _sign(paying: Paying, title: str, kind: str) -> None:
    """A contract sent to the paying customer and signed in the portal."""
    gql, staff = paying.gql, paying.tenant.staff_token
    made = await gql.data(
        CREATE,
        {
            "input": {
                "customerId": paying.customer_id,
                "title": title,
                "kind": kind,
                "terms": "Indoor storage.",
            }
        },
        token=staff,
    )
    contract = made["createContract"]["contract"]
    assert contract["kind"] == kind
    await gql.data(SEND, {"id": contract["id"]}, token=staff)
    signed = await gql.data(
        SIGN,
        {"input": {"contractId": contract["id"], "signerName": "Alex", "consent": True}},
        token=paying.portal_token,
    )
    assert signed["signContract"]["userErrors"] == []
    copy = signed["signContract"]["contract"]["signedCopy"]
    assert copy["kind"] == ("PDF" if kind == "OTHER" else kind)  # filed under its kind


def _done(result) -> dict[str, bool]:
    steps = result["viewer"]["customer"]["onboarding"]["steps"]
    return {s["kind"]: s["done"] for s in steps}


async def test_steps_complete_from_the_real_actions(paying: Paying):
    gql, tenant, token = paying.gql, paying.tenant, paying.portal_token
    refused = await gql(STEPS, {"input": {"steps": []}}, token=tenant.staff_token)
    assert error_codes(refused) == ["OWNER_REQUIRED"]
    bad = await gql.data(
        STEPS,
        {"input": {"steps": [{"kind": "SIGN_CONTRACT", "title": "Sign"}]}},
        token=tenant.owner_token,
    )
    assert user_errors(bad["setOnboardingSteps"]) == [
        (["input", "steps", "0", "contractKind"], "REQUIRED")
    ]
    steps = [
        {
            "kind": "SIGN_CONTRACT",
            "title": "Sign the storage agreement",
            "contractKind": "STORAGE_AGREEMENT",
        },
        {"kind": "ADD_PAYMENT_METHOD", "title": "Add a card"},
        {"kind": "COMPLETE_PROFILE", "title": "Complete your profile"},
        {"kind": "CONFIRM_PREFERENCES", "title": "Choose your emails"},
    ]
    made = await gql.data(STEPS, {"input": {"steps": steps}}, token=tenant.owner_token)
    assert len(made["setOnboardingSteps"]["organization"]["onboardingSteps"]) == 4
    # An empty list no longer wipes the checklist by accident; removeAll says it is meant.
    empty = await gql.data(STEPS, {"input": {"steps": []}}, token=tenant.owner_token)
    assert user_errors(empty["setOnboardingSteps"]) == [(["input", "steps"], "REQUIRED")]
    kept = await gql.data("{ organization { onboardingSteps { kind } } }", token=tenant.owner_token)
    assert len(kept["organization"]["onboardingSteps"]) == 4
    start = await gql.data(MINE, token=token)
    assert start["viewer"]["customer"]["onboarding"]["completed"] == 0
    incomplete = await gql.data(LIST, {"f": "INCOMPLETE"}, token=tenant.staff_token)
    assert {"id": paying.customer_id} in incomplete["customers"]["nodes"]

    # The step names a kind, not a title: a contract titled like the step but of another
    # kind does not complete it; a storage agreement under any title does.
    await _sign(paying, "Storage agreement", "OTHER")
    assert _done(await gql.data(MINE, token=token))["SIGN_CONTRACT"] is False
    await _sign(paying, "Indoor storage, 2027 terms", "STORAGE_AGREEMENT")
    assert _done(await gql.data(MINE, token=token))["SIGN_CONTRACT"] is True
    await _save_card(paying)
    assert _done(await gql.data(MINE, token=token))["ADD_PAYMENT_METHOD"] is True
    await gql.data(
        "mutation U($input: UpdateCustomerInput!) { updateCustomer(input: $input) "
        "{ userErrors { code } } }",
        {
            "input": {
                "id": paying.customer_id,
                "phone": "+1 312 555 0100",
                "addressLine1": "1 Main St",
                "city": "Chicago",
            }
        },
        token=tenant.staff_token,
    )
    await gql.data("mutation { confirmMyPreferences { userErrors { code } } }", token=token)
    finished = await gql.data(MINE, token=token)
    assert finished["viewer"]["customer"]["onboarding"] == {
        "completed": 4,
        "total": 4,
        "isComplete": True,
        "steps": [{"kind": s["kind"], "done": True} for s in steps],
    }
    complete = await gql.data(LIST, {"f": "COMPLETE"}, token=tenant.staff_token)
    assert complete["customers"]["nodes"] == [{"id": paying.customer_id}]
    preview = await gql.data(
        "query P($id: ID!) { portalInvitePreview(customerId: $id) "
        "{ onboarding { completed total } } }",
        {"id": paying.customer_id},
        token=tenant.staff_token,
    )
    assert preview["portalInvitePreview"]["onboarding"] == {"completed": 4, "total": 4}
