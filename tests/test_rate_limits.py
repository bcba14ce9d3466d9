"""The API's rate limits cannot be escaped by changing headers (issue 13, point 6).

A scraper rotating its User-Agent on every request used to get a fresh client budget each time
(4,757 answers in 60 s, 40 times the limit). Now only the first RATELIMIT_IDENTITIES clients of
an address get a budget of their own in a window; later ones share one pooled budget, and the
address as a whole has a ceiling sized from the server's capacity. Riders behind the same
carrier address, already known, keep their own budget while the abuser is refused.
"""

import pytest

from app import create_app

NEAREST = "/api/v1/stations/nearest?lat=36.6171&lon=101.7782"


@pytest.fixture
def limited(seeded, database_url, clock):
    def make(**config):
        return create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "SECRET_KEY": "r",
                "CLOCK": clock,
                "RATELIMIT_CLIENT": "5 per minute",
                "RATELIMIT_IDENTITIES": "3 per minute",
                "RATELIMIT_ADDRESS": "40 per minute",
                **config,
            }
        ).test_client()

    return make


def get(client, agent: str, address: str = "198.51.100.7") -> int:
    return client.get(
        NEAREST, headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": address}
    ).status_code


def test_rotating_the_user_agent_buys_nothing_beyond_the_pool(limited):
    c = limited()
    rider = "Mozilla/5.0 (Linux; Android 14; Rider)"
    assert get(c, rider) == 200  # a rider of this carrier address, known before the flood
    flood = [get(c, f"scraper/{n}") for n in range(30)]
    # two places left for own budgets (one request each, the agent changes every time), then
    # the pool of one client budget (5): 7 answers, every other request refused
    assert flood.count(200) == 7 and flood[:7] == [200] * 7 and set(flood[7:]) == {429}
    # the neighbour on the same address still gets its own budget while the abuser is refused
    assert [get(c, rider) for _ in range(4)] == [200] * 4
    assert get(c, "scraper/next") == 429
    # another address is not touched by any of it
    assert get(c, "scraper/0", address="203.0.113.9") == 200


def test_a_refusal_says_when_to_come_back(limited):
    c = limited()
    for n in range(10):
        get(c, f"bot {n}")
    refused = c.get(
        NEAREST, headers={"User-Agent": "bot 99"}, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_reusing_each_identity_is_bounded_by_the_address_ceiling(limited):
    """A scraper that spends each identity's whole budget still meets the address's ceiling:
    three identities of 5 each and the pool of 5 make 20, under a ceiling of 12."""
    c = limited(RATELIMIT_ADDRESS="12 per minute")
    answers = [get(c, f"scraper/{n % 4}") for n in range(40)]
    assert answers.count(200) == 12
    assert get(c, "anyone", address="203.0.113.10") == 200


def test_a_partner_key_is_not_counted_among_the_identities(limited):
    c = limited()
    made = c.application.test_cli_runner().invoke(
        args=["key", "create", "hefei", "--region", "3401"]
    )
    key = made.output.strip()
    for n in range(10):
        get(c, f"scraper/{n}")
    answers = {c.get("/api/v1/stations", headers={"X-API-Key": key}).status_code for _ in range(8)}
    assert answers == {200}
