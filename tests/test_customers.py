"""Staff manage customers and contacts; lists search and page by cursor."""

from models.db import Database
from tests.factories import seed_customers
from tests.helpers import GraphQLClient, Tenant, error_codes, not_found_at, user_errors

CREATE = """
mutation Create($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { id name email company phone internalNotes portalStatus
               communicationPreferences { invoices marketing } }
    userErrors { field message code }
  }
}
"""
UPDATE = """
mutation Update($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    customer { id name email phone company }
    userErrors { field message code }
  }
}
"""
ARCHIVE = """
mutation Archive($input: ArchiveInput!) {
  archiveCustomer(input: $input) { customer { id archivedAt } userErrors { code } }
}
"""
SEARCH = """
query Search($search: String, $first: Int, $after: String, $archived: Boolean) {
  customers(search: $search, first: $first, after: $after, includeArchived: $archived) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { id name }
  }
}
"""
CREATE_CONTACT = """
mutation Contact($input: CreateContactInput!) {
  createContact(input: $input) {
    contact { id name email role canAccessPortal portalScope customer { id } }
    userErrors { field code }
  }
}
"""


async def _create(gql: GraphQLClient, tenant: Tenant, **fields) -> dict:
    data = await gql.data(CREATE, {"input": fields}, token=tenant.staff_token)
    return data["createCustomer"]


async def test_create_customer_normalises_and_returns_it(gql, tenant):
    payload = await _create(
        gql,
        tenant,
        name="  Alex Morgan ",
        email="Alex.Morgan@Example.COM",
        company="Morgan Motors",
        phone="+1 312 555 0100",
        internalNotes="Prefers morning calls",
        communicationPreferences={"marketing": True},
    )
    assert payload["userErrors"] == []
    customer = payload["customer"]
    assert customer["name"] == "Alex Morgan"
    assert customer["email"] == "alex.morgan@example.com"
    assert customer["internalNotes"] == "Prefers morning calls"
    assert customer["portalStatus"] == "NOT_INVITED"
    assert customer["communicationPreferences"] == {"invoices": True, "marketing": True}


async def test_bad_input_gives_every_user_error_and_writes_nothing(gql, tenant):
    payload = await _create(
        gql, tenant, name=" ", email="not-an-email", phone="call me", country="USA"
    )
    assert payload["customer"] is None
    assert sorted(user_errors(payload)) == sorted(
        [
            (["input", "name"], "REQUIRED"),
            (["input", "email"], "INVALID"),
            (["input", "phone"], "INVALID_PHONE"),
            (["input", "country"], "TOO_LONG"),
            (["input", "country"], "INVALID"),
        ]
    )
    data = await gql.data(SEARCH, {}, token=tenant.staff_token)
    assert data["customers"]["totalCount"] == 0


async def test_duplicate_email_is_refused_per_organization(gql, tenant, other_tenant):
    await _create(gql, tenant, name="First", email="same@example.com")
    again = await _create(gql, tenant, name="Second", email="SAME@example.com")
    assert user_errors(again) == [(["input", "email"], "DUPLICATE")]
    elsewhere = await _create(gql, other_tenant, name="Elsewhere", email="same@example.com")
    assert elsewhere["userErrors"] == []


async def test_update_changes_only_what_was_sent(gql, tenant):
    created = (await _create(gql, tenant, name="Sam Lee", email="sam@example.com"))["customer"]
    data = await gql.data(
        UPDATE,
        {"input": {"id": created["id"], "phone": "(312) 555-0101"}},
        token=tenant.staff_token,
    )
    assert data["updateCustomer"]["customer"] == {
        "id": created["id"],
        "name": "Sam Lee",
        "email": "sam@example.com",
        "phone": "+13125550101",  # stored as E.164
        "company": None,
    }
    cleared = await gql.data(
        UPDATE, {"input": {"id": created["id"], "name": None}}, token=tenant.staff_token
    )
    assert user_errors(cleared["updateCustomer"]) == [(["input", "name"], "REQUIRED")]


async def test_a_preference_sent_as_null_keeps_its_value(gql, tenant):
    """Omitted or null, a kind of email keeps what it was (it used to write NULL into a
    column that holds none, and the mutation failed with "Unexpected error.")."""
    created = (await _create(gql, tenant, name="Kim Ode"))["customer"]
    data = await gql.data(
        UPDATE_PREFERENCES,
        {"input": {"id": created["id"], "communicationPreferences": {"invoices": None}}},
        token=tenant.staff_token,
    )
    payload = data["updateCustomer"]
    assert payload["userErrors"] == []
    assert payload["customer"]["communicationPreferences"] == {"invoices": True}
    contact = await gql.data(
        CREATE_CONTACT,
        {"input": {"customerId": created["id"], "name": "Lee Ode"}},
        token=tenant.staff_token,
    )
    contact_id = contact["createContact"]["contact"]["id"]
    changed = await gql.data(
        UPDATE_CONTACT_PREFERENCES,
        {"input": {"id": contact_id, "communicationPreferences": {"marketing": None}}},
        token=tenant.staff_token,
    )
    assert changed["updateContact"] == {
        "contact": {"communicationPreferences": {"marketing": False}},
        "userErrors": [],
    }


UPDATE_PREFERENCES = """
mutation Update($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    customer { communicationPreferences { invoices } }
    userErrors { field code }
  }
}
"""
UPDATE_CONTACT_PREFERENCES = """
mutation Update($input: UpdateContactInput!) {
  updateContact(input: $input) {
    contact { communicationPreferences { marketing } }
    userErrors { field code }
  }
}
"""


async def test_search_matches_name_email_phone_company(gql, tenant):
    await _create(gql, tenant, name="Jordan Price", email="jp@garage.test", phone="312-555-7788")
    await _create(gql, tenant, name="Riley Chen", company="Chen Exotics")
    await _create(gql, tenant, name="Casey Brook")

    async def names(search: str) -> list[str]:
        data = await gql.data(SEARCH, {"search": search}, token=tenant.staff_token)
        return [n["name"] for n in data["customers"]["nodes"]]

    assert await names("jordan") == ["Jordan Price"]
    assert await names("GARAGE") == ["Jordan Price"]
    assert await names("7788") == ["Jordan Price"]
    assert await names("exotics") == ["Riley Chen"]
    assert await names("chen riley") == ["Riley Chen"]
    assert await names("50%_off") == []


async def test_keyset_pages_cover_the_list_once(db: Database, gql, tenant):
    await seed_customers(db, tenant.organization_id, 25)
    seen, after, pages = [], None, 0
    while True:
        data = await gql.data(SEARCH, {"first": 10, "after": after}, token=tenant.staff_token)
        page = data["customers"]
        assert page["totalCount"] == 25
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [n["name"] for n in page["nodes"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == sorted(seen) and len(set(seen)) == 25


async def test_page_size_and_cursor_are_checked(gql, tenant):
    too_many = await gql(SEARCH, {"first": 101}, token=tenant.staff_token)
    assert error_codes(too_many) == ["INVALID_PAGE_SIZE"]
    forged = await gql(SEARCH, {"after": "bm90LWEtY3Vyc29y"}, token=tenant.staff_token)
    assert error_codes(forged) == ["INVALID_CURSOR"]


async def test_archived_customers_leave_lists_but_stay_reachable(gql, tenant):
    created = (await _create(gql, tenant, name="Gone Soon"))["customer"]
    data = await gql.data(ARCHIVE, {"input": {"id": created["id"]}}, token=tenant.staff_token)
    assert data["archiveCustomer"]["customer"]["archivedAt"] is not None
    listed = await gql.data(SEARCH, {}, token=tenant.staff_token)
    assert listed["customers"]["totalCount"] == 0
    everything = await gql.data(SEARCH, {"archived": True}, token=tenant.staff_token)
    assert [n["id"] for n in everything["customers"]["nodes"]] == [created["id"]]
    restored = await gql.data(
        ARCHIVE, {"input": {"id": created["id"], "archived": False}}, token=tenant.staff_token
    )
    assert restored["archiveCustomer"]["customer"]["archivedAt"] is None


async def test_contacts_belong_to_a_customer(gql, tenant):
    customer = (await _create(gql, tenant, name="Pat Doe"))["customer"]
    data = await gql.data(
        CREATE_CONTACT,
        {
            "input": {
                "customerId": customer["id"],
                "name": "Robin Doe",
                "email": "robin@example.com",
                "role": "SPOUSE",
                "canAccessPortal": True,
            }
        },
        token=tenant.staff_token,
    )
    contact = data["createContact"]["contact"]
    assert contact["customer"] == {"id": customer["id"]}
    assert (contact["role"], contact["canAccessPortal"], contact["portalScope"]) == (
        "SPOUSE",
        True,
        "EVERYTHING",
    )
    duplicate = await gql.data(
        CREATE_CONTACT,
        {"input": {"customerId": customer["id"], "name": "Other", "email": "ROBIN@example.com"}},
        token=tenant.staff_token,
    )
    assert user_errors(duplicate["createContact"]) == [(["input", "email"], "DUPLICATE")]


async def test_staff_cannot_touch_another_organizations_customer(gql, tenant, other_tenant):
    theirs = (await _create(gql, other_tenant, name="Not Yours"))["customer"]
    update = await gql(
        UPDATE, {"input": {"id": theirs["id"], "name": "Mine"}}, token=tenant.staff_token
    )
    archive = await gql(ARCHIVE, {"input": {"id": theirs["id"]}}, token=tenant.staff_token)
    contact = await gql(
        CREATE_CONTACT,
        {"input": {"customerId": theirs["id"], "name": "Spy"}},
        token=tenant.staff_token,
    )
    for result, field in ((update, "id"), (archive, "id"), (contact, "customerId")):
        not_found_at(result, field)
    listed = await gql.data(SEARCH, {}, token=other_tenant.staff_token)
    assert [n["name"] for n in listed["customers"]["nodes"]] == ["Not Yours"]


async def test_anonymous_callers_get_nothing(gql, tenant):
    result = await gql(SEARCH, {})
    assert error_codes(result) == ["UNAUTHENTICATED"]  # nobody signed in
    assert result["data"] is None
    mutation = await gql(CREATE, {"input": {"name": "Sneaky"}})
    assert error_codes(mutation) == ["UNAUTHENTICATED"]
