"""The container image, built with podman from the offline bundle as deploy/container/README.md
says, started, answering, and stopped by SIGTERM within its grace period.

No container registry is reachable here, so the Debian base image is made from the Debian
archive with debootstrap (the README's path for registry-less sites) and kept in podman's
storage for the next run. The build uses chroot isolation, which needs no container runtime.

Where the container runtime cannot start containers (this project's CI machine lacks
CAP_SYS_RESOURCE, and crun refuses to set the containers' rlimits), the image's file system is
mounted and its entrypoint run under chroot as the image's user with the image's environment:
the same files, user and command, without the runtime's namespaces. Skipped where podman or
debootstrap is missing; CI installs them, and with SMARTCUSTOMS_REQUIRE_SERVICES=1 a missing
one fails."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.browser.conftest import free_port
from tests.deploy.conftest import ROOT, answers, version
from tests.services import unavailable
from tests.waiting import wait_for

# Building a Debian base, an image or a 190 MB bundle takes minutes on a loaded machine.
pytestmark = pytest.mark.timeout(2400)

BASE = "localhost/smartcustoms-test-debian-bookworm:latest"
MIRROR = "http://deb.debian.org/debian"


def _podman(
    *args: str, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=check
    )


#: What the Containerfile would otherwise fetch with apt: Python, LightGBM's OpenMP runtime, and
#: Pango with a font for WeasyPrint's PDF reports.
BASE_PACKAGES = (
    "python3", "python3-venv", "libgomp1", "libpango-1.0-0", "libpangoft2-1.0-0",
    "fonts-dejavu-core",
)  # fmt: skip


@pytest.fixture(scope="module")
def base_image() -> str:
    if shutil.which("podman") is None:
        unavailable("podman", "apt install podman")
    if _podman("image", "exists", BASE, check=False).returncode == 0:
        return BASE
    if shutil.which("debootstrap") is None:
        unavailable("debootstrap", "apt install debootstrap")
    with tempfile.TemporaryDirectory() as work:
        rootfs = Path(work) / "rootfs"
        made = subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
             "bookworm", str(rootfs), MIRROR],
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        if made.returncode != 0:
            unavailable("the Debian archive", made.stdout[-300:] + made.stderr[-300:])
        with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
            imported = subprocess.run(
                ["podman", "import", "-", BASE], stdin=tar.stdout, capture_output=True, text=True
            )
        assert imported.returncode == 0, imported.stderr
    return BASE


@pytest.fixture(scope="module")
def image(base_image: str, bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    context = tmp_path_factory.mktemp("context")
    shutil.copy(ROOT / "deploy/container/Containerfile", context / "Containerfile")
    shutil.copy(bundle, context / bundle.name)
    tag = f"localhost/smartcustoms-test:{uuid.uuid4().hex[:8]}"
    built = _podman(
        "build", "--isolation", "chroot", "--format", "docker", "--build-arg", f"BASE={base_image}",
        "-t", tag, "-f", str(context / "Containerfile"), str(context), timeout=900, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    yield tag
    _podman("rmi", "--force", tag, check=False)


class Launcher:
    """Runs the image: with podman where the runtime works, else its file system under chroot."""

    def __init__(self, image: str, stack: ExitStack) -> None:
        self.image = image
        tried = _podman(
            "run", "--rm", "--network", "none", "--entrypoint", "true", image, check=False
        )
        self.runtime = tried.returncode == 0
        if not self.runtime:
            assert "OCI permission denied" in tried.stderr, tried.stderr
            self.prefix, self.entrypoint = stack.enter_context(_chroot(image))

    def run(self, *args: str, entrypoint: str | None = None) -> str:
        if self.runtime:
            override = ["--entrypoint", entrypoint] if entrypoint else []
            done = _podman("run", "--rm", "--network", "none", *override, self.image, *args)
            return done.stdout
        command = [entrypoint] if entrypoint else self.entrypoint
        return subprocess.run(
            [*self.prefix, *command, *args], capture_output=True, text=True, check=True, timeout=120
        ).stdout

    @contextmanager
    def serving(self, port: int, *args: str) -> Iterator[Callable[[], int]]:
        """Serve on 127.0.0.1:``port``; yields a stop() that sends SIGTERM and returns the exit
        code once the process has ended."""
        if self.runtime:
            name = f"smartcustoms-test-{uuid.uuid4().hex[:8]}"
            _podman("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000", self.image,
                    *args, "--host", "0.0.0.0", "--port", "8000")  # fmt: skip  # noqa: S104

            def stop() -> int:
                _podman("stop", "--time", "30", name)
                return int(_podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout)

            try:
                yield stop
            finally:
                _podman("rm", "--force", name, check=False)
            return
        process = subprocess.Popen(
            [*self.prefix, *self.entrypoint, *args, "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def stop_process() -> int:
            process.send_signal(signal.SIGTERM)
            return process.wait(30)

        try:
            yield stop_process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


@contextmanager
def _chroot(image: str) -> Iterator[tuple[list[str], list[str]]]:
    """The image's file system, writable and mounted; yields (argv prefix, entrypoint): the
    prefix runs a command as the image's user with exactly the image's environment."""
    if os.geteuid() != 0:
        unavailable("a container runtime", "podman cannot start containers and chroot needs root")
    config = json.loads(_podman("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    container = _podman("create", image).stdout.strip()
    root = _podman("mount", container).stdout.strip()
    points = [f"{root}/proc", f"{root}/dev"]
    subprocess.run(["mount", "-t", "proc", "proc", points[0]], check=True)
    subprocess.run(["mount", "--bind", "/dev", points[1]], check=True)
    try:
        user = config["User"]
        yield (
            ["chroot", f"--userspec={user}:{user}", root, "env", "-i", *config["Env"]],
            list(config["Entrypoint"]),
        )
    finally:
        for point in reversed(points):
            subprocess.run(["umount", "--lazy", point], check=False)
        _podman("umount", container, check=False)
        _podman("rm", "--force", container, check=False)


@pytest.fixture(scope="module")
def launcher(image: str) -> Iterator[Launcher]:
    with ExitStack() as stack:
        yield Launcher(image, stack)


def test_the_image_runs_as_its_own_user(launcher: Launcher) -> None:
    assert launcher.run("--version").strip() == f"smartcustoms {version()}"
    assert launcher.run("-un", entrypoint="id").strip() == "smartcustoms"


def test_the_image_makes_pdf_reports(launcher: Launcher) -> None:
    """WeasyPrint finds Pango and a font in the image (the reports' PDF downloads)."""
    made = launcher.run(
        "-c",
        "import sys; from weasyprint import HTML; "
        "sys.stdout.buffer.write(HTML(string='<h1>Transits</h1>').write_pdf()[:5])",
        entrypoint="python3",
    )
    assert made == "%PDF-"


def test_the_demo_serves_from_the_image_and_stops_on_sigterm(launcher: Launcher) -> None:
    port = free_port()
    with launcher.serving(port, "demo") as stop:
        wait_for(
            lambda: answers(f"http://127.0.0.1:{port}/health"),
            timeout=180,
            message="the image's demo never answered /health",
        )
        assert answers(f"http://127.0.0.1:{port}/login")
        started = time.monotonic()
        code = stop()
        # Stopped by SIGTERM inside its grace period, not killed when the wait ran out.
        assert time.monotonic() - started < 25
        assert code in (0, 130, 143), code
