"""A real office server for tests: uvicorn on 127.0.0.1 with a free port, plus in-process admin."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn

from fieldkit import cli
from fieldkit.server.app import create_app


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin(db: str | Path, *argv: str) -> tuple[int, str]:
    """Run `fieldkit server ARGV… --db DB` in-process; (exit code, stdout and stderr together)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = cli.main(["server", *argv, "--db", str(db)])
        except SystemExit as exc:  # argparse refusing the arguments
            code = int(exc.code or 0)
    return code, out.getvalue()


class LiveServer:
    """`with LiveServer(db) as server:` runs the office API on `server.url` until the block ends."""

    def __init__(self, db: str | Path, port: int | None = None) -> None:
        self.db = db
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(db)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True,
                                        name=f"office-{self.port}")

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the office server did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and wait for the server thread (the store stays on disk)."""
        self._server.should_exit = True
        self._thread.join(timeout=20)
        self.app.state.store.close()
