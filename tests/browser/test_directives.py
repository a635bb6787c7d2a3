"""Directives against a real server in real Chromium: lp-poll, lp-loading, lp-confirm,
lp-dirty, lp-init, lp-ignore, lp-hook on a removed component, and lazy components."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser

live = LivePy(templates=[], secret_key="d" * 32)


class DirPoll(Component):
    template_source = (
        '<div class="{{ cls }}" lp-poll.{{ every }}{{ extra }}="tick">'
        '<span class="ticks">{{ ticks }}</span></div>'
    )
    ticks: int = 0
    cls: str = ""
    every: str = "150ms"
    extra: str = ""
    slow: float = 0.0

    @action
    async def tick(self) -> None:
        if self.slow:
            await asyncio.sleep(self.slow)
        self.ticks += 1


class DirLoading(Component):
    template_source = """<div>
      <span class="n">{{ n }}</span>
      <button id="save" lp-click="save" lp-loading.attr="disabled" lp-target="save">Save</button>
      <button id="other" lp-click="other">Other</button>
      <span id="plain" lp-loading>busy</span>
      <span id="targeted" lp-loading.block lp-target="save">saving</span>
      <span id="delayed" lp-loading.delay.300ms>slow</span>
      <div id="cls" class="base" lp-loading.class="busy dim"></div>
      <div id="removed" lp-loading.remove>idle</div>
    </div>"""
    n: int = 0

    @action
    async def save(self) -> None:
        await asyncio.sleep(0.5)
        self.n += 1

    @action
    async def other(self) -> None:
        await asyncio.sleep(0.5)
        self.n += 10


class DirConfirm(Component):
    template_source = """<div>
      <span class="items">{{ items }}</span> <span class="pings">{{ pings }}</span>
      <button id="del" lp-click="remove" lp-confirm="Really remove?">remove</button>
      <button id="ping" lp-click="ping">ping</button>
      <form lp-submit="remove" lp-confirm><button id="submit">submit</button></form>
    </div>"""
    items: int = 3
    pings: int = 0

    @action
    def remove(self) -> None:
        self.items -= 1

    @action
    def ping(self) -> None:
        self.pings += 1


class DirDirty(Component):
    template_source = """<div>
      <input id="title" lp-model="title">
      <input id="body" lp-model="body" lp-dirty.class="edited">
      <span id="any" lp-dirty>Unsaved changes</span>
      <span id="title-only" lp-dirty.class="changed" lp-target="title">title</span>
    </div>"""
    title: str = "hello"
    body: str = ""


class DirInit(Component):
    template_source = """<div lp-init="load">
      <span class="loads">{{ loads }}</span><span class="ready">{{ ready }}</span>
      <button id="refresh" lp-click="$refresh">refresh</button>
    </div>"""
    loads: int = 0
    ready: bool = False

    @action
    def load(self) -> None:
        self.loads += 1
        self.ready = True


class DirIgnore(Component):
    template_source = """<div>
      <span class="n">{{ n }}</span>
      <div id="ign" lp-ignore>{{ n }}</div>
      <div id="ign-self" lp-ignore.self data-n="{{ n }}">{{ n }}</div>
      <button id="inc" lp-click="inc">inc</button>
    </div>"""
    n: int = 0

    @action
    def inc(self) -> None:
        self.n += 1


class DirHookChild(Component):
    template_source = '<p id="hooked" lp-hook="Probe">child {{ n }}</p>'
    n: int = 0


class DirHookParent(Component):
    template_source = """<div>
      {% if show %}{{ livepy('dir_hook_child', key='c') }}{% endif %}
      <button id="hide" lp-click="hide">hide</button>
    </div>"""
    show: bool = True

    @action
    def hide(self) -> None:
        self.show = False


class DirTransition(Component):
    template_source = """<div>
      {% if show %}<p id="note" lp-transition.400ms>saved</p>{% endif %}
      <button id="toggle" lp-click="$toggle('show')">toggle</button>
    </div>"""
    show: bool = False


class DirLazy(Component):
    template_source = '<section class="lazy-{{ n }}">mounted with {{ n }}</section>'
    n: int = 0

    def mount(self, n: int) -> None:
        self.n = n


def app_for(body: str, head: str = "", scripts: str = "") -> Starlette:
    page = live.env.from_string(
        "<!doctype html><html><head><meta charset='utf-8'>{{ livepy_scripts(%s) }}"
        f"{head}</head><body>{body}</body></html>" % scripts
    )

    async def home(request: Request) -> Response:
        return Response(page.render(request=request), media_type="text/html")

    app = Starlette(routes=[Route("/", home)])
    live.install(app)
    return app


async def open_page(serve: ServeFactory, page: Any, body: str, head: str = "") -> Any:
    server = await serve(app_for(body, head))
    await page.goto(server.url + "/")
    await page.wait_for_function("window.livepy && window.livepy.connected")
    return page


def cid_of(selector: str) -> str:
    return f"document.querySelector('{selector}').closest('[lp-id]').getAttribute('lp-id')"


async def ticks(page: Any, selector: str) -> int:
    return int(await page.text_content(f"{selector} .ticks") or "0")


async def wait_ms(page: Any, ms: int) -> None:
    """Let ``ms`` of page time pass: proving that something does *not* happen needs time."""
    start = await page.evaluate("performance.now()")
    await page.wait_for_function(f"performance.now() > {start + ms}")


async def settle(page: Any, selector: str) -> None:
    await page.wait_for_function(f"!window.livepy.find({cid_of(selector)}).busy")


SET_HIDDEN = """(hidden) => {
  if (hidden) {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  } else {
    delete document.hidden;
    delete document.visibilityState;
  }
  document.dispatchEvent(new Event('visibilitychange'));
}"""


# -- lp-poll ---------------------------------------------------------------------------------


async def test_poll_pauses_while_hidden_and_resumes(serve: ServeFactory, page: Any) -> None:
    body = (
        "{{ livepy('dir_poll', cls='paused') }}"
        "{{ livepy('dir_poll', cls='alive', extra='.keep-alive') }}"
    )
    await open_page(serve, page, body)
    await page.wait_for_function(
        "Number(document.querySelector('.paused .ticks').textContent) >= 2"
    )
    await page.evaluate(SET_HIDDEN, True)
    await settle(page, ".paused")
    paused_at = await ticks(page, ".paused")
    alive_at = await ticks(page, ".alive")
    await wait_ms(page, 800)  # more than five intervals
    assert await ticks(page, ".paused") == paused_at
    # .keep-alive polls on in a background tab
    await page.wait_for_function(
        f"Number(document.querySelector('.alive .ticks').textContent) >= {alive_at + 3}"
    )
    await page.evaluate(SET_HIDDEN, False)
    # a poll missed while hidden runs as soon as the tab is shown
    await page.wait_for_function(
        f"Number(document.querySelector('.paused .ticks').textContent) > {paused_at}"
    )


async def test_polls_never_pile_up_behind_a_slow_call(serve: ServeFactory, page: Any) -> None:
    await open_page(serve, page, "{{ livepy('dir_poll', cls='slow', every='50ms', slow=0.3) }}")
    # sample the component's pending work every few ms while several slow ticks run
    most = await page.evaluate(
        """async (cid) => {
          const component = window.livepy.find(cid);
          let most = 0;
          const started = performance.now();
          while (performance.now() - started < 1200) {
            const queued = component.queue.filter((b) => b.scheduled)
              .reduce((n, b) => n + b.calls.length, 0);
            most = Math.max(most, (component.inflight?.calls.length ?? 0) + queued);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          return most;
        }""",
        await page.evaluate(cid_of(".slow")),
    )
    assert most == 1
    assert 2 <= await ticks(page, ".slow") <= 5


async def test_poll_visible_waits_for_the_viewport(serve: ServeFactory, page: Any) -> None:
    body = (
        "<div style='height:3000px'></div>{{ livepy('dir_poll', cls='below', extra='.visible') }}"
    )
    await open_page(serve, page, body)
    await wait_ms(page, 600)
    assert await ticks(page, ".below") == 0
    await page.locator(".below").scroll_into_view_if_needed()
    await page.wait_for_function("Number(document.querySelector('.below .ticks').textContent) >= 1")


# -- lp-loading ------------------------------------------------------------------------------

LOOKS = """() => {
  const shown = (id) => getComputedStyle(document.getElementById(id)).display !== 'none';
  return {
    plain: shown('plain'), targeted: shown('targeted'), delayed: shown('delayed'),
    removed: shown('removed'), cls: document.getElementById('cls').className,
    disabled: document.getElementById('save').disabled,
  };
}"""
IDLE = {
    "plain": False,
    "targeted": False,
    "delayed": False,
    "removed": True,
    "cls": "base",
    "disabled": False,
}


async def test_loading_modifiers(serve: ServeFactory, page: Any) -> None:
    await open_page(serve, page, "{{ livepy('dir_loading') }}")
    assert await page.evaluate(LOOKS) == IDLE
    # an untargeted call: lp-target="save" elements stay idle, .delay waits
    at_once = await page.evaluate(
        f"() => {{ document.getElementById('other').click(); return ({LOOKS})(); }}"
    )
    assert at_once == {
        **IDLE,
        "plain": True,
        "removed": False,
        "cls": "base busy dim",
    }
    await page.wait_for_function(
        "getComputedStyle(document.getElementById('delayed')).display !== 'none'"
    )
    await page.wait_for_function("document.querySelector('.n').textContent === '10'")
    assert await page.evaluate(LOOKS) == IDLE
    # the targeted action
    await page.click("#save")
    await page.wait_for_function("document.getElementById('save').disabled")
    looks = await page.evaluate(LOOKS)
    assert looks["targeted"] and looks["plain"] and looks["disabled"]
    assert (
        await page.evaluate("getComputedStyle(document.getElementById('targeted')).display")
        == "block"
    )
    await page.wait_for_function("document.querySelector('.n').textContent === '11'")
    assert await page.evaluate(LOOKS) == IDLE


# -- lp-confirm ------------------------------------------------------------------------------


async def test_confirm_dismissed_sends_nothing(serve: ServeFactory, page: Any) -> None:
    await open_page(serve, page, "{{ livepy('dir_confirm') }}")
    messages: list[str] = []

    async def dismiss(dialog: Any) -> None:
        messages.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    await page.click("#del")
    await page.click("#submit")
    assert messages == ["Really remove?", "Are you sure?"]
    # calls are answered in order: once ping is applied, a remove would have been too
    await page.click("#ping")
    await page.wait_for_function("document.querySelector('.pings').textContent === '1'")
    assert await page.text_content(".items") == "3"


async def test_confirm_accepted_runs_the_action(serve: ServeFactory, page: Any) -> None:
    await open_page(serve, page, "{{ livepy('dir_confirm') }}")

    async def accept(dialog: Any) -> None:
        await dialog.accept()

    page.on("dialog", accept)
    await page.click("#del")
    await page.wait_for_function("document.querySelector('.items').textContent === '2'")
    await page.click("#submit")
    await page.wait_for_function("document.querySelector('.items').textContent === '1'")


# -- lp-dirty --------------------------------------------------------------------------------

DIRTY = """() => ({
  any: getComputedStyle(document.getElementById('any')).display !== 'none',
  title: document.getElementById('title-only').classList.contains('changed'),
  body: document.getElementById('body').classList.contains('edited'),
})"""


async def test_dirty_follows_unsaved_input(serve: ServeFactory, page: Any) -> None:
    await open_page(serve, page, "{{ livepy('dir_dirty') }}")
    assert await page.evaluate(DIRTY) == {"any": False, "title": False, "body": False}
    await page.fill("#body", "draft")
    assert await page.evaluate(DIRTY) == {"any": True, "title": False, "body": True}
    await page.focus("#title")  # the body field's change event sends it; the reply cleans
    await page.wait_for_function(f"!({DIRTY})().any")
    await page.fill("#title", "hello!")
    assert await page.evaluate(DIRTY) == {"any": True, "title": True, "body": False}
    await page.fill("#title", "hello")  # back to the server's value: clean again
    assert await page.evaluate(DIRTY) == {"any": False, "title": False, "body": False}


# -- lp-init ---------------------------------------------------------------------------------


async def test_init_calls_its_action_once(serve: ServeFactory, page: Any) -> None:
    await open_page(serve, page, "{{ livepy('dir_init') }}")
    await page.wait_for_function("document.querySelector('.ready').textContent === 'True'")
    await page.click("#refresh")
    await settle(page, ".loads")
    assert await page.text_content(".loads") == "1"


# -- lp-ignore -------------------------------------------------------------------------------


async def test_ignore_keeps_the_subtree(serve: ServeFactory, page: Any) -> None:
    await open_page(serve, page, "{{ livepy('dir_ignore') }}")
    await page.evaluate(
        """() => {
          document.getElementById('ign').textContent = 'mine';
          document.getElementById('ign-self').setAttribute('data-n', 'mine');
        }"""
    )
    await page.click("#inc")
    await page.wait_for_function("document.querySelector('.n').textContent === '1'")
    assert await page.text_content("#ign") == "mine"
    # .self: the attributes are kept, the children follow the server
    assert await page.get_attribute("#ign-self", "data-n") == "mine"
    assert await page.text_content("#ign-self") == "1"


# -- lp-hook when its component leaves -------------------------------------------------------

PROBE = """<script type="module">
  window.__probe = [];
  window.livepy.hook("Probe", {
    mounted() { window.__probe.push(["mounted", this.el.id, typeof this.pushEvent]); },
    destroyed() { window.__probe.push(["destroyed", this.el.id]); },
  });
</script>"""


async def test_hook_destroyed_when_its_component_is_removed(serve: ServeFactory, page: Any) -> None:
    await open_page(serve, page, "{{ livepy('dir_hook_parent') }}" + PROBE)
    await page.wait_for_function("window.__probe && window.__probe.length === 1")
    await page.click("#hide")
    await page.wait_for_function("window.__probe.length === 2")
    assert await page.evaluate("window.__probe") == [
        ["mounted", "hooked", "function"],
        ["destroyed", "hooked"],
    ]


# -- lazy components -------------------------------------------------------------------------

# Runs before the runtime: what the page showed before any component joined.
CAPTURE_FIRST_PAINT = """
document.addEventListener("DOMContentLoaded", () => {
  window.__firstPaint = document.querySelector("section").outerHTML;
});
"""


@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_lazy_placeholder_then_content(
    serve: ServeFactory, page: Any, transport: str
) -> None:
    scripts = "transport='http'" if transport == "http" else ""
    server = await serve(app_for("{{ livepy('dir_lazy', lazy=True, n=5) }}", scripts=scripts))
    await page.add_init_script(CAPTURE_FIRST_PAINT)
    await page.goto(server.url + "/")
    await page.wait_for_function("document.querySelector('section.lazy-5')")
    assert await page.text_content("section") == "mounted with 5"
    first = await page.evaluate("window.__firstPaint")
    assert "Loading" in first and "mounted with" not in first
    # the client's snapshot now holds the mounted state, not the props
    state = await page.evaluate(f"window.livepy.find({cid_of('section')}).state")
    assert state == {"n": 5}
    assert await page.evaluate("window.livepy.transport") == transport


async def test_lazy_visible_waits_for_the_viewport(serve: ServeFactory, page: Any) -> None:
    body = "<div style='height:3000px'></div>{{ livepy('dir_lazy', lazy='visible', n=7) }}"
    await open_page(serve, page, body)
    await wait_ms(page, 400)
    assert "Loading" in (await page.text_content("section") or "")
    await page.locator("section").scroll_into_view_if_needed()
    await page.wait_for_function("document.querySelector('section.lazy-7')")


# -- lp-transition ---------------------------------------------------------------------------


async def test_transition_fades_in_and_out(serve: ServeFactory, page: Any) -> None:
    await open_page(serve, page, "{{ livepy('dir_transition') }}")
    await page.click("#toggle")
    await page.wait_for_function("document.querySelector('#note.lp-entering')")
    opacity = await page.evaluate(
        "Number(getComputedStyle(document.getElementById('note')).opacity)"
    )
    assert opacity < 1  # fading in
    await page.wait_for_function(
        "!document.querySelector('#note').classList.contains('lp-entering')"
    )
    await page.click("#toggle")
    await page.wait_for_function("!document.getElementById('note')")
    # a copy of the removed element fades out where it was, then goes
    ghost = page.locator("p.lp-leaving")
    assert await ghost.count() == 1
    assert await ghost.get_attribute("aria-hidden") == "true"
    await ghost.wait_for(state="detached")
