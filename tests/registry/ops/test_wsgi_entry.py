"""The WSGI entry point that gunicorn and granian load: the app is loaded whole, then frozen."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_loading_the_entry_point_freezes_the_loaded_app_out_of_the_collectors_reach():
    # In a fresh interpreter, as a server worker loads it: every view module is imported and the
    # objects loaded so far are frozen, so a full collection never walks them during a request
    # (64 ms per collection, measured; it was the p99 of verification under load).
    probe = (
        "import gc, json, sys; import registry.wsgi; "
        "print(json.dumps({'frozen': gc.get_freeze_count(), "
        "'views_loaded': 'consent.api.views.verification' in sys.modules, "
        "'young': gc.get_count()[0]}))"
    )
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "registry.settings"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert state["views_loaded"] is True
    assert state["frozen"] > 50_000
    assert state["young"] < 1_000  # nothing of the loading left for the next collection to walk
