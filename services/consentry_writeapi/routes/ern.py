"""``POST /v1/catalogue/ern``: a label's or distributor's DDEX ERN 4.3 / 4.3.2
``NewReleaseMessage``, as it delivers to every platform: its release's tracks, rights
holders, AI disclosure and shares written through the bulk import's path (a re-delivered
message changes nothing; an update replaces the records; a release with no deal in force
is taken down). Hostile or malformed messages are refused whole before anything is
registered, naming the message, element and line. Catalogue and admin tokens only."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from consentry_ern import ErnError, Message, read_message
from consentry_ern.catalogue import PartyRule, track_records
from consentry_ern.read import MAX_BYTES
from consentry_http import Caller, FieldProblem, Invalid, responses
from consentry_writeapi.authorise import may_register_tracks
from consentry_writeapi.deps import Importer, PartyRules
from consentry_writeapi.routes.tracks import import_result
from consentry_writeapi.schemas import ImportResult, TrackRequest

router = APIRouter(tags=["catalogue"])

ERN_MAX_BYTES = MAX_BYTES
"""The app's body limit for this path (every other route keeps ``max_body_bytes``)."""

EXAMPLE = files("consentry_ern").joinpath("example.xml").read_text()
"""A 4.3.2 single, the document's example (JSON Schema cannot describe an ERN message;
``tests/support/schemathesis_hooks.py`` sends it as the valid body)."""


class ErnImported(BaseModel):
    message_id: str
    version: str = Field(description="4.3 or 4.3.2 (only 4.3.2 carries AI disclosure).")
    release: str = Field(description="The release's ICPN (UPC/EAN).")
    taken_down: bool = Field(description="No deal in force: the release's tracks are retired.")
    tracks: ImportResult


def ern_refusal(error: ErnError) -> Invalid:
    """A refused message in the one error body: the element and line in ``errors``."""
    where = f"{error.element} (line {error.line})" if error.line else error.element
    msg = f"message {error.message_id}: {where}: {error.reason}"
    return Invalid([FieldProblem(loc=["body", error.element], msg=msg, type="invalid_ern")])


def records_of(data: bytes, rule: PartyRule) -> tuple[Message, list[dict[str, Any]]]:
    """The message and its track records, every one valid -- else ``Invalid``."""
    try:
        message = read_message(data)
        records = track_records(message, rule)
    except ErnError as error:
        raise ern_refusal(error) from None
    for record in records:
        try:
            TrackRequest.model_validate(record)
        except ValidationError as exc:
            reason = f"{record['isrc']}: {exc.errors(include_url=False)[0]['msg']}"
            refused = ErnError(message.message_id, "SoundRecording", None, reason)
            raise ern_refusal(refused) from None
    return message, records


@router.post(
    "/v1/catalogue/ern",
    response_model=ErnImported,
    responses=responses(400, 401, 403, 413, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/xml": {
                    "schema": {
                        "type": "string",
                        "description": "A DDEX ERN 4.3 or 4.3.2 NewReleaseMessage.",
                    },
                    "example": EXAMPLE,
                }
            },
        }
    },
)
async def import_ern(
    request: Request, principal: Caller, importer: Importer, rule: PartyRules
) -> ErnImported:
    """Import one ERN message's release into the catalogue (all of it, or nothing)."""
    may_register_tracks(principal)
    message, records = records_of(await request.body(), rule)
    done = await importer.run(records, principal.subject)
    return ErnImported(
        message_id=message.message_id,
        version=message.version,
        release=message.release.icpn,
        taken_down=message.takedown,
        tracks=import_result(done),
    )
