"""RFC 9457 problem details for every error of the JSON API (raised by the API's views and by
the gates in front of every view, so it sits below all of them)."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, json

TYPE_BASE = "https://amtstermin.de/problems/"


class ApiProblem(Exception):
    """An error answered as application/problem+json."""

    def __init__(self, status: int, title: str, detail: str = "", *, type_: str | None = None,
                 errors: dict[str, list[str]] | None = None, headers: dict | None = None, **extra: Any):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail or title
        self.type = TYPE_BASE + type_ if type_ else "about:blank"
        self.errors = errors
        self.extra = extra
        self.headers = headers or {}

    def response(self) -> Response:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        resp = current_app.response_class(json.dumps(body), status=self.status, mimetype="application/problem+json")
        for key, value in self.headers.items():
            resp.headers[key] = value
        return resp


def validation_problem(errors: dict[str, list[str]], detail: str | None = None) -> ApiProblem:
    first = next(iter(errors.items()))
    return ApiProblem(422, "Invalid input", detail or f"{first[0]}: {first[1][0]}", type_="validation-error",
                      errors=errors)
