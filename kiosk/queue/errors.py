"""Domain errors: each carries a stable code, an HTTP status and an Indonesian message."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the caller can act on; mapped to HTTP in one place (middlewares)."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.headers = headers or {}


class BadRequest(DomainError):
    """The request is malformed."""

    code, status = "bad_request", 400


class NotFound(DomainError):
    """The thing asked for does not exist."""

    code, status = "not_found", 404


class Conflict(DomainError):
    """The request clashes with the current state."""

    code, status = "conflict", 409


class InvalidTransition(Conflict):
    """A ticket cannot move from its state to the one asked."""

    code = "invalid_transition"


class Unprocessable(DomainError):
    """The request is well formed but a value is unacceptable."""

    code, status = "unprocessable", 422


class Unauthorized(DomainError):
    """No or wrong credentials."""

    code, status = "unauthorized", 401


class Forbidden(DomainError):
    """Logged in, but not allowed to do this."""

    code, status = "forbidden", 403


class TooManyRequests(DomainError):
    """A client is going too fast."""

    code, status = "rate_limited", 429

    def __init__(self, message: str, retry_after: float, *, code: str | None = None) -> None:
        super().__init__(message, code=code, headers={"Retry-After": str(max(1, int(retry_after + 0.999)))})
        self.retry_after = retry_after


class Unavailable(DomainError):
    """The store cannot take writes right now (disk full, read-only, locked)."""

    code, status = "storage_unavailable", 503
