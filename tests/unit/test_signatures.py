"""Event signatures (issue 26): a batch signed as a Merkle tree, each record verified
on its own by its path; what a reader admits (signed by a trusted key, or legacy before
the cut-over) and what it refuses, with the reason."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentry_auth import generate_keys, key_set_json, parse_keys
from consentry_auth.keyset import KeySet
from consentry_events import CATALOGUE, CONSENT_CHANGES, ENFORCEMENT
from consentry_events.signing import KEY_ID, PATH, Verdict, leaf, root_of, tree
from consentry_kafka.signatures import CutOver, EventSigner, EventVerifier, Headers

TOPIC = CONSENT_CHANGES.name


def signer_and_keys(tmp_path: Path, name: str) -> tuple[EventSigner, KeySet]:
    private, public = generate_keys()
    path = tmp_path / f"{name}.pem"
    path.write_bytes(private)
    return EventSigner(path), KeySet(data=key_set_json(parse_keys(public)).encode())


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=40))
def test_every_leaf_s_path_leads_to_the_root(values: list[bytes]) -> None:
    leaves = [leaf(TOPIC, b"k", v) for v in values]
    root, paths = tree(leaves)
    assert [root_of(h, p) for h, p in zip(leaves, paths, strict=True)] == [root] * len(leaves)
    if len(leaves) > 1:  # a leaf on another's path does not reach the root
        assert root_of(leaves[0], paths[1]) != root or leaves[0] == leaves[1]


def test_a_leaf_binds_topic_key_and_value() -> None:
    assert (
        len({leaf(TOPIC, b"a", b"bc"), leaf(TOPIC, b"ab", b"c"), leaf(CATALOGUE.name, b"a", b"bc")})
        == 3
    )
    assert root_of(b"x" * 32, b"\x02" + b"y" * 32) is None  # a step that is neither side
    assert root_of(b"x" * 32, b"\x01" + b"y" * 31) is None  # a short step


def judge(
    verifier: EventVerifier, offset: int, key: bytes, value: bytes, headers: Headers
) -> Verdict:
    return verifier.verdict(TOPIC, 0, offset, key, value, headers)


def test_signed_batches_verify_and_tampering_is_refused(tmp_path: Path) -> None:
    signer, keys = signer_and_keys(tmp_path, "ours")
    verifier = EventVerifier(keys, CutOver({}))
    records = [(b"artist:%d" % i, b'{"n": %d}' % i) for i in range(5)]
    headers = signer.sign(TOPIC, records)
    for (key, value), found in zip(records, headers, strict=True):
        assert judge(verifier, 9, key, value, found) is Verdict.SIGNED
    assert judge(verifier, 9, b"artist:0", b'{"n": 1}', headers[0]) is Verdict.BAD_SIGNATURE
    assert judge(verifier, 9, b"artist:9", records[0][1], headers[0]) is Verdict.BAD_SIGNATURE
    assert verifier.verdict(CATALOGUE.name, 0, 9, *records[0], headers[0]) is Verdict.BAD_SIGNATURE
    # A path bent anywhere is refused, by a reader that has verified the batch's other
    # records as by one that has verified nothing: what it remembers never changes a verdict.
    path = dict(headers[0])[PATH]
    fresh = EventVerifier(keys, CutOver({}))
    for at in (1, len(path) - 1):
        bent = [
            (n, path[:at] + bytes([path[at] ^ 1]) + path[at + 1 :] if n == PATH else v)
            for n, v in headers[0]
        ]
        assert judge(verifier, 9, *records[0], bent) is Verdict.BAD_SIGNATURE
        assert judge(fresh, 9, *records[0], bent) is Verdict.BAD_SIGNATURE
    others = [(n, b"another-key" if n == KEY_ID else v) for n, v in headers[1]]
    assert judge(verifier, 9, *records[1], others) is Verdict.UNKNOWN_KEY
    assert judge(fresh, 9, *records[1], others) is Verdict.UNKNOWN_KEY
    assert verifier.verdict(TOPIC, 0, 9, None, records[0][1], headers[0]) is Verdict.BAD_SIGNATURE


def test_unknown_keys_unsigned_records_and_the_cut_over(tmp_path: Path) -> None:
    signer, keys = signer_and_keys(tmp_path, "ours")
    rogue, _ = signer_and_keys(tmp_path, "rogue")
    verifier = EventVerifier(keys, CutOver.parse(f"{TOPIC}:0=10"))
    record = (b"artist:x", b"{}")
    [foreign] = rogue.sign(TOPIC, [record])
    assert judge(verifier, 20, *record, foreign) is Verdict.UNKNOWN_KEY
    assert judge(verifier, 9, *record, []) is Verdict.LEGACY
    assert judge(verifier, 10, *record, []) is Verdict.UNSIGNED
    assert verifier.verdict(TOPIC, 1, 0, *record, []) is Verdict.UNSIGNED  # unnamed: all signed
    assert judge(verifier, 9, *record, foreign[:1]) is Verdict.UNSIGNED  # half a signature
    assert verifier.verdict(ENFORCEMENT.name, 0, 0, *record, []) is Verdict.NOT_JUDGED
    assert (
        EventVerifier(None, CutOver({})).verdict(
            TOPIC, 0, 0, *record, signer.sign(TOPIC, [record])[0]
        )
        is Verdict.UNKNOWN_KEY
    )


def test_a_retired_key_is_refused_even_for_roots_verified_before(tmp_path: Path) -> None:
    private, public = generate_keys()
    (tmp_path / "ours.pem").write_bytes(private)
    signer = EventSigner(tmp_path / "ours.pem")
    other = parse_keys(generate_keys()[1])
    key_set = tmp_path / "keys.json"
    key_set.write_text(key_set_json({**other, **parse_keys(public)}))
    verifier = EventVerifier(KeySet(key_set), CutOver({}))
    headers, *rest = signer.sign(TOPIC, [(b"k", b"v"), (b"k", b"w"), (b"k", b"x")])
    assert judge(verifier, 0, b"k", b"v", headers) is Verdict.SIGNED  # its tree remembered
    key_set.write_text(key_set_json(other))
    os.utime(key_set, ns=(1, 1))  # another modification time, whatever the clock's grain

    def retired() -> bool:  # w's path meets a node v's check remembered
        return judge(verifier, 0, b"k", b"w", rest[0]) is Verdict.UNKNOWN_KEY

    deadline = time.monotonic() + 3
    while not retired() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert retired(), "a key set reload forgets the roots verified with the retired key"


@pytest.mark.parametrize(
    "text",
    ["consentry.usage.v1:0=3", f"{TOPIC}=3", f"{TOPIC}:x=3", f"{TOPIC}:0=-1", "nonsense"],
)
def test_a_malformed_cut_over_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"signed topic|whole numbers"):
        CutOver.parse(text)


def test_a_cut_over_reads_back() -> None:
    text = f"{CATALOGUE.name}:2=0,{TOPIC}:0=120"
    assert CutOver.parse(text).text() == text
    assert CutOver.parse("").signed_from == {}
