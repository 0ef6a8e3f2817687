"""The server answers: health check and the signed-in viewer."""

from tests.helpers import GraphQLClient, Tenant


async def test_healthz(http):
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_viewer_is_the_signed_in_staff(gql: GraphQLClient, tenant: Tenant):
    data = await gql.data(
        "{ viewer { kind staffUser { email role } organization { slug } } }",
        token=tenant.owner_token,
    )
    assert data["viewer"] == {
        "kind": "STAFF",
        "staffUser": {"email": tenant.owner_email, "role": "OWNER"},
        "organization": {"slug": tenant.slug},
    }


async def test_anonymous_viewer(gql: GraphQLClient, db):
    data = await gql.data("{ viewer { kind staffUser { id } organization { id } } }")
    assert data["viewer"] == {"kind": "ANONYMOUS", "staffUser": None, "organization": None}
