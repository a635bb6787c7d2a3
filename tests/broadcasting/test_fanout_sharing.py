"""Fan-out sharing in process: shared snapshot patches, the packed MAC and the push batch.

Sessions here are driven without a socket: each has a ``push`` that records its frames, and a
"browser" per component applies the pushed patches to its state and checks that the snapshot
it then holds verifies, as the JS runtime's copy must.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import msgpack

from livepy import Component, Limits, LivePy, action, on
from livepy.fanout import SharedRenders, _render_extras
from livepy.held import REISSUE_AFTER, Live, push_reply, render_change, snapshot_patch
from livepy.protocol import apply_diff
from livepy.protocol.frames import (
    Call,
    Join,
    Joined,
    JoinItem,
    Reply,
    decode_server_frame,
    encode,
    encode_reply,
)
from livepy.protocol.snapshot import canonical
from livepy.protocol.statepatch import apply_ops
from livepy.pushbatch import SLICE, push_batch
from livepy.session import LiveSession

_cids = itertools.count()


class SharingTile(Component):
    template_source = (  # rows enough that a diff is smaller than the html
        "<div><h3>{{ owner }}</h3><b>{{ value }}</b>"
        "<ul>{% for i in range(8) %}<li>row {{ i }}</li>{% endfor %}</ul></div>"
    )
    owner: str = "everyone"
    value: int = 0

    @on("sharing", "Tick")
    def tick(self, event: dict[str, Any]) -> None:
        self.value = event["value"]

    @action
    def bump(self) -> None:
        self.value += 100


class Browser:
    """One page: its session's pushed frames and what it holds per component ref."""

    def __init__(self, live: LivePy, owners: list[str], arrived: asyncio.Event) -> None:
        self.live = live
        self.arrived = arrived  # shared by the pages of a test: set on every pushed frame
        self.session = LiveSession(live)
        self.frames: list[bytes] = []
        self.session.push = self.record
        self.owners = owners
        self.held: dict[int, list[Any]] = {}  # ref -> snapshot [name, cid, issued_at, state, mac]
        self.html: dict[int, str] = {}  # ref -> the html it holds
        self.values: dict[int, list[int]] = {}  # ref -> values pushed, in order

    async def record(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.arrived.set()

    async def join(self) -> None:
        items = []
        for owner in self.owners:
            cid = f"tile{next(_cids)}"
            state = {"owner": owner, "value": 0}
            wire = self.live.snapshots.sign(SharingTile.name, cid, state).to_wire()
            items.append((cid, wire))
        out = await self.session.receive(encode(Join(tuple(JoinItem(*item) for item in items))))
        for frame in out:
            joined = decode_server_frame(frame)
            assert isinstance(joined, Joined), joined
            self.held[joined.ref] = next(wire for cid, wire in items if cid == joined.cid)
            self.html[joined.ref] = joined.html
            self.values[joined.ref] = []

    def apply(self) -> list[Reply]:
        """Apply the pushed frames as a browser does; every snapshot must still verify, and the
        html must come out as the server's (the diff's checksum, then the html itself)."""
        replies = []
        for frame in self.frames:
            reply = decode_server_frame(frame)
            assert isinstance(reply, Reply), reply
            if isinstance(reply.render, list):
                self.html[reply.ref] = apply_diff(self.html[reply.ref], reply.render)
            elif reply.render is not None:
                self.html[reply.ref] = reply.render
            name, cid, issued_at, state, _ = self.held[reply.ref]
            assert reply.patch is not None
            new_issued, ops, mac = reply.patch
            state = apply_ops(state, ops)
            self.held[reply.ref] = [name, cid, new_issued or issued_at, state, mac]
            self.live.snapshots.verify(self.held[reply.ref], cid=cid)
            self.values[reply.ref].append(state["value"])
            replies.append(reply)
        self.frames.clear()
        for reply in replies:
            assert self.html[reply.ref] == self.session.components[reply.ref].html
        return replies


async def open_pages(live: LivePy, pages: list[list[str]]) -> list[Browser]:
    arrived = asyncio.Event()
    browsers = [Browser(live, owners, arrived) for owners in pages]
    for browser in browsers:
        await browser.join()
    return browsers


async def until_pushed(browsers: list[Browser], count: int) -> None:
    async with asyncio.timeout(5):
        while sum(len(b.frames) for b in browsers) < count:
            browsers[0].arrived.clear()
            await browsers[0].arrived.wait()


def test_mac_packed_is_the_mac() -> None:
    live = LivePy(templates=[], secret_key="k")
    snapshots = live.snapshots
    states: list[dict[str, Any]] = [
        {},
        {"b": 1, "a": 2.0},
        {"z": {"y": [1, 2.5, {"k": None}], "x": "text"}, "n": True, "s": "é" * 40},
        {"big": 2**40, "neg": -3, "raw": b"\x00\x01"},
    ]
    for state in states:
        packed = msgpack.packb(canonical(state), use_bin_type=True)
        for cid, issued_at in (("abc", 0), ("x" * 40, 1_800_000_000)):
            expected = snapshots.mac("some.Name", cid, issued_at, state)
            assert snapshots.mac_packed("some.Name", cid, issued_at, packed) == expected


async def test_same_state_shares_the_ops_and_every_snapshot_is_its_own() -> None:
    live = LivePy(templates=[], secret_key="k")
    browsers = await open_pages(live, [["everyone"] * 3 for _ in range(10)])
    renders = live.broadcaster.renders
    for value in (1, 2):
        await live.broadcast("sharing", "Tick", {"value": value})
        await until_pushed(browsers, 30)
        replies = [reply for browser in browsers for reply in browser.apply()]
        assert len(replies) == 30
        assert all(reply.patch is not None for reply in replies)
        macs = {bytes(reply.patch[2]) for reply in replies}  # type: ignore[index]
        assert len(macs) == 30  # each covers its own component id
    # the second push: ops diffed once per step between shared renders (one per id length)
    assert renders.steps_shared + renders.patches_shared >= 27
    held = [state for browser in browsers for state in browser.session.components.values()]
    assert all(live_.state is held[0].state for live_ in held)  # one state object, interned
    # what features keep on a rendered instance is not a render input: only the state keys it
    assert all(_render_extras(live_.instance) == [] for live_ in held)
    assert all(values == [1, 2] for browser in browsers for values in browser.values.values())


async def test_per_user_states_are_never_shared() -> None:
    live = LivePy(templates=[], secret_key="k")
    browsers = await open_pages(live, [[f"user{n}", "everyone"] for n in range(4)])
    for value in (5, 6):
        await live.broadcast("sharing", "Tick", {"value": value})
        await until_pushed(browsers, 8)
        for browser in browsers:
            browser.apply()
    own = [browser.session.components[1].state for browser in browsers]
    assert [state["owner"] for state in own] == [f"user{n}" for n in range(4)]
    assert len({id(state) for state in own}) == 4
    everyone = [browser.session.components[2].state for browser in browsers]
    assert all(state is everyone[0] for state in everyone)
    for browser in browsers:  # and each browser holds its own owner, signed
        state = browser.held[1][3]
        assert (state["owner"], state["value"]) == (f"user{browsers.index(browser)}", 6)


def test_interned_states_keep_wire_types_apart() -> None:
    shared = SharedRenders(max_entries=4)
    old: dict[str, Any] = {"a": 0}
    one = shared.state_patch(old, {"a": 1})
    true = shared.state_patch(old, {"a": True})
    real = shared.state_patch(old, {"a": 1.0})
    assert one and true and real
    assert len({id(one[0]), id(true[0]), id(real[0])}) == 3
    assert shared.state_patch(old, {"a": (1, 2)}) is None  # not plain msgpack data
    assert shared.state_patch(old, {"a": "x" * 20000}) is None  # too large to keep
    again = shared.state_patch(old, {"a": 1})
    assert again and again[0] is one[0]
    for n in range(10):  # bounded
        shared.state_patch(old, {"a": n + 100})
    assert len(shared._states) == 4 and len(shared._interned) == 4


async def test_idle_sessions_are_drained_without_a_task_each() -> None:
    live = LivePy(templates=[], secret_key="k")
    browsers = await open_pages(live, [["everyone"] for _ in range(20)])
    batch = push_batch()
    before = batch.inline
    await live.broadcast("sharing", "Tick", {"value": 1})
    await until_pushed(browsers, 20)
    assert batch.inline - before == 20
    assert all(browser.session._worker is None for browser in browsers)


async def test_a_long_batch_lets_the_loop_run_between_sessions() -> None:
    """Past its time slice, a batch lets other work run (and queued frames go out) before it
    drains the next session, and still drains every one, in order."""
    live = LivePy(templates=[], secret_key="k")
    browsers = await open_pages(live, [["everyone"] for _ in range(20)])
    batch = push_batch()
    batch.slice = 0.0  # every session is past the slice: the loop runs between any two
    seen_meanwhile: list[int] = []

    async def other_work() -> None:
        while (pushed := sum(len(b.frames) for b in browsers)) < 20:
            seen_meanwhile.append(pushed)
            await asyncio.sleep(0)

    try:
        other = asyncio.create_task(other_work())
        await live.broadcast("sharing", "Tick", {"value": 1})
        await until_pushed(browsers, 20)
        await other
    finally:
        batch.slice = SLICE
    assert any(0 < pushed < 20 for pushed in seen_meanwhile)  # it ran in the middle of the batch
    assert all(browser.session._worker is None for browser in browsers)
    for browser in browsers:
        browser.apply()
        assert browser.values[1] == [1]


async def test_a_busy_session_keeps_its_order_and_holds_up_nobody() -> None:
    live = LivePy(templates=[], secret_key="k")
    busy, *others = await open_pages(live, [["everyone"] for _ in range(5)])
    async with busy.session._lock:  # an action in progress on the busy page
        for value in (1, 2, 3):
            await live.broadcast("sharing", "Tick", {"value": value})
        await until_pushed(others, 12)  # the others got all three meanwhile
        assert busy.frames == []
    await until_pushed([busy], 3)
    busy.apply()
    assert busy.values[1] == [1, 2, 3]
    for browser in others:
        browser.apply()
        assert browser.values[1] == [1, 2, 3]


async def test_a_stuck_send_holds_up_nobody_and_close_stops_it() -> None:
    live = LivePy(templates=[], secret_key="k")
    stuck, *others = await open_pages(live, [["everyone"] for _ in range(4)])
    never = asyncio.Event()

    async def blocked(frame: bytes) -> None:
        await never.wait()  # a socket that stopped reading

    stuck.session.push = blocked
    await live.broadcast("sharing", "Tick", {"value": 1})
    await live.broadcast("sharing", "Tick", {"value": 2})
    await until_pushed(others, 6)
    worker = stuck.session._worker
    assert worker is not None and not worker.done()
    await stuck.session.close()
    assert worker.cancelled()


async def test_overflow_still_closes_a_slow_consumer() -> None:
    pending = 2
    live = LivePy(templates=[], secret_key="k", limits=Limits(max_pending_pushes=pending))
    (page,) = await open_pages(live, [["everyone"]])
    closed = asyncio.Event()

    async def overflowed() -> None:
        closed.set()

    page.session.on_overflow = overflowed
    async with page.session._lock:  # the session cannot drain while an action runs
        for value in range(pending + 2):
            await live.broadcast("sharing", "Tick", {"value": value})
        async with asyncio.timeout(5):
            await closed.wait()
        assert page.session._overflowed


async def test_a_broadcast_queues_what_fits_in_order_and_drops_the_rest() -> None:
    """A broadcast queues its change for a page's components in one go, up to the bound."""
    live = LivePy(templates=[], secret_key="k", limits=Limits(max_pending_pushes=4))
    (page,) = await open_pages(live, [["everyone"] * 3])
    page.session.on_overflow = None  # (the drop is what is looked at here, not the close)
    async with page.session._lock:
        for value in (1, 2):
            await live.broadcast("sharing", "Tick", {"value": value})
        queued = [(ref, change.event.data["value"]) for ref, change in page.session._work or ()]
    refs = sorted(page.held)
    assert queued == [(ref, 1) for ref in refs] + [(refs[0], 2)]
    await until_pushed([page], 4)
    page.apply()
    assert [page.values[ref] for ref in refs] == [[1, 2], [1], [1]]


async def test_a_drain_that_dies_hands_the_rest_of_the_batch_on() -> None:
    batch = push_batch()
    ran: list[str] = []

    async def dies() -> None:
        ran.append("dies")
        raise asyncio.CancelledError  # escapes every handler but the batch's

    async def fails() -> None:
        ran.append("fails")
        raise RuntimeError("a bug in one session")

    async def works() -> None:
        ran.append("works")

    done = asyncio.Event()

    async def last() -> None:
        ran.append("last")
        done.set()

    for drain in (dies, works, fails, last):
        batch.add(drain, lambda task: None)
    async with asyncio.timeout(5):
        await done.wait()
    assert ran == ["dies", "works", "fails", "last"]


def test_validation_messages_key_the_shared_render_through_the_state() -> None:
    """The error bag and its rollback copy are not render inputs of their own: the messages are
    in the dumped state, so equal messages share a render and different ones never do."""
    from livepy import features
    from livepy.features.validation import errors_of

    class Renderer:
        def render_html(self, instance: Component) -> str:
            errors = errors_of(instance).messages
            return f'<p lp-id="{instance.id}">{instance.value} {errors}</p>'  # type: ignore[attr-defined]

    shared, event = SharedRenders(), object()

    def tile(cid: str, message: str | None) -> SharingTile:
        instance = SharingTile()
        instance.id = cid
        features.begin(instance)  # as a push does: the bag, its copy, the streams flag
        if message is not None:
            errors_of(instance).add("value", message)
        return instance

    first_html, first_state, _ = shared.render(Renderer(), tile("aaa", None), event)  # type: ignore[arg-type]
    html, state, _ = shared.render(Renderer(), tile("bbb", None), event)  # type: ignore[arg-type]
    assert shared.shared == 1 and html == first_html.replace("aaa", "bbb") and state is first_state
    html, state, _ = shared.render(Renderer(), tile("ccc", "Too big."), event)  # type: ignore[arg-type]
    assert shared.shared == 1 and "Too big." in html and state["$errors"] == {"value": ["Too big."]}
    html, _, _ = shared.render(Renderer(), tile("ddd", "Too small."), event)  # type: ignore[arg-type]
    assert shared.shared == 1 and "Too small." in html
    html, _, _ = shared.render(Renderer(), tile("eee", "Too big."), event)  # type: ignore[arg-type]
    assert shared.shared == 2 and html == "<p lp-id=\"eee\">0 {'value': ['Too big.']}</p>"


class TaggingTile(Component):
    template_source = "<p>{{ tags | join(',') }}</p>"
    tags: list[str] = []

    @on("tagging", "Tag")
    def tag(self, event: dict[str, Any]) -> None:
        self.tags.append(event["tag"])  # in place: an aliased held state would change too
        if event.get("fail") == self.id:
            raise RuntimeError("this one fails")


async def test_a_failed_push_restores_a_copy_of_the_held_state() -> None:
    """A pushed component matches the state its browser holds, so its next change takes no
    rollback copy first; when that change fails, it is put back from a copy of the held state,
    which other components share: their states, and its own later edits, stay apart."""
    live = LivePy(templates=[], secret_key="k")
    pushed: list[bytes] = []
    arrived = asyncio.Event()

    async def record(frame: bytes) -> None:
        pushed.append(frame)
        arrived.set()

    sessions, cids = [], [f"tagging{n}" for n in range(3)]
    for cid in cids:
        session = LiveSession(live)
        session.push = record
        wire = live.snapshots.sign(TaggingTile.name, cid, {"tags": []}).to_wire()
        await session.receive(encode(Join((JoinItem(cid, wire),))))
        sessions.append(session)

    async def broadcast(data: dict[str, Any]) -> list[Any]:
        pushed.clear()
        await live.broadcast("tagging", "Tag", data)
        async with asyncio.timeout(5):
            while len(pushed) < len(sessions):
                arrived.clear()
                await arrived.wait()
        return [decode_server_frame(frame) for frame in pushed]

    await broadcast({"tag": "a"})
    helds = [session.components[1] for session in sessions]
    assert all(held.synced and held.state is helds[0].state for held in helds)
    frames = await broadcast({"tag": "b", "fail": cids[1]})
    assert sum(isinstance(frame, Reply) for frame in frames) == 2  # and one error
    failed = helds[1]
    assert failed.state["tags"] == failed.instance.tags == ["a"]  # type: ignore[attr-defined]
    assert failed.instance.tags is not failed.state["tags"]  # type: ignore[attr-defined]
    await broadcast({"tag": "c"})
    assert [held.state["tags"] for held in helds] == [["a", "b", "c"], ["a", "c"], ["a", "b", "c"]]


async def test_a_push_past_the_reissue_age_signs_the_new_issued_at() -> None:
    """A pushed MAC reuses its component's signed head until the snapshot is reissued: the
    push after that carries the new issued_at, and every snapshot still verifies."""
    live = LivePy(templates=[], secret_key="k")
    started = live.snapshots.now()
    live.snapshots.clock = lambda: started
    browsers = await open_pages(live, [["everyone"] * 2 for _ in range(2)])
    await live.broadcast("sharing", "Tick", {"value": 1})
    await until_pushed(browsers, 4)
    for browser in browsers:
        assert all(reply.patch and reply.patch[0] is None for reply in browser.apply())
    later = started + REISSUE_AFTER + 1
    live.snapshots.clock = lambda: later
    for value in (2, 3):
        await live.broadcast("sharing", "Tick", {"value": value})
        await until_pushed(browsers, 4)
        for browser in browsers:
            issued = [reply.patch[0] for reply in browser.apply() if reply.patch]
            assert issued == ([later] * 2 if value == 2 else [None] * 2)
            assert all(held[2] == later for held in browser.held.values())


def test_a_push_is_the_reply_its_changes_encode_to() -> None:
    """``push_reply`` splices in the diff and ops encoded once; its bytes, and what the twin
    then holds, are those of ``encode_reply`` over ``render_change`` and ``snapshot_patch``."""
    live = LivePy(templates=[], secret_key="k")
    snapshots, renders = live.snapshots, SharedRenders()
    now = snapshots.now()
    rows = "".join(f"<li>row {i}</li>" for i in range(20))

    def html(cid: str, value: object) -> str:
        return f'<div lp-id="{cid}"><b>{value}</b><ul>{rows}</ul></div>'

    big = "x" * 20_000  # beyond what is interned: diffed and signed alone
    cases: list[tuple[int, int, object, object, dict[str, Any], dict[str, Any], int]] = [
        (1, 0, 1, 2, {"owner": "a", "value": 1}, {"owner": "a", "value": 2}, now),
        (2, 5, 1, 1, {"owner": "a", "value": 1}, {"owner": "a", "value": 2}, now),
        (3, 0, 1, 2, {"owner": "a", "value": 1}, {"owner": "a", "value": 1}, now),
        (4, 0, 1, 1, {"owner": "a", "value": 1}, {"owner": "a", "value": 1}, now),
        (200, 70_000, 1, 2, {"owner": "a", "value": 1}, {"owner": "a", "value": 2}, now),
        (5, 0, 1, 1, {"owner": "a", "value": 1}, {"owner": "a", "value": 1}, now - 2 * 3600),
        (6, 0, 1, "<p>" + rows[::-1], {"owner": big, "value": 1}, {"owner": big, "value": 3}, now),
    ]
    for ref, seq, old, new, before, after, issued_at in cases:
        for cid in ("aaaa1111", "bbbb2222"):  # the second one is served from the caches
            twins = []
            for _ in range(2):
                instance = SharingTile()
                instance.id = cid
                twins.append(Live(ref, instance, html(cid, old), dict(before), issued_at, seq))
            pushed, replied = twins
            # from the joined state, then from the state the push interned
            for step, value in enumerate((new, "later")):
                state = dict(after) if step == 0 else {**after, "value": 9}
                for twin in twins:
                    twin.next_html, twin.next_state = html(cid, value), dict(state)
                frame = push_reply(pushed, renders, snapshots)
                render = render_change(replied, replied.next_html)
                patch = snapshot_patch(replied, replied.next_state, snapshots)
                if render is None and patch is None:
                    assert frame is None, (ref, cid, step)
                else:
                    assert frame == encode_reply(ref, seq, render, patch), (ref, cid, step)
                assert (pushed.html, pushed.state, pushed.issued_at) == (
                    replied.html,
                    replied.state,
                    replied.issued_at,
                )
    assert renders.diffs_shared and renders.patches_shared


async def test_a_reply_between_pushes_is_diffed_from_what_its_browser_holds() -> None:
    """Pushes diff between shared renders, masked once (ids of two lengths here); a click's
    reply in between changes what one browser holds, and its next push starts from that."""
    live = LivePy(templates=[], secret_key="k")
    browsers = await open_pages(live, [["everyone"] * 3 for _ in range(4)])
    assert len({len(held[1]) for b in browsers for held in b.held.values()}) == 2
    for value in (1, 2):
        await live.broadcast("sharing", "Tick", {"value": value})
        await until_pushed(browsers, 12)
        for browser in browsers:
            browser.apply()
    clicked = browsers[0]
    ref = min(clicked.held)
    clicked.frames += await clicked.session.receive(encode(Call(ref, 1, {}, (("bump", ()),))))
    clicked.apply()
    assert clicked.values[ref] == [1, 2, 102]
    for value in (3, 4):
        await live.broadcast("sharing", "Tick", {"value": value})
        await until_pushed(browsers, 12)
        for browser in browsers:
            browser.apply()
    assert all(values[-2:] == [3, 4] for b in browsers for values in b.values.values())
    renders = live.broadcaster.renders
    assert renders.steps_shared + renders.diffs_shared >= 30
