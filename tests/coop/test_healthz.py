def test_healthz_200_when_database_and_broker_answer(client, db, settings, redis_server):
    settings.CELERY_BROKER_URL = redis_server.url
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_503_when_redis_is_stopped(client, db, settings, redis_server):
    settings.CELERY_BROKER_URL = redis_server.url
    redis_server.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unavailable"}

    # and back to 200 when it returns
    redis_server.start()
    assert client.get("/healthz").status_code == 200
