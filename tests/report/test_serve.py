"""python -m nas.report serve=true: optuna-dashboard serves a real study; its trials read back
over HTTP from a free localhost port."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from nas.cli import load_space
from nas.search import SearchSettings, SurrogateEvaluator, run_search

pytest.importorskip("optuna_dashboard",
                    reason="optuna-dashboard is not installed (pip install 'nas[dashboard]')")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_serve_shows_the_runs_trials_over_http(tmp_path):
    run_dir = tmp_path / "run"
    study = run_search(space=load_space("mobilenet_v3_small"),
                       settings=SearchSettings(n_trials=3, objectives="macs"),
                       evaluator=SurrogateEvaluator(), run_dir=run_dir, study_name="run",
                       show_progress=False)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "nas.report", f"run_dir={run_dir}",
                               "serve=true", f"port={port}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, studies = time.monotonic() + 60, None
        while studies is None and time.monotonic() < deadline:
            assert server.poll() is None, server.communicate()[1]
            try:
                studies = get_json(f"http://127.0.0.1:{port}/api/studies")["study_summaries"]
            except OSError:
                time.sleep(0.3)
        assert studies is not None, "the dashboard did not answer within 60 s"
        assert [s["study_name"] for s in studies] == ["run"]
        detail = get_json(f"http://127.0.0.1:{port}/api/studies/{studies[0]['study_id']}")
        served = sorted((t["number"], tuple(t["values"])) for t in detail["trials"])
        assert served == sorted((t.number, tuple(t.values)) for t in study.trials)
        assert len(served) == 3
    finally:
        server.terminate()
        server.wait(timeout=30)
