"""Whether the Hugging Face hub can be reached, found out in about a second.

Without ``HF_HUB_OFFLINE=1``, huggingface_hub retries a failed request five times with growing
pauses (about 46 s) and timm asks for two files in turn, so a machine without network waited about
90 s before its error. One short connection attempt to the hub (or to the proxy that reaches it)
decides instead: when it fails, the weights are read from the cache alone, as with
``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import urllib.parse
import urllib.request

#: seconds a connection to the hub (name lookup included) may take before the hub counts as unreachable
PROBE_TIMEOUT_S = 2.0


def hub_address() -> tuple[str, int]:
    """The host and port a request to the hub connects to: the hub's (``HF_ENDPOINT``), or the
    proxy's where one is set for it (``HTTPS_PROXY``, ...)."""
    from huggingface_hub import constants

    url = urllib.parse.urlsplit(constants.ENDPOINT)
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy and not urllib.request.proxy_bypass(url.hostname or ""):
        url = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return url.hostname or "", url.port or (443 if url.scheme == "https" else 80)


def unreachable(timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """None when a connection to the hub opens within ``timeout_s``; else why not, in words."""
    host, port = hub_address()
    outcome: queue.Queue[str | None] = queue.Queue()

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
            outcome.put(None)
        except OSError as exc:
            outcome.put(str(exc) or type(exc).__name__)

    # in a daemon thread: a name lookup that hangs (no resolver reachable) ignores the socket's timeout
    threading.Thread(target=connect, daemon=True).start()
    try:
        failure = outcome.get(timeout=timeout_s)
    except queue.Empty:
        failure = f"no answer within {timeout_s:g} s"
    return None if failure is None else f"no connection to {host}:{port}: {failure}"


@contextlib.contextmanager
def cache_alone_when_unreachable():
    """Inside, huggingface_hub reads its cache alone when the hub cannot be reached. Yields the
    failed connection, or None: the hub is asked, or ``HF_HUB_OFFLINE=1`` keeps it from being asked."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        yield None
        return
    why = unreachable()
    if why is None:
        yield None
        return
    constants.HF_HUB_OFFLINE = True  # huggingface_hub reads it at every request
    try:
        yield why
    finally:
        constants.HF_HUB_OFFLINE = False
