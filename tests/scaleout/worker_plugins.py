"""Dask worker plugins that change how cases run on the workers, so that tests can act while
cases run (kill a worker) or make a case kill its worker. The workers import this module, hence a
module of its own; a task pickles ``extract_case`` by name, so it finds the replacement."""

from __future__ import annotations

import os
import time

from distributed import WorkerPlugin


class SlowCases(WorkerPlugin):
    """Every case's extraction starts with a pause of ``seconds``."""

    name = "radiopipe-test-slow-cases"

    def __init__(self, seconds: float):
        self.seconds = seconds

    def setup(self, worker):
        from radiopipe import extraction

        original, seconds = extraction.extract_case, self.seconds

        def slow_extract_case(case, *args):
            time.sleep(seconds)
            return original(case, *args)

        extraction.extract_case = slow_extract_case


class CaseKillsItsWorker(WorkerPlugin):
    """The worker process running case ``case_id`` dies at once (as if killed for memory)."""

    name = "radiopipe-test-case-kills-its-worker"

    def __init__(self, case_id: str):
        self.case_id = case_id

    def setup(self, worker):
        from radiopipe import extraction

        original, fatal = extraction.extract_case, self.case_id

        def fatal_extract_case(case, *args):
            if case.case_id == fatal:
                os._exit(1)
            return original(case, *args)

        extraction.extract_case = fatal_extract_case
