"""GET /metrics: Prometheus text with requests by route template and status, and latencies."""

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy.orm import Session

from tests.factories import HJALLESE_GP, ODENSE_KOMMUNE, add_organisation

ORGANISATION_ROUTE = "/v1/organisations/{gln}"
SCANNED_PATH = "/wp-admin/setup-config.php"


@pytest.fixture
def exposition(client: TestClient, session: Session, admin_headers: dict[str, str]) -> str:
    """The metrics after two directory look-ups (one found, one not) and a scanner's probe."""
    add_organisation(session)
    assert client.get(f"/v1/organisations/{ODENSE_KOMMUNE}", headers=admin_headers).is_success
    assert client.get(f"/v1/organisations/{HJALLESE_GP}", headers=admin_headers).status_code == 404
    assert client.get(SCANNED_PATH).status_code == 404
    response = client.get("/metrics", headers=admin_headers)
    assert response.status_code == 200
    return response.text


def samples(exposition: str, name: str) -> list[Sample]:
    return [
        sample
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    ]


def request_count(exposition: str, **labels: str) -> float:
    return sum(
        sample.value
        for sample in samples(exposition, "sektorbro_http_requests_total")
        if labels.items() <= sample.labels.items()
    )


class TestExposition:
    def test_is_prometheus_text(self, client: TestClient, admin_headers: dict[str, str]) -> None:
        response = client.get("/metrics", headers=admin_headers)

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert "# TYPE sektorbro_http_requests_total counter" in response.text

    def test_counts_requests_by_method_route_template_and_status(self, exposition: str) -> None:
        assert "sektorbro_http_requests_total{" in exposition
        assert request_count(exposition, method="GET", route=ORGANISATION_ROUTE, status="200") == 1
        assert request_count(exposition, method="GET", route=ORGANISATION_ROUTE, status="404") == 1

    def test_never_names_a_concrete_gln(self, exposition: str) -> None:
        assert ODENSE_KOMMUNE not in exposition
        assert HJALLESE_GP not in exposition

    def test_labels_unmatched_paths_as_unmatched(self, exposition: str) -> None:
        assert request_count(exposition, route="unmatched", status="404") == 1
        assert SCANNED_PATH not in exposition

    def test_labels_the_documentation_routes_by_their_path(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        client.get("/openapi.json")
        exposition = client.get("/metrics", headers=admin_headers).text

        assert request_count(exposition, route="/openapi.json", status="200") == 1

    def test_has_a_latency_histogram_per_route(self, exposition: str) -> None:
        buckets = [
            sample
            for sample in samples(exposition, "sektorbro_http_request_duration_seconds_bucket")
            if sample.labels["route"] == ORGANISATION_ROUTE
        ]

        assert "sektorbro_http_request_duration_seconds_bucket{" in exposition
        assert len(buckets) > 1
        assert {"le": "+Inf", "method": "GET", "route": ORGANISATION_ROUTE} in [
            sample.labels for sample in buckets
        ]
        assert max(sample.value for sample in buckets) == 2

    def test_the_latency_histogram_has_buckets_below_five_milliseconds(
        self, exposition: str
    ) -> None:
        bounds = {
            float(sample.labels["le"])
            for sample in samples(exposition, "sektorbro_http_request_duration_seconds_bucket")
        }

        assert min(bounds) < 0.005

    def test_counts_problems_too(self, client: TestClient, admin_headers: dict[str, str]) -> None:
        client.get("/v1/organisations")

        exposition = client.get("/metrics", headers=admin_headers).text

        assert request_count(exposition, route="/v1/organisations", status="401") == 1

    def test_a_new_app_has_counted_nothing_yet(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        exposition = client.get("/metrics", headers=admin_headers).text

        assert request_count(exposition) == 0
