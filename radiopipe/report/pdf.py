"""PDF export of the report through headless Chromium, when Chromium is installed."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from radiopipe.storage import atomic_write

logger = logging.getLogger(__name__)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# Headless flags that work as root and in containers, with nothing reaching the network.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
TIMEOUT_S = 120


def find_chromium() -> str | None:
    """The Chromium executable on the PATH (or Debian's /usr/bin/chromium), or None."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def chromium_command(browser: str, profile: Path, *arguments: str) -> list[str]:
    """A headless Chromium command line with a throw-away profile folder."""
    return [browser, *HEADLESS_FLAGS, f"--user-data-dir={profile}", *arguments]


def export_pdf(html: Path, pdf: Path) -> Path | None:
    """Print ``html`` to ``pdf`` (atomically); None, logged, when Chromium is missing or fails."""
    browser = find_chromium()
    if browser is None:
        logger.info("report.pdf skipped: Chromium is not installed")
        return None
    with tempfile.TemporaryDirectory(prefix="radiopipe-chromium-") as profile:

        def write(tmp: Path) -> None:
            command = chromium_command(
                browser, Path(profile), f"--print-to-pdf={tmp}", "--no-pdf-header-footer",
                Path(html).resolve().as_uri(),
            )
            subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT_S)
            if tmp.stat().st_size == 0:
                raise subprocess.CalledProcessError(0, command[0])

        try:
            return atomic_write(pdf, write)
        except (subprocess.SubprocessError, OSError) as exc:
            logger.warning("report.pdf not written: Chromium failed (%s)", type(exc).__name__)
            return None
