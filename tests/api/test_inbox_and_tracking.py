"""The receiver's inbox (GET /v1/inbox, GET /v1/inbox/{id}) and tracking (GET /v1/messages…)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import orm
from tests.api.helpers import assert_problem, post_plan, rules_by_field
from tests.factories import HJALLESE_GP, ISHOEJ_KOMMUNE, ODENSE_HOSPITAL, ODENSE_KOMMUNE

Keys = dict[str, dict[str, str]]


@pytest.fixture
def plan(client: TestClient, keys: Keys) -> dict[str, Any]:
    """The reference plan, sent."""
    response = post_plan(client, keys[ODENSE_HOSPITAL])
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def delivery_to(plan: dict[str, Any], gln: str) -> dict[str, Any]:
    return next(d for d in plan["deliveries"] if d["receiver_gln"] == gln)


class TestInbox:
    def test_the_kommune_finds_the_plan_in_its_inbox_as_ggop(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        page = client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()

        [item] = page["items"]
        assert item["message_id"] == plan["message_id"]
        assert item["sender_gln"] == ODENSE_HOSPITAL
        assert item["letter_id"] == "OUH2026112001"
        assert item["type"] == "plan"
        assert item["format"] == "GGOP"
        assert item["envelope_id"] == delivery_to(plan, ODENSE_KOMMUNE)["envelope_id"]
        assert "<TypeCode>GGOP</TypeCode>" in item["xml"]
        assert page["next_cursor"] is None

    def test_the_gp_finds_an_xdis91_letter_in_its_inbox(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        [item] = client.get("/v1/inbox", headers=keys[HJALLESE_GP]).json()["items"]

        assert item["format"] == "XDIS91"
        assert "Genoptræningsplan (almen)" in item["xml"]

    def test_the_sender_has_nothing_in_its_inbox(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        assert client.get("/v1/inbox", headers=keys[ODENSE_HOSPITAL]).json()["items"] == []

    def test_polling_again_returns_the_same_deliveries(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        first = client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()

        again = client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()

        assert again["items"] == first["items"]

    def test_pages_follow_each_other_oldest_first(self, client: TestClient, keys: Keys) -> None:
        sent = [
            post_plan(client, keys[ODENSE_HOSPITAL], letter_id=f"OUH{i}").json()["message_id"]
            for i in range(3)
        ]

        first = client.get("/v1/inbox?limit=2", headers=keys[ODENSE_KOMMUNE]).json()
        second = client.get(
            f"/v1/inbox?limit=2&cursor={first['next_cursor']}", headers=keys[ODENSE_KOMMUNE]
        ).json()

        received = [item["message_id"] for item in first["items"] + second["items"]]
        assert sorted(received) == sorted(sent)
        assert len(first["items"]) == 2
        assert second["next_cursor"] is None

    def test_a_cursor_that_is_not_ours_is_a_422(self, client: TestClient, keys: Keys) -> None:
        response = client.get("/v1/inbox?cursor=bm9wZQ", headers=keys[ODENSE_KOMMUNE])

        assert rules_by_field(assert_problem(response, 422, "validation_failed")) == {
            "cursor": "cursor_invalid"
        }

    def test_a_long_poll_on_a_full_inbox_answers_at_once(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        page = client.get("/v1/inbox?wait=30", headers=keys[ODENSE_KOMMUNE]).json()

        assert len(page["items"]) == 1

    def test_a_wait_over_30_seconds_is_a_422(self, client: TestClient, keys: Keys) -> None:
        response = client.get("/v1/inbox?wait=31", headers=keys[ODENSE_KOMMUNE])

        assert rules_by_field(assert_problem(response, 422, "validation_failed")) == {
            "wait": "less_than_equal"
        }

    def test_listing_the_inbox_is_audited_per_delivery(
        self, client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
    ) -> None:
        client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE])

        events = session.scalars(
            select(orm.AuditEvent).where(orm.AuditEvent.action == "inbox.listed")
        ).all()
        assert [e.delivery_id for e in events] == [delivery_to(plan, ODENSE_KOMMUNE)["delivery_id"]]


class TestFetchDelivery:
    def test_fetching_a_delivery_marks_it_fetched(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        delivery_id = delivery_to(plan, ODENSE_KOMMUNE)["delivery_id"]

        item = client.get(f"/v1/inbox/{delivery_id}", headers=keys[ODENSE_KOMMUNE]).json()

        assert item["status"] == "fetched"
        tracking = client.get(
            f"/v1/messages/{plan['message_id']}", headers=keys[ODENSE_HOSPITAL]
        ).json()
        history = delivery_to(tracking, ODENSE_KOMMUNE)["status_history"]
        assert [step["status"] for step in history] == ["available", "fetched"]

    def test_a_fetched_delivery_stays_in_the_inbox_until_acknowledged(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        delivery_id = delivery_to(plan, ODENSE_KOMMUNE)["delivery_id"]
        client.get(f"/v1/inbox/{delivery_id}", headers=keys[ODENSE_KOMMUNE])

        [item] = client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()["items"]

        assert item["status"] == "fetched"

    def test_accept_xml_gives_the_document_byte_for_byte(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        delivery_id = delivery_to(plan, ODENSE_KOMMUNE)["delivery_id"]
        item = client.get(f"/v1/inbox/{delivery_id}", headers=keys[ODENSE_KOMMUNE]).json()

        response = client.get(
            f"/v1/inbox/{delivery_id}",
            headers=keys[ODENSE_KOMMUNE] | {"Accept": "application/xml"},
        )

        assert response.headers["content-type"] == "application/xml; charset=ISO-8859-1"
        assert response.content == item["xml"].encode("iso-8859-1")
        assert "Strøm".encode("iso-8859-1") in response.content

    def test_another_organisations_delivery_is_not_found(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        delivery_id = delivery_to(plan, ODENSE_KOMMUNE)["delivery_id"]

        response = client.get(f"/v1/inbox/{delivery_id}", headers=keys[HJALLESE_GP])

        assert_problem(response, 404, "not_found")


class TestTracking:
    def test_the_sender_sees_every_delivery(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        tracking = client.get(
            f"/v1/messages/{plan['message_id']}", headers=keys[ODENSE_HOSPITAL]
        ).json()

        assert {d["receiver_gln"] for d in tracking["deliveries"]} == {ODENSE_KOMMUNE, HJALLESE_GP}
        assert tracking["deadline"] == "2026-11-27"
        assert tracking["plan_type"] == "almen"

    def test_a_receiver_sees_only_its_own_delivery(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        tracking = client.get(
            f"/v1/messages/{plan['message_id']}", headers=keys[HJALLESE_GP]
        ).json()

        assert [d["receiver_gln"] for d in tracking["deliveries"]] == [HJALLESE_GP]

    def test_an_outsider_gets_404(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = client.get(f"/v1/messages/{plan['message_id']}", headers=keys[ISHOEJ_KOMMUNE])

        assert_problem(response, 404, "not_found")

    @pytest.mark.parametrize(
        ("reader", "query", "count"),
        [
            (ODENSE_HOSPITAL, "", 1),
            (ODENSE_HOSPITAL, "?direction=sent", 1),
            (ODENSE_HOSPITAL, "?direction=received", 0),
            (ODENSE_KOMMUNE, "?direction=received", 1),
            (ODENSE_KOMMUNE, "?type=plan", 1),
            (ODENSE_KOMMUNE, "?type=letter", 0),
            (ODENSE_KOMMUNE, "?status=available", 1),
            (ODENSE_KOMMUNE, "?status=fetched", 0),
            (ODENSE_KOMMUNE, "?patient_cpr=251248-4916", 1),
            (ODENSE_KOMMUNE, "?patient_cpr=0201609995", 0),
            (ODENSE_KOMMUNE, "?since=2026-11-23T09:00:00Z", 1),
            (ODENSE_KOMMUNE, "?since=2026-11-23T09:00:01Z", 0),
            (ISHOEJ_KOMMUNE, "", 0),
        ],
    )
    def test_the_message_list_filters(
        self,
        client: TestClient,
        keys: Keys,
        plan: dict[str, Any],
        reader: str,
        query: str,
        count: int,
    ) -> None:
        page = client.get(f"/v1/messages{query}", headers=keys[reader]).json()

        assert len(page["items"]) == count

    def test_a_search_by_cpr_is_audited_under_a_keyed_hash(
        self, client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
    ) -> None:
        client.get("/v1/messages?patient_cpr=2512484916", headers=keys[ODENSE_KOMMUNE])

        [event] = session.scalars(
            select(orm.AuditEvent).where(orm.AuditEvent.action == "messages.searched")
        ).all()
        message = session.get(orm.Message, plan["message_id"])
        assert message is not None
        assert event.patient_ref == message.patient_ref
        assert len(event.patient_ref or "") == 64

    def test_a_malformed_cpr_in_the_search_is_a_422(self, client: TestClient, keys: Keys) -> None:
        response = client.get("/v1/messages?patient_cpr=12345", headers=keys[ODENSE_KOMMUNE])

        assert rules_by_field(assert_problem(response, 422, "validation_failed")) == {
            "patient_cpr": "cpr_format"
        }

    def test_the_message_list_pages_newest_first(self, client: TestClient, keys: Keys) -> None:
        for i in range(3):
            post_plan(client, keys[ODENSE_HOSPITAL], letter_id=f"OUH{i}")

        first = client.get("/v1/messages?limit=2", headers=keys[ODENSE_KOMMUNE]).json()
        second = client.get(
            f"/v1/messages?limit=2&cursor={first['next_cursor']}", headers=keys[ODENSE_KOMMUNE]
        ).json()

        letters = [m["letter_id"] for m in first["items"] + second["items"]]
        assert sorted(letters) == ["OUH0", "OUH1", "OUH2"]
        assert second["next_cursor"] is None
