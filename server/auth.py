"""Who may call what: bearer tokens with scopes (``serve --auth-tokens FILE``), client
certificates (``serve --tls-client-ca FILE``), TLS credentials that reload on SIGHUP, and what
the audit trail records of a call. See docs/security.md.

A tokens file holds only hashes of the tokens::

    {"tokens": [{"name": "checkout", "sha256": "<hex of sha256(token)>",
                 "scopes": ["routing.plan"]}]}

Callers send ``authorization: Bearer <token>``. Every RPC needs one scope
(:data:`METHOD_SCOPES`); ``admin`` grants them all.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from omniroute.server.application import ServiceFailure

SCOPES = (
    "routing.plan",
    "routing.reserve",
    "inventory.read",
    "inventory.write",
    "network.read",
    "network.write",
    "scenario.run",
    "admin",
)
ROUTING = "omniroute.v1.RoutingService"
INVENTORY = "omniroute.v1.InventoryService"
NETWORK = "omniroute.v1.NetworkService"
SCENARIO = "omniroute.v1.ScenarioService"
ORDERS = "omniroute.v1.OrderService"
OPERATIONS = "google.longrunning.Operations"

#: The scope each RPC needs ("Service/Method"); PlanOrder and StreamPlanOrders messages with
#: ``reserve`` need ``routing.reserve`` instead (see :func:`scope_of`).
METHOD_SCOPES: dict[str, str] = {
    **{
        f"{ROUTING}/{m}": "routing.plan"
        for m in (
            "PlanOrder",
            "StreamPlanOrders",
            "PlanOrders",
            "QuoteDelivery",
            "CheckAvailability",
            "GetOrderPlan",
        )
    },
    f"{ROUTING}/RerouteOrder": "routing.reserve",
    f"{ROUTING}/PlanReturn": "routing.reserve",
    **{
        f"{INVENTORY}/{m}": "inventory.read"
        for m in (
            "GetStock",
            "ListStockPositions",
            "GetReservation",
            "WatchEvents",
            "ListInboundSupply",
        )
    },
    **{
        f"{INVENTORY}/{m}": "inventory.write"
        for m in (
            "UpdateStock",
            "CommitReservation",
            "ReleaseReservation",
            "ReceiveReturn",
            "PutInboundSupply",
            "ReceiveInboundSupply",
        )
    },
    f"{ORDERS}/GetOrderStatus": "inventory.read",
    f"{ORDERS}/ListOrders": "inventory.read",
    **{
        f"{ORDERS}/{m}": "inventory.write"
        for m in ("ConfirmShipment", "ConfirmDelivery", "CancelOrder")
    },
    f"{NETWORK}/GetNetwork": "network.read",
    f"{NETWORK}/PutNetwork": "network.write",
    f"{NETWORK}/PutDemandForecast": "network.write",
    f"{SCENARIO}/StartScenario": "scenario.run",
    **{
        f"{OPERATIONS}/{m}": "scenario.run"
        for m in (
            "GetOperation",
            "ListOperations",
            "WaitOperation",
            "CancelOperation",
            "DeleteOperation",
        )
    },
}

#: RPCs that change state, recorded in the audit trail (PlanOrder and StreamPlanOrders
#: messages only when they reserve; no call with ``validate_only``).
STATE_CHANGING = frozenset(
    {
        f"{ROUTING}/RerouteOrder",
        f"{ROUTING}/PlanReturn",
        f"{INVENTORY}/UpdateStock",
        f"{INVENTORY}/CommitReservation",
        f"{INVENTORY}/ReleaseReservation",
        f"{INVENTORY}/ReceiveReturn",
        f"{INVENTORY}/PutInboundSupply",
        f"{INVENTORY}/ReceiveInboundSupply",
        f"{ORDERS}/ConfirmShipment",
        f"{ORDERS}/ConfirmDelivery",
        f"{ORDERS}/CancelOrder",
        f"{NETWORK}/PutNetwork",
        f"{NETWORK}/PutDemandForecast",
        f"{SCENARIO}/StartScenario",
        f"{OPERATIONS}/CancelOperation",
        f"{OPERATIONS}/DeleteOperation",
    }
)
RESERVING = frozenset({f"{ROUTING}/PlanOrder", f"{ROUTING}/StreamPlanOrders"})


class Unauthenticated(ServiceFailure):
    """No credentials, or credentials this server does not know."""

    reason = "UNAUTHENTICATED"


class MissingScope(ServiceFailure):
    """The caller is known but may not call this RPC."""

    reason = "MISSING_SCOPE"


class RateLimited(ServiceFailure):
    """The caller sent more calls than ``serve --rate-limit`` allows."""

    reason = "RATE_LIMITED"


class RateLimiter:
    """A token bucket per principal: ``rate`` calls a second on average, bursts of up to
    ``burst`` (default: one second's worth). Kept per server process."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, principal: str) -> None:
        """Spend one call of ``principal``'s allowance, or :class:`RateLimited`."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(principal, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[principal] = (tokens - 1.0 if allowed else tokens, now)
        if not allowed:
            raise RateLimited(
                f"{principal!r} is over its rate limit of {self.rate:g} calls/s; retry later",
                {"principal": principal, "callsPerSecond": f"{self.rate:g}"},
            )


class AuthConfigError(Exception):
    """A tokens, certificate or key file that cannot be used (the server does not start)."""


def scope_of(method: str, request: Any = None) -> str:
    """The scope ``method`` needs for ``request`` (``admin`` for an RPC not listed)."""
    if method in RESERVING and getattr(request, "reserve", False):
        return "routing.reserve"
    return METHOD_SCOPES.get(method, "admin")


def changes_state(method: str, request: Any) -> bool:
    """Whether a call is recorded in the audit trail."""
    if getattr(request, "validate_only", False):
        return False
    if method in RESERVING:
        return bool(getattr(request, "reserve", False))
    return method in STATE_CHANGING


def resource_of(request: Any) -> str:
    """What a call touched, for the audit trail (ids only, never secrets or whole bodies)."""
    order_id = str(getattr(getattr(request, "order", None), "id", "") or "")
    if order_id:
        return f"order {order_id}"
    for field, label in (
        ("reservation_id", "reservation"),
        ("return_id", "return"),
        ("order_id", "order"),
        ("name", "operation"),
    ):
        value = getattr(request, field, "")
        if isinstance(value, str) and value:
            return f"{label} {value}"
    updates = getattr(request, "updates", None)
    if updates is not None:
        positions = [f"{u.node_id}/{u.sku_id}" for u in list(updates)[:5]]
        more = f" and {len(updates) - 5} more" if len(updates) > 5 else ""
        return f"stock {', '.join(positions)}{more}"
    if hasattr(request, "network"):
        return "network"
    return ""


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


ANONYMOUS = Principal("anonymous", frozenset({"admin"}))  # a server without authentication
#: The caller of the call in progress (set by the interceptor; asyncio tasks inherit it).
CALLER: contextvars.ContextVar[Principal] = contextvars.ContextVar("caller", default=ANONYMOUS)


def new_token() -> tuple[str, str]:
    """A fresh random token and the sha256 hex a tokens file stores for it."""
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def read_tokens(path: str | Path) -> dict[str, Principal]:
    """sha256 hex -> principal, from a tokens file; :class:`AuthConfigError` naming every
    problem when the file cannot be used."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AuthConfigError(f"tokens file {path}: {error}") from None
    problems: list[str] = []
    tokens: dict[str, Principal] = {}
    names: set[str] = set()
    entries = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise AuthConfigError(f'tokens file {path}: expected {{"tokens": [...]}}')
    for i, entry in enumerate(entries):
        where = f"tokens[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be an object")
            continue
        name, digest, scopes = entry.get("name"), entry.get("sha256"), entry.get("scopes")
        if not isinstance(name, str) or not name:
            problems.append(f"{where}.name: is required")
        elif name in names:
            problems.append(f"{where}.name: {name!r} is used twice")
        if not isinstance(digest, str) or len(digest) != 64 or not _is_hex(digest):
            problems.append(f"{where}.sha256: must be 64 hex digits (sha256 of the token)")
        if not isinstance(scopes, list) or not scopes:
            problems.append(f"{where}.scopes: at least one scope is required")
            scopes = []
        for scope in scopes:
            if scope not in SCOPES:
                problems.append(f"{where}.scopes: unknown scope {scope!r} (known: {SCOPES})")
        if isinstance(name, str) and isinstance(digest, str):
            names.add(name)
            tokens[digest.lower()] = Principal(name, frozenset(map(str, scopes)))
    if problems:
        raise AuthConfigError(f"tokens file {path}: " + "; ".join(problems))
    return tokens


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


class Authenticator:
    """Finds the principal of a call from its metadata and its client certificate."""

    def __init__(self, tokens_file: str | None = None, client_certificates: bool = False):
        self.tokens_file = tokens_file
        self.client_certificates = client_certificates
        self._lock = threading.Lock()
        self._tokens = read_tokens(tokens_file) if tokens_file else {}

    @property
    def enabled(self) -> bool:
        return self.tokens_file is not None or self.client_certificates

    def reload(self) -> None:
        """Read the tokens file again (SIGHUP); a file that cannot be used keeps the old."""
        if self.tokens_file:
            tokens = read_tokens(self.tokens_file)
            with self._lock:
                self._tokens = tokens

    def principal(self, metadata: Iterable[tuple[str, Any]], auth: Mapping[str, Any]) -> Principal:
        """The caller; :class:`Unauthenticated` when credentials are missing or unknown."""
        if not self.enabled:
            return ANONYMOUS
        subject = _certificate_subject(auth)
        if self.client_certificates and not subject:
            raise Unauthenticated("a client certificate is required")
        if not self.tokens_file:  # certificates alone: every verified client may do all
            return Principal(subject, frozenset({"admin"}))
        header = next((str(v) for k, v in metadata if k == "authorization"), "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("send 'authorization: Bearer <token>'")
        digest = hashlib.sha256(token.strip().encode()).hexdigest()
        with self._lock:
            found = next(
                (p for d, p in self._tokens.items() if hmac.compare_digest(d, digest)), None
            )
        if found is None:
            raise Unauthenticated("unknown token")
        return found


def _certificate_subject(auth: Mapping[str, Any]) -> str:
    for key in ("x509_subject", "x509_common_name"):
        values = auth.get(key)
        if values:
            value = values[0]
            return value.decode() if isinstance(value, bytes) else str(value)
    return ""


def require(principal: Principal, method: str, request: Any = None) -> None:
    """:class:`MissingScope` unless ``principal`` may make this call."""
    scope = scope_of(method, request)
    if not principal.may(scope):
        raise MissingScope(
            f"{principal.name!r} may not call {method.rsplit('/', 1)[-1]}: it needs scope "
            f"{scope!r}",
            {"scope": scope, "principal": principal.name},
        )


class TlsFiles:
    """Server credentials from certificate files, read again on :meth:`reload` (SIGHUP):
    new connections get the new certificate, open ones are not dropped."""

    def __init__(self, cert: str, key: str, client_ca: str | None = None) -> None:
        self.cert, self.key, self.client_ca = cert, key, client_ca
        self._config = self._read()
        self._pending: grpc.ServerCertificateConfiguration | None = None

    def _read(self) -> grpc.ServerCertificateConfiguration:
        try:
            pair = (Path(self.key).read_bytes(), Path(self.cert).read_bytes())
            ca = Path(self.client_ca).read_bytes() if self.client_ca else None
        except OSError as error:
            raise AuthConfigError(f"TLS file: {error}") from None
        for name, data in (("--tls-cert", pair[1]), ("--tls-key", pair[0])):
            if b"-----BEGIN" not in data:
                raise AuthConfigError(f"{name}: not a PEM file")
        return grpc.ssl_server_certificate_configuration([pair], root_certificates=ca)

    def reload(self) -> None:
        self._pending = self._read()

    def credentials(self) -> grpc.ServerCredentials:
        def fetch() -> grpc.ServerCertificateConfiguration | None:
            pending, self._pending = self._pending, None
            return pending

        return grpc.dynamic_ssl_server_credentials(
            self._config, fetch, require_client_authentication=self.client_ca is not None
        )
