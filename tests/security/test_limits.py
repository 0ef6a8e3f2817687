async def test_a_request_over_its_time_budget_gets_a_timeout_and_frees_its_connection(
    db, database_url, tenant
):
    import httpx

    from core.settings import settings_from_env
    from models.db import Database
    from portico.app import create_app

    env = {"DATABASE_URL": database_url, "REQUEST_TIMEOUT_SECONDS": "0"}
    hurried = Database(settings_from_env(env))
    try:
        app = create_app(db=hurried, run_mail_worker=False)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50990))
        async with httpx.AsyncClient(transport=transport, base_url="http://portico.test") as http:
            for _ in range(3 * 5):  # more requests than the pool has connections
                answer = await http.post(
                    "/graphql",
                    json={"query": "{ customers { totalCount } }"},
                    headers={"Authorization": f"Bearer {tenant.staff_token}"},
                )
                assert answer.status_code == 504
                assert answer.json()["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
        pool = hurried.engine.pool
        assert pool.checkedout() == 0  # every cancelled request gave its connection back
    finally:
        await hurried.dispose()
