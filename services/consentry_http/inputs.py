"""What a request carries, read one way whichever way it came in.

An operation that has a fast path (``consentry_http.fast``) reads its request as a
``Call`` -- headers, query string, body -- through the functions here, so the framework
route and the fast path refuse the same requests with the same answers: each rule
(a parameter given twice, the Idempotency-Key's form, the body's JSON and model) exists
once. ``documented`` puts what the functions accept into the OpenAPI document, since the
framework does not parse these inputs itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError

from consentry_http.problems import FieldProblem, Invalid, field_problem, invalid_field

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

SCHEMAS_MARK = "x-consentry-schemas"
"""On an operation's ``openapi_extra``: schemas the app moves into ``components``."""
RULES_MARK = "x-consentry-rules"
"""On an operation in the OpenAPI document: the rules between fields of its body that
JSON Schema cannot say, machine-readable (``after``, ``differs``, ``empty``, ``shares``,
``recent``, ``sums``),
so a client generator or a fuzzer can honour them; each is also in the fields' descriptions."""
Rule = dict[str, str]


def after(field: str, than: str) -> Rule:
    """When both are given, ``field`` (a moment) must be later than ``than``."""
    return {"after": field, "than": than}


def differs(field: str, other: str) -> Rule:
    """``field`` must not equal ``other``."""
    return {"differs": field, "from": other}


def empty_when_null(field: str, other: str) -> Rule:
    """``field`` (a list) must be empty when ``other`` is null."""
    return {"empty": field, "when_null": other}


def shares_of(field: str, holders: str) -> Rule:
    """``field`` lists shares (``party``, ``side``, ``basis_points``): each held by one of
    ``holders``, once per side, and those of a side sum to 10,000."""
    return {"shares": field, "of": holders}


def recent(field: str, items: str, within_s: float) -> Rule:
    """Each of ``items`` has ``field`` (a moment) at most ``within_s`` seconds before the
    request (and not in its future) -- the default; a deployment may configure another."""
    return {"recent": field, "in": items, "within_s": f"{within_s:g}"}


def sums_to_one(field: str, value: str, per: tuple[str, str]) -> Rule:
    """``field`` lists items whose ``value`` sums to 1 (within 0.0001) for each value of
    ``per[1]``, one item per (``per[0]``, ``per[1]``)."""
    return {"sums": field, "value": value, "once_per": per[0], "by": per[1]}


def body_rules(*rules: Rule) -> dict[str, Any]:
    """``openapi_extra`` saying an operation's cross-field rules."""
    return {RULES_MARK: list(rules)}


@dataclass(frozen=True, slots=True)
class Call:
    """A request as the operations read it, from the framework or straight from ASGI."""

    headers: Sequence[tuple[bytes, bytes]]
    query_string: bytes = b""
    read_body: Callable[[], Awaitable[bytes]] | None = None
    state: Any = None
    """The app's ``state``: what the composition root built at start-up."""
    _body: list[bytes] = field(default_factory=list)

    @classmethod
    def of(cls, request: Request) -> Call:
        scope = request.scope
        return cls(scope["headers"], scope["query_string"], request.body, request.app.state)

    def header(self, name: bytes) -> list[str]:
        """Every value of the header ``name`` (lower case), in order."""
        return [v.decode("latin-1") for k, v in self.headers if k == name]

    async def body(self) -> bytes:
        if not self._body:
            self._body.append(b"" if self.read_body is None else await self.read_body())
        return self._body[0]


def single_values(pairs: Sequence[tuple[str, str]], where: str = "query") -> dict[str, str]:
    """Each parameter's value; one given twice is refused (which one would count is a
    guess)."""
    values = dict(pairs)
    if len(values) != len(pairs):
        names = [name for name, _ in pairs]
        twice = sorted({n for n in names if names.count(n) > 1})
        raise Invalid(
            FieldProblem(loc=[where, n], msg=f"{n} is given more than once", type="value_error")
            for n in twice
        )
    return values


def query_of(model: type[M], call: Call) -> M:
    """The query string as ``model`` (422 naming every parameter at fault)."""
    pairs = parse_qsl(call.query_string.decode("latin-1"), keep_blank_values=True)
    try:
        return model.model_validate(single_values(pairs))
    except ValidationError as exc:
        raise _invalid(exc, "query") from None


async def json_body(adapter: TypeAdapter[T], call: Call) -> T:
    """The body as ``adapter``'s type: JSON when the content type says so (or says
    nothing), the raw bytes otherwise (and so refused); 422 naming every field at fault."""
    body = await call.body()
    content_types = call.header(b"content-type")
    try:
        if content_types and not _is_json(content_types[0]):
            return adapter.validate_python(body)
        return adapter.validate_json(body or b"null")
    except ValidationError as exc:
        raise _invalid(exc, "body") from None


def _is_json(content_type: str) -> bool:
    kind = content_type.partition(";")[0].strip().lower()
    main, _, sub = kind.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def _invalid(exc: ValidationError, where: str) -> Invalid:
    errors = exc.errors(include_url=False)
    return Invalid(field_problem({**e, "loc": (where, *e["loc"])}) for e in errors)


IDEMPOTENCY_KEY = "Idempotency-Key"
_KEY = TypeAdapter[str](
    Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]
)
KEY_DESCRIPTION = (
    "Retry with the same key: the first answer comes back, no second event. A key is one "
    "request's: sent again with another body it is refused (422, as the IETF "
    "Idempotency-Key draft says); while its first request is being written, 409."
)
KEY_DOC: dict[str, Any] = {
    "name": IDEMPOTENCY_KEY,
    "in": "header",
    "required": False,
    "description": KEY_DESCRIPTION,
    "schema": _KEY.json_schema(),
}


def idempotency_key(call: Call) -> str | None:
    """The request's Idempotency-Key: printable ASCII without spaces, 1 to 200
    characters, sent once (or not at all)."""
    values = call.header(b"idempotency-key")
    if not values:
        return None
    where = ["header", IDEMPOTENCY_KEY]
    if len(values) > 1:
        raise invalid_field(where, f"{IDEMPOTENCY_KEY} is given more than once")
    try:
        return _KEY.validate_python(values[0])
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        raise invalid_field(where, str(error["msg"]), str(error["type"])) from None


def documented(
    *,
    body: TypeAdapter[Any] | None = None,
    body_name: str = "Body",
    query: type[BaseModel] | None = None,
    headers: Sequence[Mapping[str, Any]] = (),
    rules: Sequence[Rule] = (),
) -> dict[str, Any]:
    """``openapi_extra`` for an operation whose inputs are read here: its body, query
    parameters and headers as the functions above accept them, its body's cross-field
    ``rules``, and bearer security."""
    extra: dict[str, Any] = {"security": [{"HTTPBearer": []}], "parameters": list(headers)}
    if rules:
        extra |= body_rules(*rules)
    schemas: dict[str, Any] = {}
    if query is not None:
        schema = query.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas |= schema.pop("$defs", {})
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            parameter = {"name": name, "in": "query", "required": name in required}
            if "description" in prop:
                parameter["description"] = prop["description"]
            extra["parameters"].append(parameter | {"schema": prop})
    if body is not None:
        schema = body.json_schema(ref_template="#/components/schemas/{model}")
        schemas |= schema.pop("$defs", {})
        extra["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema | {"title": body_name}}},
        }
    if schemas:
        extra[SCHEMAS_MARK] = schemas
    return extra
