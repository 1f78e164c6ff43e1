"""Fuzzing the signalling socket (hypothesis): generated frames from a member of another company (and
from a colleague in another room) never crash the consumer, never reach a socket of another room or
company, and a rejected frame closes the socket with one of the documented codes (calls.protocol).

Observers: Alice and Bob in their company's lobby. Attackers: Eve (another company, in her own lobby)
and Carol (same company, another room). The frames mix arbitrary text and JSON with well-formed
messages aimed at the observers' room and participant IDs. After each frame the attacker sends a
probe (a signal to nobody) whose error answer marks the end of what that frame caused.
"""

from __future__ import annotations

import json
import os
import uuid

from calls import protocol
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_calls_socket import Socket, World, joined, unblocked, world  # noqa: F401  (fixtures)

EXAMPLES = int(os.environ.get("KAKOI_FUZZ_EXAMPLES", "60"))
ALLOWED_CLOSE = {protocol.CLOSE_INVALID, protocol.CLOSE_TOO_LARGE, protocol.CLOSE_RATE_LIMITED}
TARGETS: dict[str, str] = {}  # set per example: the IDs the drawn attacker aims at

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
ids = st.sampled_from(["t1", "t2", "t3", "t4"]).map(lambda key: TARGETS[key]) | st.uuids().map(str) | st.text(max_size=40)
sdp = st.text(max_size=200) | st.just("x" * (protocol.MAX_SDP_CHARS + 1))
signal_data = st.one_of(
    st.fixed_dictionaries({"kind": st.sampled_from(["offer", "answer"]), "sdp": sdp}),
    st.fixed_dictionaries(
        {
            "kind": st.just("candidate"),
            "candidate": st.fixed_dictionaries(
                {"candidate": st.text(max_size=80)}, optional={"sdpMid": json_values, "sdpMLineIndex": json_values}
            ),
        }
    ),
    json_values,
)
messages = st.one_of(
    st.fixed_dictionaries({"type": st.just("join"), "room": ids}),
    st.fixed_dictionaries({"type": st.just("signal"), "to": ids, "data": signal_data}),
    st.fixed_dictionaries({"type": st.sampled_from(["media"]), "audio": json_values, "video": json_values}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["leave", "join", "signal", "media", "turn", "joined", "peer.signal", ""])},
        optional={"room": ids, "to": ids, "data": json_values, "extra": json_values},
    ),
    st.dictionaries(st.text(max_size=12), json_values, max_size=5),
    json_values,
)
frames = st.one_of(
    messages.map(lambda m: ("text", json.dumps(m))),
    st.text(max_size=300).map(lambda t: ("text", t)),
    st.binary(max_size=100).map(lambda b: ("bytes", b)),
    st.integers(min_value=protocol.MAX_MESSAGE_BYTES - 10, max_value=protocol.MAX_MESSAGE_BYTES + 100).map(
        lambda n: ("text", json.dumps({"type": "signal", "to": "x" * n}))
    ),
)


def test_fuzz_signalling_frames_never_crash_and_never_cross_rooms_or_companies(world: World, unblocked: None):  # noqa: F811
    """AUTHZ-2 / ISO-1 / BOF-1: see the module docstring. The number of frames is printed."""
    alice, a_joined = joined(world, world.alice, world.a_lobby)
    bob, b_joined = joined(world, world.bob, world.a_lobby)
    assert alice.receive()["type"] == "peer-joined"
    alice_id, bob_id = a_joined["self"]["id"], b_joined["self"]["id"]
    # Eve (another company) aims at the lobby and its participants; Carol (same company, another room) at the
    # participants only (joining her company's lobby would be her right).
    attackers = {
        "eve": (world.eve, world.b_lobby, {"t1": str(world.a_lobby.pk), "t2": alice_id, "t3": bob_id, "t4": str(world.b_lobby.pk)}),
        "carol": (world.carol, world.a_room, {"t1": alice_id, "t2": bob_id, "t3": str(world.a_room.pk), "t4": str(uuid.uuid4())}),
    }
    current: dict[str, Socket] = {}
    counts = {"frames": 0, "closed": 0}

    def attacker(name: str) -> Socket:
        if name not in current or current[name].closed is not None:
            user, room, _targets = attackers[name]
            current[name], _ = joined(world, user, room)
        return current[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
        derandomize=True,
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(attackers)))
        TARGETS.clear()
        TARGETS.update(attackers[name][2])
        kind, payload = data.draw(frames)
        socket = attacker(name)
        counts["frames"] += 1
        if isinstance(payload, str):
            socket.send_text(text=payload)
        else:
            socket.send_text(data=payload)
        # The probe: its error answer marks the end of what the frame caused.
        socket.send({"type": "signal", "to": str(uuid.uuid4()), "data": {"kind": "offer", "sdp": "v=0"}})
        while True:
            answer = socket.receive()
            if "closed" in answer:
                assert answer["closed"] in ALLOWED_CLOSE, (kind, payload[:200], answer)
                counts["closed"] += 1
                return
            # All an attacker may see: its own joins, errors and credentials - nothing of the observers' room.
            assert answer["type"] in {"joined", "left", "error", "turn"}, (payload[:200], answer)
            if answer["type"] == "joined":
                assert answer["room"] != str(world.a_lobby.pk) and alice_id not in json.dumps(answer), answer
            if answer["type"] == "error" and answer["code"] in {"no_peer", "not_in_room"}:
                return

    run()
    print(f"\nsignalling fuzz: {counts['frames']} frames, {counts['closed']} sockets closed with documented codes")
    # The observers heard nothing at all from the attackers.
    assert alice.nothing(0.5) and bob.nothing(0.5)
    for socket in (alice, bob, *current.values()):
        if socket.closed is None:
            socket.disconnect()
