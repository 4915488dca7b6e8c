"""Errors as JSON: every 4xx and 5xx the service sends has a body naming the problem.

    raise ApiError(400, "size_sqm must be a number", field="size_sqm")

gives `{"error": {"status": 400, "message": "size_sqm must be a number", "field": "size_sqm"}}`.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the service refuses, with the status and the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class BackendUnavailable(Exception):
    """The database failed and no stale cached answer could stand in for it."""


def error_response(status: int, message: str, field: str | None = None) -> Response:
    body: dict[str, object] = {"status": status, "message": message}
    if field is not None:
        body["field"] = field
    response = jsonify(error=body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    """Install the JSON error handlers on `app`."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.field)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(BackendUnavailable)
    def _backend_down(exc: BackendUnavailable) -> Response:
        return error_response(503, "the database is unavailable; try again shortly")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error")
        return error_response(500, "internal error")
