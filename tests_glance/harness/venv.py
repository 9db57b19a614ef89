"""Glance's own virtualenv: created once, then reused while its stamp matches.

Glance and the project cannot share a virtualenv (Glance pins its own SQLAlchemy, WebOb,
oslo.* and eventlet), so Glance gets one of its own under ``var/``. A stamp file written
after a complete install records what was asked for; a virtualenv whose stamp is missing
or different (an interrupted install, a changed pin) is rebuilt from scratch rather than
patched, so a half-installed Glance never runs.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
# psycopg is SQLAlchemy 2's PostgreSQL driver (see database.py for why PostgreSQL).
REQUIREMENTS = ("glance==33.0.0", "uWSGI==2.0.31", "psycopg[binary]==3.3.9")
CONSTRAINTS = HERE / "glance-constraints.txt"
STAMP_NAME = ".imagetasks-glance-stamp.json"


@dataclass(frozen=True)
class GlanceVenv:
    """Paths into an installed Glance virtualenv."""

    root: Path
    versions: dict[str, str]
    install_seconds: float | None = None

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def uwsgi(self) -> Path:
        return self.root / "bin" / "uwsgi"

    @property
    def glance_manage(self) -> Path:
        return self.root / "bin" / "glance-manage"

    @property
    def stamp_id(self) -> str:
        """A short name for this install, for things made from it (template databases)."""
        stamp = (self.root / STAMP_NAME).read_bytes()
        return hashlib.sha256(stamp).hexdigest()[:12]


def _wanted() -> dict[str, str]:
    """What a reusable virtualenv must have been built from."""
    constraints = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()
    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "requirements": " ".join(REQUIREMENTS),
        "constraints_sha256": constraints,
    }


def _read_stamp(root: Path) -> dict[str, object] | None:
    try:
        return json.loads((root / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None


def _complete(venv: GlanceVenv) -> bool:
    return all(path.exists() for path in (venv.python, venv.uwsgi, venv.glance_manage))


def _installed_versions(python: Path) -> dict[str, str]:
    script = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({n: m.version(n) for n in "
        "('glance', 'glance_store', 'taskflow', 'uWSGI', 'oslo.policy')}))"
    )
    output = subprocess.run(
        [str(python), "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output)


def ensure_glance_venv(root: Path, *, log: Path | None = None) -> GlanceVenv:
    """The Glance virtualenv at ``root``, installed first if it is missing or stale.

    A lock file beside it makes a second test run wait for the first one's install
    instead of installing over it.
    """
    root = root.resolve()
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = _wanted()
        stamp = _read_stamp(root)
        if stamp is not None and stamp.get("wanted") == wanted:
            venv = GlanceVenv(root, dict(stamp.get("versions", {})))
            if _complete(venv):
                return venv
        return _install(root, wanted, log or root.parent / "glance-venv-install.log")


def _install(root: Path, wanted: dict[str, str], log: Path) -> GlanceVenv:
    started = time.monotonic()
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    python = root / "bin" / "python"
    commands = [
        [sys.executable, "-m", "venv", str(root)],
        [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--constraint",
            str(CONSTRAINTS),
            *REQUIREMENTS,
        ],
    ]
    with log.open("w") as output:
        for command in commands:
            output.write(f"$ {' '.join(command)}\n")
            output.flush()
            result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT)
            if result.returncode != 0:
                raise RuntimeError(f"installing Glance failed ({command[2:5]}); see {log}")
    seconds = time.monotonic() - started
    versions = _installed_versions(python)
    stamp = {"wanted": wanted, "versions": versions, "install_seconds": round(seconds, 1)}
    # Written last: its presence is what marks the install as complete.
    (root / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")
    return GlanceVenv(root, versions, install_seconds=seconds)


def main(argv: list[str]) -> int:
    """``python -m tests_glance.harness.venv [PATH]``: install ahead of the test run, so
    the install's minute or two is not counted against the first test's timeout."""
    root = Path(argv[1] if len(argv) > 1 else "var/glance-venv")
    venv = ensure_glance_venv(root)
    took = f" in {venv.install_seconds:.0f} s" if venv.install_seconds is not None else ""
    versions = ", ".join(f"{name} {version}" for name, version in venv.versions.items())
    print(f"Glance virtualenv {venv.root}{took}: {versions}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
