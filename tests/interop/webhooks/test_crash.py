"""kill -9 of the delivering process mid-request: the delivery stays pending and the next
deliverer (another process, once the lease is free) sends it again with the same webhook-id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.interop.webhooks.service import WebhookService
from smartcustoms.interop.webhooks.tables import WebhookDelivery
from tests.interop.webhooks.conftest import decide
from tests.interop.webhooks.receiver import Receiver
from tests.waiting import wait_for

DELIVERER = """
import threading
from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import load_settings
from smartcustoms.interop.webhooks.service import attach_webhooks
ctx = AppContext.from_settings(load_settings(None))
attach_webhooks(ctx)
print("ready", flush=True)
threading.Event().wait()
"""


def status(ctx: AppContext) -> tuple[str, int]:
    with ctx.db.read_session() as session:
        row = session.execute(select(WebhookDelivery.status, WebhookDelivery.attempts)).one()
    return str(row[0]), int(row[1])


def test_kill_9_mid_delivery_resends_the_same_message(
    ctx: AppContext, hooks: WebhookService, subscription: tuple[int, str], receiver: Receiver
) -> None:
    receiver.hold = threading.Event()  # the first request hangs: the process dies inside it
    decide(ctx, 1)
    env = {
        **os.environ,
        "SMARTCUSTOMS_DATABASE_URL": ctx.settings.database_url,
        "SMARTCUSTOMS_SECRET_KEY": ctx.secret_key,
        "SMARTCUSTOMS_DATA_DIR": str(ctx.settings.data_dir),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", DELIVERER], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        wait_for(lambda: receiver.arrived, message="the request is in flight")
        in_flight = receiver.arrived[0]
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
    assert status(ctx) == ("pending", 0)  # nobody saw the answer: not marked delivered
    receiver.hold.set()
    receiver.hold = None
    hooks.start()  # the next deliverer: the lease died with the killed process
    wait_for(lambda: status(ctx)[0] == "delivered", message="sent again after the crash")
    assert receiver.arrived[-1] == in_flight  # the same webhook-id: receivers deduplicate
