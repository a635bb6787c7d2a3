"""Minimal pyview-web counter app.

Run:  PYVIEW_SECRET=dev-secret uvicorn app:app --host 127.0.0.1 --port 8001
Pages: /count (per-connection state), /shared (pub/sub broadcast to all tabs),
/table (200 rows x 5 cells) and /list (200 items) for benchmarks/bytes.py
"""

from count_view import CountLiveView, SharedCountLiveView
from list_view import ListLiveView
from pyview import PyView, defaultRootTemplate
from starlette.staticfiles import StaticFiles
from table_view import TableLiveView

app = PyView()
# The default root template loads /static/assets/app.js (the bundled
# phoenix_live_view client); pyview ships it inside the package.
app.mount("/static", StaticFiles(packages=[("pyview", "static")]), name="static")
app.rootTemplate = defaultRootTemplate()

app.add_live_view("/count", CountLiveView)
app.add_live_view("/shared", SharedCountLiveView)
app.add_live_view("/table", TableLiveView)
app.add_live_view("/list", ListLiveView)
