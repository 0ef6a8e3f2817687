"""Onboarding steps complete by themselves from the real actions; staff see who is where."""

from tests.helpers import error_codes, user_errors
from tests.payments import Paying
from tests.test_contracts import CREATE, SEND, SIGN
from tests.test_wallet import _save_card

STEPS = """
mutation S($input: SetOnboardingStepsInput!) {
  setOnboardingSteps(input: $input) {
    organization { onboardingSteps { kind title contractTitle } } userErrors { field code }
  }
}
"""
MINE = "{ viewer { customer { onboarding { completed total isComplete steps { kind done } } } } }"
LIST = """
query L($f: OnboardingFilter) { customers(onboarding: $f, first: 50) { nodes { id } } }
"""


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
        (["input", "steps", "0", "contractTitle"], "REQUIRED")
    ]
    steps = [
        {
            "kind": "SIGN_CONTRACT",
            "title": "Sign the storage agreement",
            "contractTitle": "Storage agreement",
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

    contract = await gql.data(
        CREATE,
        {
            "input": {
                "customerId": paying.customer_id,
                "title": "Storage agreement",
                "terms": "Indoor storage.",
            }
        },
        token=tenant.staff_token,
    )
    contract_id = contract["createContract"]["contract"]["id"]
    await gql.data(SEND, {"id": contract_id}, token=tenant.staff_token)
    await gql.data(
        SIGN,
        {"input": {"contractId": contract_id, "signerName": "Alex", "consent": True}},
        token=token,
    )
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
