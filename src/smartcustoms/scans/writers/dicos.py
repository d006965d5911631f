"""NEMA DICOS 2D X-ray ("DX for processing") with one frame per energy channel.

Standard attributes carry what DICOS defines – the object of inspection's ID (the container
number, in PatientID), the declaration (AccessionNumber), the station, the pixel spacing – and a
private element carries the same sidecar JSON the TIFF writer uses, for the air and dark levels,
beam geometry and calibration that DICOS has no place for.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from smartcustoms.scans.model import Scan
from smartcustoms.scans.sidecar import sidecar_dict

__all__ = [
    "DICOS_DX_FOR_PRESENTATION",
    "DICOS_DX_FOR_PROCESSING",
    "PRIVATE_CREATOR",
    "PRIVATE_GROUP",
    "write_dicos",
]

DICOS_DX_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.501.2.1"
DICOS_DX_FOR_PROCESSING = "1.2.840.10008.5.1.4.1.1.501.2.2"
PRIVATE_GROUP = 0x0071
PRIVATE_CREATOR = "SMARTCUSTOMS SCAN 1"
_UID_ROOT = "1.2.826.0.1.3680043.10.1299."  # generate_uid's prefix space for this product


def write_dicos(scan: Scan, path: str | Path) -> Path:
    """Write ``scan`` as a DICOS DX for-processing file (frames in channel order, high first)."""
    path = Path(path)
    meta = scan.metadata
    # Deterministic UIDs: the same scan written twice gives the same file.
    seed = [
        meta.scanner_id,
        meta.container_number or "",
        meta.declaration_ref or "",
        meta.acquired_at.isoformat() if meta.acquired_at else "",
    ]
    instance = generate_uid(entropy_srcs=[*seed, "instance"])
    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = UID(DICOS_DX_FOR_PROCESSING)
    fm.MediaStorageSOPInstanceUID = instance
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = fm
    ds.SOPClassUID = UID(DICOS_DX_FOR_PROCESSING)
    ds.SOPInstanceUID = instance
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[*seed, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[*seed, "series"])
    ds.Modality = "DX"
    ds.Manufacturer = "smartcustoms"
    ds.StationName = meta.scanner_id[:16]
    ds.DeviceSerialNumber = meta.scanner_id[:64]
    ds.PatientID = meta.container_number or ""  # DICOS: the object of inspection's ID
    ds.PatientName = ""
    ds.OOIType = "CARGO"
    ds.AccessionNumber = (meta.declaration_ref or "")[:16]
    if meta.acquired_at is not None:
        ds.AcquisitionDateTime = meta.acquired_at.strftime("%Y%m%d%H%M%S.%f%z")
    rows, cols = scan.shape
    ds.Rows, ds.Columns = rows, cols
    ds.NumberOfFrames = len(scan.channels)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.ImagerPixelSpacing = [f"{scan.pitch_y_mm:.6g}", f"{scan.pitch_x_mm:.6g}"]  # row, column
    ds.KVP = f"{scan.channels[0].nominal_mev * 1000:.0f}"
    frames = np.stack([np.ascontiguousarray(c.counts, dtype="<u2") for c in scan.channels])
    ds.PixelData = frames.tobytes()
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x00, "UT", json.dumps(sidecar_dict(scan), sort_keys=True))
    tmp = path.with_name(path.name + ".part")
    ds.save_as(tmp, enforce_file_format=True)
    tmp.replace(path)
    return path
