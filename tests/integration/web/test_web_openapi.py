"""The OpenAPI schema documents every endpoint with its response model."""

from __future__ import annotations

from typing import Any

from web_operator_support import TOKEN, RecordingOperator, api_client

from laicai.web import create_app

JSON_MODELS: dict[tuple[str, str], str] = {
    ("get", "/api/status"): "StatusOut",
    ("get", "/api/health"): "HealthOut",
    ("get", "/api/positions"): "PositionOut[]",
    ("get", "/api/pnl"): "PnlOut",
    ("get", "/api/funding"): "FundingOut[]",
    ("get", "/api/equity"): "EquityPointOut[]",
    ("get", "/api/resets"): "ResetOut[]",
    ("get", "/api/scan"): "ScanOut",
    ("get", "/api/alerts"): "AlertOut[]",
    ("get", "/api/log"): "LogOut",
    ("post", "/api/pause"): "CommandOut",
    ("post", "/api/resume"): "CommandOut",
    ("post", "/api/positions/{position_id}/close"): "CommandOut",
    ("post", "/api/close-all"): "CommandOut",
    ("get", "/healthz"): "HealthzOut",
}
OTHER: dict[tuple[str, str], str] = {
    ("get", "/api/events"): "text/event-stream",
    ("get", "/metrics"): "text/plain; version=1.0.0; charset=utf-8",
}
CONTROLS = [key for key in JSON_MODELS if key[0] == "post"]


def _model(schema: dict[str, Any]) -> str:
    if schema.get("type") == "array":
        return _model(schema["items"]) + "[]"
    ref: str = schema["$ref"]
    return ref.rsplit("/", 1)[1]


async def test_schema_lists_every_endpoint_with_its_model(operator: RecordingOperator) -> None:
    app = create_app(operator, token=TOKEN, host="127.0.0.1")
    async with api_client(app) as client:
        served = (await client.get("/api/openapi.json")).json()
    assert served == app.openapi()
    operations = {(method, path): op for path, ops in served["paths"].items()
                  for method, op in ops.items()}
    assert set(operations) == set(JSON_MODELS) | set(OTHER)
    for key, model in JSON_MODELS.items():
        ok = operations[key]["responses"]["200"]["content"]["application/json"]["schema"]
        assert _model(ok) == model, key
        assert operations[key].get("summary"), key
    for key, media in OTHER.items():
        assert media in operations[key]["responses"]["200"]["content"], key


async def test_controls_document_their_refusals(operator: RecordingOperator) -> None:
    schema = create_app(operator, token=None, host="127.0.0.1").openapi()
    for method, path in CONTROLS:
        responses = schema["paths"][path][method]["responses"]
        assert {"200", "401", "403", "409"} <= set(responses), path
    close_all = schema["paths"]["/api/close-all"]["post"]
    body = close_all["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/CloseAllIn")
    assert "confirm" in schema["components"]["schemas"]["CloseAllIn"]["properties"]


async def test_amounts_are_documented_as_decimal_strings(operator: RecordingOperator) -> None:
    schemas = create_app(operator, token=None, host="127.0.0.1").openapi()["components"]["schemas"]
    qty = schemas["PositionOut"]["properties"]["base_qty"]
    assert qty["type"] == "string" and qty["format"] == "decimal"
    liq = schemas["PositionOut"]["properties"]["liq_px"]
    assert {"type": "null"} in liq["anyOf"]
    assert any(s.get("type") == "string" for s in liq["anyOf"])
    assert schemas["PnlBreakdownOut"]["properties"]["total"]["type"] == "string"
