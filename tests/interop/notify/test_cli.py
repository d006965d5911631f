"""``smartcustoms notify``: rules, contacts, a test message through a real SMTP server."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.core.errors import SmartCustomsError
from tests.interop.notify.servers import smtp_server

runner = CliRunner()


def test_rules_contact_test_and_list(database_url: str, tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=True) as mail:
        env = {
            "SMARTCUSTOMS_DATABASE_URL": database_url,
            "SMARTCUSTOMS_NOTIFY_SMTP_HOST": "127.0.0.1",
            "SMARTCUSTOMS_NOTIFY_SMTP_PORT": str(mail.port),
            "SMARTCUSTOMS_NOTIFY_SMTP_CA_FILE": str(mail.ca_file),
            "SMARTCUSTOMS_NOTIFY_SMTP_FROM": "alerts@customs.example",
        }

        def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
            result = runner.invoke(app, list(args), env=env, input=stdin)
            if isinstance(result.exception, SmartCustomsError):  # run_guarded prints these
                return 1, result.exception.message
            return result.exit_code, result.output

        code, out = run("users", "add", "chief", "--role", "supervisor", "--password-stdin",
                        stdin="correct horse battery\n")  # fmt: skip
        assert code == 0, out
        code, out = run("notify", "rules", "add", "scan_recheck", "--role", "supervisor",
                        "--after", "0")  # fmt: skip
        assert code == 0 and "rule 1 added" in out, out
        code, out = run("notify", "rules", "add", "bogus", "--role", "supervisor")
        assert code == 1 and "trigger" in out
        code, out = run("notify", "rules")
        assert "scan_recheck" in out and "role supervisor" in out
        code, out = run("notify", "test", "chief")
        assert code == 1 and "no e-mail address" in out
        code, out = run("notify", "contact", "chief", "--email", "chief@customs.example",
                        "--quiet", "22:00-06:00", "--timezone", "Africa/Dakar")  # fmt: skip
        assert code == 0, out
        code, out = run("notify", "test", "chief")
        assert code == 0 and "sent to chief@customs.example" in out, out
        assert len(mail.mailbox.messages) == 1
        code, out = run("notify", "list", "--state", "sent")
        assert code == 0 and "chief" in out and "sent" in out
        code, out = run("notify", "list", "--state", "nonsense")
        assert code == 1 and "state" in out
