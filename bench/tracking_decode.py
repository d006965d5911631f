"""Decode throughput of each device protocol: frames/s and records/s, medians of repetitions.

    .venv/bin/python bench/tracking_decode.py [--repeat 7] [--seconds 0.5] [--json out.json]

For each protocol it times (a) ``decode`` alone on one frame, over and over, and (b) the
listener's path: ``frame`` over a buffer of 64 frames back to back, then ``decode`` of each.
Frames are real device messages carrying as many records as the protocol allows in one frame
(traccar test messages, Apache-2.0; see tests/tracking/data/vectors/README.md), except the
OsmAnd JSON batch, which is built here in Traccar Client's format. One process, one core;
no storage, no sockets: this is the protocol layer's ceiling, not the end-to-end figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from smartcustoms.tracking.protocols import PROTOCOLS, Context, Protocol

# Teltonika Codec 8, 14 records (traccar TeltonikaProtocolDecoderTest).
TELTONIKA_14 = (
    "0000000000000401080e0000015d12cc211000fadaf627186742f5000d0048080006000a040100f001500515"
    "000342318a430fe344000003c700000000f1000068b61000001b05000000015d12c6683800fadaf72118673f"
    "82000000000000000007030100f00050040342318a430fe344000001f1000068b6000000015d12bd407800fa"
    "daf72118673f82000000000000000007030100f000500403423179430fe144000001f1000068b6000000015d"
    "12b414d000fadaf72118673f82000400900c0000fa120a0100f00050051502080007010552090e6f4bfa0005"
    "42316a430fe14400000600006202b203c700002328f1000068b61000001b05000000015d12b3074800fadaf2"
    "821867436a000400890d00170011090100f00150011502081007010553090e6f4d054231fb430fe144000006"
    "03ae6202a003c700002328f1000068b61000001b05000000015d12b2ff7800fadaee89186747c60005009a0d"
    "001d0011090100f00150011502081b07010553090e6f4d05423125430fe144000006050862029e03c7000023"
    "28f1000068b61000001b05000000015d12b2e42000fadae8cf18675e0a000300a60d00210011090101f00150"
    "011502082407030554090e6f4d0542310a430fe14400000606cf62029703c700002328f1000068b61000001b"
    "05000000015d12b2d48000fadae05818676a16000400930c00240011090100f00150011502082207010554090e"
    "6f4e05423738430fe144000006066a62029303c700002328f1000068b61000001b05000000015d12b2a1b800fa"
    "dac33e18678e48000600940d00150011090101f00150051500081907030553090e6f4e054239cc430fe1440000"
    "0607c662028603c700002328f1000000001000001b05000000015d12b29dd000fadac19d18678fc80007008"
    "20d00110011090100f00150051500081607030553090e6f4e054238c8430fe14400000606d962028503c70000"
    "2328f1000000001000001b05000000015d12b299e800fadabfa9186790e3000700670d00110011090101f001"
    "50051500081407030553090e6f4e054231e5430fe144000006060a62028403c700002328f1000000001000001b"
    "05000000015d12b2960000fadabd4018679104000600510d00120011090101f00150051500081207030553090e"
    "6f4e054231ce430fe144000006057062028303c700002328f1000000001000001b05000000015d12b27aa800fa"
    "daa96518678b7c000600470d00120011090101f00150051500081807030551090e6f4e05423a70430fe1440000"
    "06074462027c03c700002328f1000000001000001b05000000015d12b276c000fadaa73f18678ae60006003b0d"
    "000e0011090101f00150051500081607030551090e6f4e05423a5a430fe14400000606b762027b03c700002328"
    "f1000000001000001b05000e000007a4"
)
# JT/T 808 location batch 0x0704, 6 reports (traccar Jt808ProtocolDecoderTest).
JT808_BATCH_6 = (
    "7e070401654eb6fb4afd9e485b000601003900000000000c000301f5a58700ca24c5000d00000049251112154545"
    "01040000000025040000000030011731010aeb095554432b30383a3030003900000000000c000301f5a58e00ca24"
    "cd000d0000002825111215454701040000000025040000000030011731010aeb095554432b30383a303000390000"
    "0000000c000301f5a5ad00ca24de000e0000011025111215455901040000000025040000000030011931010aeb09"
    "5554432b30383a3030003900000000000c000301f5a5b100ca24ed000e0000004625111215461401040000000025"
    "040000000030011931010aeb095554432b30383a3030003900000000000c000301f5a5a900ca24f5000e000000a1"
    "25111215461701040000000025040000000030011931010aeb095554432b30383a3030003900000000000c000301"
    "f5a5af00ca24fb000e000000dd25111215463201040000000025040000000030011731010beb095554432b30383a"
    "3030537e"
)
# Jointech JT600 short format v2, 6 records (traccar Jt600ProtocolDecoderTest).
JT701_6 = (
    "2440811188882400A209060908045322564025113242329F0598000001003F0000002D0009060908050322564025"
    "113242329F0598000001003F0000002D0009060908051322564025113242329F0598000001003F0000002D000906"
    "0908052322564025113242329F0598000001003F0000002D0009060908053322564025113242329F059800000100"
    "3F0000002D0009060908054322564025113242329F0598000001003F0000002D001F"
)
# JT701 long (e-lock) format, one record: the lock's usual report (vector jt600-5).
JT701_LOCK = (
    "2480413009781914003406102107544354193631006213423b00000000006c070000000020e064f91ea0671d0002"
    "0f0f0f0f0f0f0f0f0f0f07f100ea0f6e"
)
# GT06 sends one position per packet (vector gt06-22-85).
GT06_1 = "78782222120616083817c5050cc8c801a819d600152400e8011dbf003332000000004862500d0a"
ESEAL_1 = (
    "##S,eSeal,1000821,256,3.0.6,Normal,34,2017-08-31,08:14:40,15,A,25.708828N 100.372870W,"
    "10,0,Close,0.71,0:0:3:0,3.8,-73,E##"
)


def _osmand_batch(count: int) -> bytes:
    """A Traccar Client JSON body with ``count`` locations, as an HTTP/1.1 POST."""
    locations = [
        {
            "timestamp": f"2024-03-01T10:{i:02d}:00Z",
            "coords": {
                "latitude": -4.05 + i / 1000,
                "longitude": 39.66,
                "speed": 12.5,
                "heading": 45,
                "altitude": 12,
                "accuracy": 5,
            },
            "battery": {"level": 0.8, "is_charging": False},
            "is_moving": True,
            "odometer": 1000 + i,
        }
        for i in range(count)
    ]
    body = json.dumps({"device_id": "seal-1", "location": locations}).encode()
    head = f"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    return head + body


CASES: list[tuple[str, str, bytes]] = [
    ("teltonika", "Codec 8, 14 records", bytes.fromhex(TELTONIKA_14)),
    ("jt808", "0x0704 batch, 6 reports", bytes.fromhex(JT808_BATCH_6)),
    ("jt701", "short v2, 6 records", bytes.fromhex(JT701_6)),
    ("jt701", "e-lock long format, 1 record", bytes.fromhex(JT701_LOCK)),
    ("gt06", "0x22 location, 1 record", bytes.fromhex(GT06_1)),
    ("osmand", "JSON batch, 10 locations", _osmand_batch(10)),
    ("eseal", "text sentence, 1 record", ESEAL_1.encode()),
]
STREAM_FRAMES = 64


@dataclass
class Result:
    protocol: str
    frame: str
    records_per_frame: int
    decode_frames_per_s: float
    decode_records_per_s: float
    stream_frames_per_s: float
    stream_records_per_s: float


def _rate(run: Callable[[], int], seconds: float, repeat: int) -> float:
    """Median over ``repeat`` runs of units per second; each run lasts about ``seconds``."""
    run()  # warm up
    started = time.perf_counter()
    calls = 1
    run()
    one = max(time.perf_counter() - started, 1e-7)
    calls = max(1, int(seconds / one))
    rates = []
    for _ in range(repeat):
        done = 0
        started = time.perf_counter()
        for _ in range(calls):
            done += run()
        rates.append(done / (time.perf_counter() - started))
    return statistics.median(rates)


def measure(protocol: Protocol, label: str, frame: bytes, seconds: float, repeat: int) -> Result:
    context = Context(device_id="bench", received_at=datetime(2026, 1, 1, tzinfo=UTC))
    decode = protocol.decode
    records = len(decode(frame, context).records)
    stream = frame * STREAM_FRAMES

    def one_frame() -> int:
        decode(frame, context)
        return 1

    def one_stream() -> int:
        framing = protocol.frame(stream)
        for piece in framing.frames:
            decode(piece.data, context)
        return len(framing.frames)

    decode_rate = _rate(one_frame, seconds, repeat)
    stream_rate = _rate(one_stream, seconds, repeat)
    return Result(
        protocol.name,
        label,
        records,
        decode_rate,
        decode_rate * records,
        stream_rate,
        stream_rate * records,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="repetitions per figure (median)")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one repetition")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    settings = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        "seconds_per_repetition": args.seconds,
        "stream_frames": STREAM_FRAMES,
    }
    print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    header = f"{'protocol':<10} {'frame':<30} {'rec/fr':>6} {'decode fr/s':>12} "
    header += f"{'decode rec/s':>13} {'stream fr/s':>12} {'stream rec/s':>13}"
    print(header)
    results = []
    for name, label, frame in CASES:
        result = measure(PROTOCOLS[name], label, frame, args.seconds, args.repeat)
        results.append(result)
        print(
            f"{result.protocol:<10} {result.frame:<30} {result.records_per_frame:>6} "
            f"{result.decode_frames_per_s:>12,.0f} {result.decode_records_per_s:>13,.0f} "
            f"{result.stream_frames_per_s:>12,.0f} {result.stream_records_per_s:>13,.0f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"settings": settings, "results": [asdict(r) for r in results]}, indent=2)
        )


if __name__ == "__main__":
    main()
