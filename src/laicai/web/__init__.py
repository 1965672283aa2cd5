"""The dashboard: a FastAPI app over the :class:`~laicai.engine.operator.Operator` (JSON API,
live events, one page, ``/metrics``), served by uvicorn inside the bot's event loop.

The engine needs only::

    server = WebServer.from_settings(operator, settings)   # refuses a public host w/o token
    await server.start()        # ... server.task is the serving task ...
    await server.stop()
"""

from laicai.web.app import create_app
from laicai.web.metrics import MetricsCollector
from laicai.web.security import AccessPolicy, check_bind, is_loopback
from laicai.web.server import WebServer, WebServerError

__all__ = [
    "AccessPolicy",
    "MetricsCollector",
    "WebServer",
    "WebServerError",
    "check_bind",
    "create_app",
    "is_loopback",
]
