"""Run the analyses that apply to a scan and its declaration, and report what they found.

* mass: always (imaged load mass; compared when the goods' declared gross mass is given –
  goods with their packaging, without the container: the tare never enters);
* empty: when the container is declared empty – explicitly, or by a declared gross mass of
  goods of at most 100 kg and no HS code – or when the image shows under 300 kg of load;
* concealment: when there is a load and the scan is dual-energy – the classical analysis
  (:mod:`.concealment`) and, for the goods it was trained on, the learned detector
  (:mod:`.learned`). Both report regions; the wanted false-alarm rate is shared between them
  (a third each for composition, density and learned regions), each threshold set from the
  heading's history once it has enough scans.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

from smartcustoms import __version__
from smartcustoms.scans.analyses.composition import composition_of
from smartcustoms.scans.analyses.concealment import (
    ConcealmentResult,
    Region,
    find_concealments,
)
from smartcustoms.scans.analyses.empty import DEFAULT_THRESHOLD_KG, verify_empty
from smartcustoms.scans.analyses.goods import GoodsProfile, goods_profile
from smartcustoms.scans.analyses.history import HeadingProfile
from smartcustoms.scans.analyses.imaging import Imaged, image
from smartcustoms.scans.analyses.learned import (
    LearnedDetector,
    LearnedResult,
    default_detector,
    learned_applies,
)
from smartcustoms.scans.analyses.mass import MassEstimate, estimate_mass
from smartcustoms.scans.errors import ScanInputError
from smartcustoms.scans.findings import Check, Finding, Report, ReportRegion
from smartcustoms.scans.messages import english
from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.calibration import Calibration
from smartcustoms.scans.physics.materials import ORGANIC_MAX_Z

__all__ = ["ANALYSIS_VERSION", "analyze"]

ANALYSIS_VERSION = "smartcustoms.scans/1.1"
FRAME_VERSION = "frame/1.3"  # 1.3: no roof above a top row of air (1.2: clipped tilt from floor)
_EMPTY_MARGIN_KG = 100.0
_LOADED_KG = 300.0
FALSE_ALARM_RATE = 0.05  # wanted share of honest loads alarmed on, all region kinds together


def _scan_summary(scan: Scan, imaged: Imaged) -> dict[str, object]:
    meta = scan.metadata
    rows, cols = scan.shape
    return {
        "file": scan.source.name if scan.source else None,
        "scanner_id": meta.scanner_id,
        "container_number": meta.container_number,
        "container_type": meta.container_type
        or (imaged.geometry.spec.iso_code if imaged.geometry.spec else None),
        "declaration_ref": meta.declaration_ref,
        "acquired_at": meta.acquired_at.isoformat() if meta.acquired_at else None,
        "rows": rows,
        "columns": cols,
        "pixel_pitch_mm": [scan.pitch_x_mm, scan.pitch_y_mm],
        "dual_energy": scan.is_dual_energy,
        "calibration": (
            imaged.decomposer.calibration.calibration_id or imaged.decomposer.calibration.source
        ),
        "container_bbox_px": list(imaged.geometry.outer),
        "load_space_bbox_px": list(imaged.geometry.interior),
        "dead_rows": list(imaged.attenuation.dead_rows),
        # The container's frame as found (image pixels), and whether the analyses were run on
        # the image straightened into it; boxes above are in that frame, findings' in the image.
        "frame": None if imaged.frame is None else imaged.frame.as_dict(cols),
        "frame_rectified": imaged.rectified,
    }


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def _merge_overlapping(regions: list[Region]) -> list[list[Region]]:
    """Regions whose boxes overlap, grouped (one block often shows in Z_eff and in density)."""
    groups: list[list[Region]] = []
    for r in sorted(regions, key=lambda x: -x.score):
        for g in groups:
            if any(_overlap(r.bbox, o.bbox) for o in g):
                g.append(r)
                break
        else:
            groups.append([r])
    return groups


def _mass_check(m: MassEstimate) -> tuple[Check, Finding | None]:
    figures = {
        "imaged_net_kg": m.imaged_net_kg,
        "imaged_gross_kg": m.imaged_gross_kg,
        "tare_kg": m.tare_kg,
        "tare_source": m.tare_source,
        "declared_gross_kg": m.declared_gross_kg,
        "declared_net_kg": m.declared_net_kg,
        "difference_kg": m.difference_kg,
        "difference_pct": m.difference_pct,
        "sigma_kg": m.sigma_kg,
        "z_score": m.z_score,
        "lower_bound": m.lower_bound,
        "wall_areal_density": m.wall_areal_density,
        "wall_source": m.wall_source,
        "impenetrable_fraction": m.impenetrable_fraction,
        # Share of the loaded area too dark to read, and the share of the mass it may hide.
        "dark_area_fraction": m.dark_area_fraction,
        "hideable_fraction": m.hideable_fraction,
        # What the goods were weighed as: their declared composition, or None (the decomposition).
        "composition": m.composition,
    }
    bound = "_lower_bound" if m.lower_bound else ""
    if m.consistent is None:
        text, said = english(f"scans.mass.alone{bound}", imaged=m.imaged_net_kg)
        return Check("mass", m.version, "not_applicable", text, figures, said), None
    assert m.declared_net_kg is not None and m.difference_kg is not None and m.z_score is not None
    text, said = english(
        f"scans.mass.compared{bound}",
        imaged=m.imaged_net_kg,
        declared=m.declared_net_kg,
        difference=m.difference_kg,
        z=m.z_score,
    )
    if m.consistent:
        status = "unverifiable" if (m.lower_bound and m.z_score < -3) else "pass"
        return Check("mass", m.version, status, text, figures, said), None
    heavier = m.difference_kg > 0
    description, described = english(
        "scans.mass.heavier" if heavier else "scans.mass.lighter", detail=said
    )
    finding = Finding(
        id=0,
        analysis="mass",
        analysis_version=m.version,
        category="MASS_DISCREPANCY",
        description=description,
        message=described,
        flag="THREAT",
        probability=float(min(1.0, 0.5 + abs(m.z_score) / 20)),
        mass_kg=m.difference_kg,
        details={"z_score": m.z_score, "difference_pct": m.difference_pct},
    )
    return Check("mass", m.version, "fail", text, figures, said), finding


def _reads_off_calibration(result: ConcealmentResult, goods: GoodsProfile | None) -> str | None:
    """Why the learned detector must not judge this load: organic goods reading as mixed.

    Textiles are cellulose and plastics, Z_eff 6–8. When the whole load of them reads 10 or
    more, the scanner's spectra are not the calibration's (a site's scanner not yet calibrated
    with ``smartcustoms scans calibrate``): every Z_eff and ratio the model learned from is
    shifted, and its scores mean nothing. The classical analysis compares regions with the
    load itself and still applies."""
    if goods is None or not goods.organic_only or result.load is None:
        return None
    if result.load.median_z < ORGANIC_MAX_Z:
        return None
    return (
        f"declared {goods.description} read as Z_eff {result.load.median_z:.1f}: "
        "the scanner's spectra do not match its calibration"
    )


def analyze(
    scan: Scan,
    *,
    declared_gross_kg: float | None = None,
    hs_code: str | None = None,
    tare_kg: float | None = None,
    declared_empty: bool | None = None,
    history: HeadingProfile | None = None,
    calibration: Calibration | None = None,
    empty_threshold_kg: float = DEFAULT_THRESHOLD_KG,
    now: datetime | None = None,
    detector: LearnedDetector | None = None,
    use_learned: bool = True,
) -> Report:
    """Analyse one scan against its declaration.

    ``declared_gross_kg`` is the goods' gross mass (with packaging, without the container) and
    is compared with the imaged load directly; ``tare_kg`` (the CSC plate's) only adds the
    container's gross to the report; both in kilograms; ``hs_code`` as 4–10 digits (dots allowed);
    ``history`` the profile of past cleared scans of the HS heading; ``calibration`` overrides the
    scan's own; ``detector`` overrides the packaged learned model (``use_learned=False``: the
    classical analysis alone). Raises :class:`ScanInputError` for a malformed HS code or
    negative masses, :class:`DetectorModelError` when the learned model cannot be loaded.
    """
    started = time.perf_counter()
    for name, value in (("declared_gross_kg", declared_gross_kg), ("tare_kg", tare_kg)):
        if value is not None and not value >= 0:
            raise ScanInputError(f"{name} must be a non-negative number of kilograms", field=name)
    goods: GoodsProfile | None = goods_profile(hs_code) if hs_code else None
    imaged = image(scan, calibration)
    checks: list[Check] = []
    findings: list[Finding] = []
    pitch = (scan.pitch_x_mm, scan.pitch_y_mm)

    frame = imaged.frame
    if frame is not None:
        text, said = english(
            "scans.frame.unsure" if frame.unsure else "scans.frame.found",
            tilt=frame.tilt_deg,
            sag=frame.sag_mm,
            confidence=frame.confidence,
            reasons=list(frame.reason_messages),  # each worded in the reader's language
        )
        checks.append(
            Check(
                "frame",
                FRAME_VERSION,
                "unverifiable" if frame.unsure else "pass",
                text,
                frame.as_dict(scan.shape[1]),
                said,
            )
        )
    mass = estimate_mass(
        imaged,
        declared_gross_kg=declared_gross_kg,
        tare_kg=tare_kg,
        composition=composition_of(goods.hs_code) if goods else None,
    )
    check, finding = _mass_check(mass)
    checks.append(check)
    if finding:
        findings.append(finding)

    if declared_empty is None:
        declared_empty = (
            goods is None
            and declared_gross_kg is not None
            and declared_gross_kg <= _EMPTY_MARGIN_KG
        )
    if declared_empty or mass.imaged_net_kg < _LOADED_KG:
        verdict = verify_empty(imaged, threshold_kg=empty_threshold_kg)
        figures = {
            "threshold_kg": verdict.threshold_kg,
            "max_object_kg": verdict.max_object_kg,
            "objects": len(verdict.objects),
            "inspected_fraction": verdict.inspected_fraction,
            "noise_kg": verdict.noise_kg,
            "declared_empty": bool(declared_empty),
            "notes": list(verdict.notes),
        }
        if verdict.empty:
            text, said = english(
                "scans.empty.pass",
                threshold=verdict.threshold_kg,
                inspected=verdict.inspected_fraction,
            )
            checks.append(Check("empty", verdict.version, "pass", text, figures, said))
        else:
            heavy = [
                o
                for o in verdict.objects
                if o.kind == "object" and o.mass_kg >= verdict.threshold_kg
            ]
            text, said = english(
                "scans.empty.objects", n=len(heavy), heaviest=verdict.max_object_kg
            )
            checks.append(
                Check(
                    "empty",
                    verdict.version,
                    "fail" if declared_empty else "not_applicable",
                    text,
                    figures,
                    said,
                )
            )
            for o in heavy:
                material = o.material_class.value if o.material_class else "material unknown"
                description, described = english(
                    "scans.empty.object_declared_empty"
                    if declared_empty
                    else "scans.empty.object_light_load",
                    mass=o.mass_kg,
                    material=material,
                )
                findings.append(
                    Finding(
                        id=0,
                        analysis="empty",
                        analysis_version=verdict.version,
                        category="NOT_EMPTY",
                        description=description,
                        message=described,
                        flag="THREAT" if declared_empty else "UNKNOWN",
                        probability=float(
                            min(1.0, 0.5 + 0.5 * min(o.mass_kg / (4 * verdict.threshold_kg), 1.0))
                        ),
                        region=ReportRegion(imaged.to_image_box(o.bbox), pitch),
                        material_class=o.material_class.value if o.material_class else None,
                        z_effective=o.z_eff,
                        mass_kg=o.mass_kg,
                        details={
                            "significance": o.significance,
                            "peak_areal_density": o.peak_areal_density,
                            "area_m2": o.area_m2,
                        },
                    )
                )

    if mass.imaged_net_kg >= _LOADED_KG and not declared_empty:
        learned_on = use_learned and learned_applies(imaged, goods) is None
        # With the learned detector beside it, each kind of region gets a third of the rate.
        share = 2.0 / 3.0 if learned_on else 1.0
        result = find_concealments(
            imaged, goods, history, false_alarm_rate=FALSE_ALARM_RATE * share
        )
        learned: LearnedResult | None = None
        off_calibration = _reads_off_calibration(result, goods)
        if learned_on and off_calibration is not None:
            learned_on = False
            model = detector or default_detector()
            learned = LearnedResult(False, off_calibration, (), 0.0, 0.0, "none", model.version)
        if learned_on:
            model = detector or default_detector()
            limit, source = model.threshold_from(history, FALSE_ALARM_RATE / 3)
            learned = model.detect(imaged, goods, threshold=limit, threshold_source=source)
        found: dict[str, object] = {
            "thresholds": list(result.thresholds),
            "threshold_source": result.threshold_source,
            "regions": len(result.regions),
            "notes": list(result.notes),
        }
        if result.load is not None:
            found["load_median_z"] = result.load.median_z
            found["load_median_areal_density"] = result.load.median_areal_density
            found["composition_score"] = result.load.composition_score
            found["density_score"] = result.load.density_score
        if result.metal_score is not None:
            found["metal_score"] = result.metal_score
            found["metal_threshold"] = result.metal_threshold
        if result.load_z_scores is not None:
            found["load_z_scores"] = list(result.load_z_scores)
        if learned is not None:
            found["learned_version"] = learned.version
            if learned.applicable:
                found["learned_score"] = learned.score
                found["learned_threshold"] = learned.threshold
                found["learned_threshold_source"] = learned.threshold_source
                found["learned_regions"] = len(learned.regions)
            else:
                found["learned_not_applicable"] = learned.reason
        learned_alarms = [r for r in learned.regions if r.alarm] if learned else []
        goods_text = goods.description if goods else "the goods"
        if not result.applicable:
            code, params = result.reason_message or (
                "scans.concealment.not_applicable",
                {"reason": result.reason},
            )
            text, said = english(code, **params)
            checks.append(
                Check("concealment", result.version, "not_applicable", result.reason, found, said)
            )
        else:
            alarms = [r for r in result.regions if r.alarm]
            n_alarms = len(alarms) + len(learned_alarms)
            text, said = english(
                "scans.concealment.fail" if n_alarms else "scans.concealment.pass", n=n_alarms
            )
            checks.append(
                Check(
                    "concealment",
                    result.version,
                    "fail" if n_alarms else "pass",
                    text,
                    found,
                    said,
                )
            )
            for group in _merge_overlapping(alarms):
                r = max(group, key=lambda g: g.score)
                bbox = (
                    min(g.bbox[0] for g in group),
                    min(g.bbox[1] for g in group),
                    max(g.bbox[2] for g in group),
                    max(g.bbox[3] for g in group),
                )
                r = replace(r, bbox=bbox)
                kind = r.kind
                if kind == "density":
                    kind = "denser" if r.delta_areal_density > 0 else "lighter"
                desc, described = english(f"scans.concealment.{kind}", goods=goods_text)
                findings.append(
                    Finding(
                        id=0,
                        analysis="concealment",
                        analysis_version=result.version,
                        category="CONCEALMENT" if goods else "ANOMALY",
                        description=desc,
                        message=described,
                        flag="THREAT",
                        probability=r.probability,
                        region=ReportRegion(imaged.to_image_box(r.bbox), pitch),
                        material_class=r.excess_class.value if r.excess_class else None,
                        z_effective=r.excess_z,
                        mass_kg=r.excess_kg,
                        details={
                            "kind": r.kind,
                            "kinds": sorted({g.kind for g in group}),
                            "score": r.score,
                            "tiles": r.tiles,
                            "delta_z": r.delta_z,
                            "delta_areal_density": r.delta_areal_density,
                        },
                    )
                )

        if learned is not None and result.applicable:
            for lr in learned_alarms:
                desc, described = english("scans.concealment.learned", goods=goods_text)
                findings.append(
                    Finding(
                        id=0,
                        analysis="learned-concealment",
                        analysis_version=learned.version,
                        category="CONCEALMENT",
                        description=desc,
                        message=described,
                        flag="THREAT",
                        probability=lr.score,
                        region=ReportRegion(imaged.to_image_box(lr.bbox), pitch),
                        details={
                            "kind": "learned",
                            "score": lr.score,
                            "peak_probability": lr.peak_probability,
                            "tiles": lr.tiles,
                            "threshold": learned.threshold,
                            "threshold_source": learned.threshold_source,
                        },
                    )
                )

    numbered = tuple(Finding(**{**f.__dict__, "id": i}) for i, f in enumerate(findings, start=1))
    threats = any(f.flag == "THREAT" for f in numbered)
    unsure = any(c.status == "unverifiable" for c in checks) or any(
        f.flag == "UNKNOWN" for f in numbered
    )
    decision = "ALARM" if threats else ("UNKNOWN" if unsure else "CLEAR")
    return Report(
        alarm_decision=decision,
        alarm_decision_time=now or datetime.now(UTC),
        algorithm=f"{ANALYSIS_VERSION} (smartcustoms {__version__})",
        total_processing_time_ms=(time.perf_counter() - started) * 1000.0,
        scan=_scan_summary(scan, imaged),
        declared={
            "gross_kg": declared_gross_kg,
            "hs_code": hs_code,
            "tare_kg": tare_kg,
            "empty": bool(declared_empty),
            "gross_kg_of": "goods",  # since 1.1; before, the container and its goods
        },
        checks=tuple(checks),
        findings=numbered,
    )
