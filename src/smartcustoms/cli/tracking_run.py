"""``smartcustoms tracking listen`` and ``smartcustoms tracking simulate``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from smartcustoms.cli.common import fail, open_context, settings_of
from smartcustoms.cli.lazy import lazy_module

if TYPE_CHECKING:
    from smartcustoms.core import errors
    from smartcustoms.tracking.listeners import mqtt as mqtt_listener
    from smartcustoms.tracking.listeners import process, server, spec
else:  # loaded when a command runs, not for `--help`
    errors = lazy_module("smartcustoms.core.errors")
    mqtt_listener = lazy_module("smartcustoms.tracking.listeners.mqtt")
    process = lazy_module("smartcustoms.tracking.listeners.process")
    server = lazy_module("smartcustoms.tracking.listeners.server")
    spec = lazy_module("smartcustoms.tracking.listeners.spec")

__all__ = ["LISTEN_HELP", "listen", "simulate"]

LISTEN_HELP = "\n\n".join(
    (
        "Run the device listeners: TCP, UDP and HTTP servers per protocol, and the MQTT "
        "subscriber when a broker is set (SMARTCUSTOMS_TRACKING_MQTT_URL).",
        "Each listener is 'protocol:transport:port' (SMARTCUSTOMS_TRACKING_LISTENERS, or "
        "--listener, repeated); port 0 takes any free port and --ready-file says which. "
        "Records are acknowledged to the device only once committed to the database; the "
        "pipeline (transits, corridors, rules, alerts) runs in the same transaction.",
        "With --workers N, N processes share the ports (SO_REUSEPORT) and the MQTT load "
        "(shared subscription). SIGTERM or Ctrl+C stops gracefully.",
    )
)


def listen(
    ctx: typer.Context,
    listener: Annotated[
        list[str] | None,
        typer.Option(
            "--listener",
            "-l",
            help="protocol:transport:port (repeat for several).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to bind [default: SMARTCUSTOMS_TRACKING_HOST]")
    ] = None,
    mqtt: Annotated[
        str | None,
        typer.Option(
            help="MQTT broker, mqtt://host:port [default: SMARTCUSTOMS_TRACKING_MQTT_URL]"
        ),
    ] = None,
    no_mqtt: Annotated[bool, typer.Option("--no-mqtt", help="Do not subscribe to MQTT.")] = False,
    mqtt_client_id: Annotated[
        str | None, typer.Option(help="MQTT client ID (default: from the host name)")
    ] = None,
    ready_file: Annotated[
        Path | None, typer.Option(help="Write the bound ports here (JSON) once listening.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Listener processes.")] = 1,
    reuse_port: Annotated[
        bool, typer.Option(help="Share the ports with other processes (SO_REUSEPORT).")
    ] = False,
    exit_with_parent: Annotated[
        bool, typer.Option(help="Stop when the process that started this one ends.")
    ] = False,
) -> None:
    """Run the device listeners (help text: ``LISTEN_HELP``)."""
    settings = settings_of(ctx)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    specs = [spec.parse_spec(s) for s in (listener or settings.tracking_listeners)]
    if workers > 1:
        _run_workers(ctx, workers, listener, host, mqtt, no_mqtt, exit_with_parent, specs)
        return
    url = None if no_mqtt else (mqtt or settings.tracking_mqtt_url)
    mqtt_config = None
    if url:
        mhost, mport, user, password = mqtt_listener.parse_mqtt_url(url)
        mqtt_config = mqtt_listener.MqttConfig(
            host=mhost,
            port=mport,
            username=user,
            password=password,
            prefix=settings.tracking_mqtt_topic_prefix,
            share_group=settings.tracking_mqtt_share_group,
            client_id=mqtt_client_id or f"smartcustoms-ingest-{socket.gethostname()}",
            reap_after_s=settings.tracking_mqtt_reap_after_s,
        )
    config = server.ListenConfig(
        specs=specs,
        host=host or settings.tracking_host,
        mqtt=mqtt_config,
        idle_timeout_s=settings.tracking_idle_timeout_s,
        options=dict(o.split("=", 1) for o in settings.tracking_protocol_options),
        reuse_port=reuse_port,
        ready_file=ready_file,
        exit_with_parent=exit_with_parent,
    )
    with open_context(ctx) as app_ctx:
        server.run_listeners(app_ctx, config)


def _run_workers(
    ctx: typer.Context,
    workers: int,
    listener: list[str] | None,
    host: str | None,
    mqtt: str | None,
    no_mqtt: bool,
    exit_with_parent: bool,
    specs: list[spec.ListenerSpec],
) -> None:
    if any(s.port == 0 for s in specs):
        raise errors.ConfigurationError(
            "--workers needs fixed ports: port 0 would differ per worker"
        )
    args: list[str] = []
    for item in listener or ():
        args += ["--listener", item]
    if host:
        args += ["--host", host]
    if mqtt:
        args += ["--mqtt", mqtt]
    if no_mqtt:
        args.append("--no-mqtt")
    config = (ctx.find_root().obj or {}).get("config")
    codes = process.run_listener_workers(workers, config=config, args=args)
    if exit_with_parent:
        os._exit(max(codes))
    if any(codes):
        raise typer.Exit(max(codes))


#: The protocols the simulator's encoders speak (named here so that loading the CLI does not load
#: the sandbox; tests/sandbox/test_traffic_simulator.py keeps them equal to its encoders).
SIMULATED_PROTOCOLS = ("teltonika", "jt808", "gt06", "eseal", "osmand", "mqtt")


def simulate(
    devices: Annotated[int, typer.Option("--devices", "-n", min=1, max=200_000, help="Trucks.")],
    protocol: Annotated[
        str, typer.Option("--protocol", "-p", help=f"One of: {', '.join(SIMULATED_PROTOCOLS)}.")
    ],
    target: Annotated[str, typer.Option(help="The listener (or MQTT broker), HOST:PORT.")],
    incidents: Annotated[
        float, typer.Option(min=0, help="Incidents per truck per hour (openings, deviations …).")
    ] = 0.0,
    interval: Annotated[float, typer.Option(min=0, help="Seconds between reports.")] = 10.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds [default: run on]")
    ] = None,
    speedup: Annotated[float, typer.Option(min=0, help="Trucks move this much faster.")] = 1.0,
    records_per_frame: Annotated[
        int, typer.Option(min=1, max=255, help="Records per frame (teltonika, mqtt).")
    ] = 1,
    incident_minutes: Annotated[
        float, typer.Option(min=0, help="How long a deviation, stop or silence lasts.")
    ] = 10.0,
    corridor: Annotated[
        str | None, typer.Option(help="Only this packaged corridor [default: all]")
    ] = None,
    first: Annotated[int, typer.Option(min=0, help="Number of the first device.")] = 0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    exit_with_parent: Annotated[
        bool, typer.Option(help="Stop when the process that started this one ends.")
    ] = False,
) -> None:
    """Drive simulated trucks along the packaged corridors against a listener.

    Real sockets, a real device protocol; some trucks misbehave (--incidents). Prints the
    counters as JSON when it stops (after --duration, SIGTERM or Ctrl+C).
    """
    # The simulator lives in the sandbox, which the service never loads: import it only here.
    from smartcustoms.sandbox.traffic_simulator import (
        Fleet,
        FleetConfig,
        make_trucks,
        packaged_routes,
    )

    if protocol not in SIMULATED_PROTOCOLS:
        fail(f"--protocol: one of {', '.join(SIMULATED_PROTOCOLS)}", code=2)
    host, _, port_text = target.rpartition(":")
    if not host or not port_text.isdigit():
        fail("--target: HOST:PORT", code=2)
    routes = list(packaged_routes(corridor).values())
    if not routes:
        fail(f"--corridor: no packaged corridor {corridor!r}", code=2)
    trucks = make_trucks(devices, protocol, routes, seed=seed, first=first)
    config = FleetConfig(
        protocol=protocol,
        host=host,
        port=int(port_text),
        interval_s=interval,
        records_per_frame=records_per_frame,
        speedup=speedup,
        incidents_per_hour=incidents,
        incident_minutes=incident_minutes,
        seed=seed,
    )
    logging.basicConfig(level=logging.WARNING)
    fleet = Fleet(config, trucks)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, fleet.stop)
        if exit_with_parent:
            loop.create_task(process.watch_parent(fleet.stop))  # noqa: RUF006 - ends with the loop
        await fleet.run(duration)

    asyncio.run(main())
    typer.echo(json.dumps(fleet.stats.as_dict()))
