"""``make run``: the web server and a Celery worker (with beat), started and stopped together.

Ctrl-C or SIGTERM stops both cleanly; if either dies, the other is stopped too and the exit
status is non-zero, so a broken start never looks like a running service.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType

logger = logging.getLogger("restu.run")


def _commands(port: str) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "web": [
            python,
            "-m",
            "gunicorn",
            "registry.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
        ],
        "worker": [
            python,
            "-m",
            "celery",
            "-A",
            "registry",
            "worker",
            "--beat",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
        ],
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    port = os.environ.get("PORT", "8000")
    processes = {name: subprocess.Popen(cmd) for name, cmd in _commands(port).items()}  # noqa: S603
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        logger.info("Stopping (signal %s)…", signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    logger.info("Restu is running at http://127.0.0.1:%s/ (API docs: /api/v1/docs/). Ctrl-C stops it.", port)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                logger.error("The %s process exited with status %s; stopping the rest.", name, process.returncode)
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 20
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
