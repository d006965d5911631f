"""Real peers for the notification tests: an SMTP server (aiosmtpd, STARTTLS with a
certificate made here) and Kannel (bearerbox + smsbox, with fakesmsc as the SMS centre)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.services import unavailable
from tests.waiting import wait_for

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
REFUSED = "refused@customs.example"  # the test server answers 550 for this address


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


# -- SMTP ----------------------------------------------------------------------------------------


def self_signed(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate for ``host`` (its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Mailbox:
    messages: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 Message accepted"

    def texts(self) -> list[str]:
        return [bytes(m.content or b"").decode("utf-8", "replace") for m in self.messages]


@dataclass
class SmtpServer:
    port: int
    ca_file: Path | None
    mailbox: Mailbox


@contextmanager
def smtp_server(folder: Path, *, starttls: bool) -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    tls = None
    ca = None
    if starttls:
        ca, key = self_signed(folder)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(ca, key)
    port = free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=tls, require_starttls=starttls
    )
    controller.start()
    try:
        yield SmtpServer(port, ca, mailbox)
    finally:
        controller.stop()


# -- Kannel --------------------------------------------------------------------------------------


@dataclass
class Kannel:
    sendsms_url: str
    user: str
    password: str
    output: Path  # what fakesmsc printed: one "Got message" line per SMS it received

    def received(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


KANNEL_CONF = """\
group = core
admin-port = {admin}
admin-password = {admin_password}
admin-allow-ip = 127.0.0.1
smsbox-port = {smsbox}
box-allow-ip = 127.0.0.1
log-level = 1
log-file = "{folder}/bearerbox.log"

group = smsc
smsc = fake
smsc-id = fake
port = {fake}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
log-level = 1
log-file = "{folder}/smsbox.log"

group = sendsms-user
username = {user}
password = {password}
"""


@contextmanager
def kannel(folder: Path) -> Iterator[Kannel]:
    """bearerbox, smsbox and fakesmsc on free ports, stopped at the end."""
    for binary in (BEARERBOX, SMSBOX, FAKESMSC):
        if shutil.which(binary) is None:
            unavailable("Kannel", f"{binary} missing: apt install kannel kannel-extras")
    folder.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("admin", "smsbox", "fake", "sendsms")}
    conf = folder / "kannel.conf"
    conf.write_text(
        KANNEL_CONF.format(
            folder=folder,
            admin_password="admin-secret",
            user="notifier",
            password="sms-secret",
            **ports,
        )
    )
    output = folder / "fakesmsc.out"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            subprocess.Popen(
                [BEARERBOX, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        wait_for(lambda: port_open(ports["smsbox"]), 20, message="bearerbox did not start")
        with output.open("wb") as sink:
            # fakesmsc sends nothing (-m 0) and prints each SMS it receives, on stderr.
            processes.append(
                subprocess.Popen(
                    [
                        FAKESMSC,
                        "-H",
                        "127.0.0.1",
                        "-r",
                        str(ports["fake"]),
                        "-m",
                        "0",
                        "0 0 text x",
                    ],
                    stdout=sink,
                    stderr=sink,
                )
            )
        processes.append(
            subprocess.Popen(
                [SMSBOX, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        wait_for(lambda: port_open(ports["sendsms"]), 20, message="smsbox did not start")
        wait_for(
            lambda: "Connecting" in output.read_text(errors="replace"),
            20,
            message="fakesmsc did not connect",
        )
        yield Kannel(
            f"http://127.0.0.1:{ports['sendsms']}/cgi-bin/sendsms",
            "notifier",
            "sms-secret",
            output,
        )
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
