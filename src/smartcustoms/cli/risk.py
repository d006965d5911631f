"""``smartcustoms risk``: train and activate models, write targeting rules, watch hit rates,
and measure models offline (``evaluate``) and in a simulated deployment (``simulate``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from smartcustoms.cli.common import actor, console, err_console, fail, keep_whole, open_context
from smartcustoms.cli.lazy import lazy_module
from smartcustoms.core.errors import SmartCustomsError

if TYPE_CHECKING:
    from smartcustoms.risk import inspections, lanes, registry, rulebook, training
    from smartcustoms.risk import tables as risk_tables
    from smartcustoms.risk.offline import evaluation_report, kcs_files, replay
    from smartcustoms.risk.offline import plot as plots
else:  # loaded when a command runs, not for `--help`
    inspections = lazy_module("smartcustoms.risk.inspections")
    evaluation_report = lazy_module("smartcustoms.risk.offline.evaluation_report")
    kcs_files = lazy_module("smartcustoms.risk.offline.kcs_files")
    plots = lazy_module("smartcustoms.risk.offline.plot")
    replay = lazy_module("smartcustoms.risk.offline.replay")
    risk_tables = lazy_module("smartcustoms.risk.tables")
    training = lazy_module("smartcustoms.risk.training")
    lanes = lazy_module("smartcustoms.risk.lanes")
    registry = lazy_module("smartcustoms.risk.registry")
    rulebook = lazy_module("smartcustoms.risk.rulebook")

app = typer.Typer(
    help="The risk engine: models trained on your inspection history, and targeting rules.",
    no_args_is_help=True,
)
rules_app = typer.Typer(
    help="Targeting rules: written by one person, approved by another.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")


@app.command("train")
def train(
    ctx: typer.Context,
    activate: Annotated[
        bool, typer.Option("--activate", help="Make the new model score new declarations.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed, for a reproducible model.")] = 0,
) -> None:
    """Train a model on the stored declarations and their inspection results.

    The model is evaluated on the latest 20% of the history (out of time) before being trained
    on all of it; the figures are stored with it. Import history first, e.g.
    `smartcustoms declarations import train.csv --format kcs --skip-invalid`.
    """
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        with console.status("training"):
            report = training.train_from_store(unit, actor=actor(), seed=seed)
        if activate:
            registry.activate(unit, report.version, actor=actor())
    console.print(f"model {report.version}: {report.items} items, {report.positives} irregular")
    console.print(json.dumps(report.evaluation["holdout"], indent=2))
    if activate:
        console.print("active: it scores new declarations from now on")


@app.command("models")
def models(ctx: typer.Context) -> None:
    """List trained models, their held-out figures and which one is active."""
    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        console.print(models_table(registry.list_models(session)))


def models_table(models: Iterable[Any]) -> Table:
    """The trained models, versions whole (they are what `risk activate` takes)."""
    table = Table("version", "created", "by", "items", "precision@5%", "AUC", "active")
    versions = []
    for row in models:
        holdout = row.card.get("evaluation", {}).get("holdout", {})
        versions.append(row.version)
        table.add_row(
            row.version,
            f"{row.created_at:%Y-%m-%d %H:%M}",
            row.created_by,
            str(row.card.get("training", {}).get("rows", "")),
            str(holdout.get("precision@5%", "-")),
            str(holdout.get("auc", "-")),
            "yes" if row.active else "",
        )
    keep_whole(table, 0, versions)
    return table


@app.command("activate")
def activate(
    ctx: typer.Context, version: Annotated[str, typer.Argument(help="Model version.")]
) -> None:
    """Make a trained model the one that scores new declarations."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        registry.activate(unit, version, actor=actor())
    console.print(f"model {version} is active")


@app.command("hit-rates")
def rates(ctx: typer.Context) -> None:
    """Share of examinations that found an irregularity, and revenue raised: by lane, model
    version, rule, random control and exploration."""
    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        found = inspections.hit_rates(session)
        if not found:
            console.print("no examination results recorded yet")
            return
        console.print(hit_rates_table(found))


def hit_rates_table(found: Iterable[Any]) -> Table:
    """Hit rates per group, each group whole: "model:<version>" and "rule:<name>@<version>"
    name what `risk activate` and `risk rules` take, so Rich must not cut them with "…"."""
    table = Table("selected by", "inspected", "irregular", "hit rate", "revenue raised")
    groups = []
    for rate in found:
        shown = "-" if rate.rate is None else f"{rate.rate:.1%}"
        groups.append(rate.group)
        table.add_row(
            rate.group, str(rate.inspected), str(rate.irregular), shown, str(rate.revenue)
        )
    keep_whole(table, 0, groups)
    return table


@rules_app.command("propose")
def propose(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Rule name; an existing name gets a new version.")],
    expression: Annotated[
        str, typer.Option(help='Condition, e.g. \'hs6 startswith "2402" and origin in ("AE")\'')
    ],
    lane: Annotated[LaneChoice, typer.Option(help="Lane for matching declarations.")],
    reason: Annotated[str, typer.Option(help="Why, in words an officer reads.")],
    instructions: Annotated[str, typer.Option(help="What the examiner should check.")] = "",
    valid_from: Annotated[datetime | None, typer.Option(help="Start (UTC).")] = None,
    valid_until: Annotated[datetime | None, typer.Option(help="End (UTC).")] = None,
) -> None:
    """Write a rule (or a new version). It applies once someone else approves it."""
    from datetime import UTC

    def aware(value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        row = rulebook.propose(
            unit,
            name=name,
            expression=expression,
            lane=lanes.Lane(lane.value),
            reason=reason,
            instructions=instructions,
            valid_from=aware(valid_from),
            valid_until=aware(valid_until),
            actor=actor(),
        )
        console.print(f"rule {name} version {row.version} (id {row.id}) waits for approval")


@rules_app.command("list")
def list_rules(ctx: typer.Context) -> None:
    """Every version of every rule, with its status."""
    from sqlalchemy import select

    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        table = Table("id", "rule", "v", "lane", "status", "author", "reviewer", "expression")
        rule_versions = risk_tables.RuleVersionRow
        for row in session.scalars(select(rule_versions).order_by(rule_versions.id)):
            table.add_row(
                str(row.id),
                row.rule.name,
                str(row.version),
                row.lane,
                row.status,
                row.author,
                row.reviewed_by or "",
                row.expression,
            )
        console.print(table)


@rules_app.command("approve")
def approve(
    ctx: typer.Context,
    version_id: Annotated[int, typer.Argument(help="Version id (see `rules list`).")],
    note: Annotated[str, typer.Option(help="Note for the record.")] = "",
) -> None:
    """Approve a rule version written by someone else."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        rulebook.review(unit, version_id, approve=True, actor=actor(), note=note)
    console.print(f"version {version_id} approved")


@rules_app.command("reject")
def reject(
    ctx: typer.Context,
    version_id: Annotated[int, typer.Argument(help="Version id (see `rules list`).")],
    note: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Reject a rule version written by someone else."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        rulebook.review(unit, version_id, approve=False, actor=actor(), note=note)
    console.print(f"version {version_id} rejected")


# -- offline measurement: evaluate and simulate ------------------------------------------------
# Neither command touches the database: they read labelled files and print figures. Bad input
# exits 2 with one line naming the file and the row or column, like a bad option does.

BAD_INPUT = 2
DEFAULT_HISTORY_UNTIL = date(2020, 2, 3)  # a Monday: the stream starts with a whole week


class FileFormat(StrEnum):
    kcs = "kcs"


class LaneChoice(StrEnum):
    """:class:`smartcustoms.risk.lanes.Lane`, named here so that `risk --help` does not load the
    risk engine (tests/cli/test_cli_startup.py keeps them equal)."""

    red = "red"
    scan = "scan"
    yellow = "yellow"
    blue = "blue"
    green = "green"


class StrategyChoice(StrEnum):
    """The choices of :data:`smartcustoms.risk.exploration.STRATEGIES` (a test keeps them equal)."""

    random = "random"
    band = "band"
    uncertain = "uncertain"


def _read(paths: list[Path]) -> kcs_files.LabelledTable:
    return kcs_files.join_tables([kcs_files.read_labelled_kcs(path) for path in paths])


def _figure(stats: dict[str, Any], digits: int = 4) -> str:
    mean, std = stats["mean"], stats["std"]
    return "-" if mean is None else f"{mean:.{digits}f} ± {std or 0.0:.{digits}f}"


@app.command("evaluate")
def evaluate(
    train: Annotated[
        list[Path], typer.Option("--train", help="Labelled file to train on (repeat for more).")
    ],
    test: Annotated[Path, typer.Option("--test", help="Labelled file to measure on (later).")],
    file_format: Annotated[
        FileFormat, typer.Option("--format", "-f", help="File format; labels in `Fraud`.")
    ] = FileFormat.kcs,
    seeds: Annotated[int, typer.Option(min=1, help="Models trained, one per seed.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Draw precision and recall by inspection rate (PNG).")
    ] = None,
) -> None:
    """Train on the train files, measure on the test file: precision@k, recall@k, AUC.

    Figures are means and standard deviations over SEEDS models (k = 1, 2, 5, 10% of the test
    rows inspected, top scores first); revenue@k too when the test file has a `Revenue` column.
    The test rows are scored with the training history only: their labels are used to measure,
    never to score. Example: `smartcustoms risk evaluate --train train.csv --test valid.csv
    --format kcs --seeds 5 --json`.
    """
    try:
        if plot is not None:
            plots.check_writable(plot)
        train_table, test_table = _read(train), _read([test])
        with err_console.status(f"training {seeds} model(s) on {len(train_table)} rows"):
            report = evaluation_report.evaluate_tables(train_table, test_table, seeds=seeds)
        if plot is not None:
            plots.plot_evaluation(
                report.curve,
                plot,
                title=f"tested on {test.name} ({len(test_table)} items), trained on "
                f"{len(train_table)} items\nmean ± std over {seeds} seed(s)",
            )
    except SmartCustomsError as exc:
        fail(exc.message, BAD_INPUT)
    if report.test_starts_before_train_ends:
        err_console.print(
            "note: the test file starts before the training files end; figures are optimistic"
        )
    summary = report.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        rows = summary["rows"]
        table = Table(
            "metric",
            f"mean ± std over {seeds} seed(s)",
            title=f"trained on {rows['train']} items, tested on {rows['test']}",
        )
        for name, stats in summary["metrics"].items():
            table.add_row(name, _figure(stats))
        console.print(table)
    if plot is not None:
        err_console.print(f"plot written to {plot}")


def _simulation_inputs(
    history: Path | None, stream: list[Path] | None, history_until: datetime | None
) -> tuple[kcs_files.LabelledTable, kcs_files.LabelledTable]:
    if (history is None) != (not stream):
        fail("give both --history and --stream, or neither (the packaged KCS data)", BAD_INPUT)
    until: date | None
    if history is None or not stream:
        history_table = kcs_files.packaged_kcs("train")
        streams = [kcs_files.packaged_kcs("valid")]
        until = history_until.date() if history_until else DEFAULT_HISTORY_UNTIL
    else:
        history_table = kcs_files.read_labelled_kcs(history)
        streams = [kcs_files.read_labelled_kcs(p) for p in stream]
        until = history_until.date() if history_until else None
    if until is not None:
        history_table, moved = kcs_files.split_by_date(history_table, until)
        streams = [moved, *streams]
    return history_table, kcs_files.join_tables(streams)


def _show_simulation(report: replay.SimulationReport) -> None:
    summary = report.summary()
    rows, s = summary["rows"], report.settings
    names = {
        "exploration": "with exploration",
        "no_exploration": "no exploration",
        "full_feedback": "every outcome known",
    }
    table = Table(
        f"mean ± std, {s.seeds} seed(s)",
        *(names.get(name, name) for name in report.runs),
        title=(
            f"{rows['weeks']} weeks, {rows['stream']} declarations after {rows['history']} "
            f"in the history; inspecting {s.inspect_rate:.0%}, {s.explore:.0%} of it exploring "
            f"({s.strategy})"
        ),
    )
    for key, label in (
        ("precision", "precision"),
        ("recall", "recall"),
        ("irregular_found", "irregular found"),
        ("exploration_hit_rate", "exploration hit rate"),
        ("weekly_auc", "weekly AUC"),
    ):
        digits = 0 if key == "irregular_found" else 3
        table.add_row(label, *(_figure(summary["runs"][n][key], digits) for n in report.runs))
    console.print(table)
    gain = summary["exploration_gain"]
    console.print(
        "exploration against none (paired by seed): "
        f"precision {_figure(gain['precision'], 4)}, recall {_figure(gain['recall'], 4)}, "
        f"weekly AUC {_figure(gain['weekly_auc'], 4)}",
        highlight=False,
    )


@app.command("simulate")
def simulate_command(
    history: Annotated[
        Path | None,
        typer.Option(help="Labelled past declarations the first model is trained on."),
    ] = None,
    stream: Annotated[
        list[Path] | None,
        typer.Option(help="Labelled later declarations, replayed week by week (repeatable)."),
    ] = None,
    history_until: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="History rows on or after this date join the start of the stream. Default: "
            f"none for your files, {DEFAULT_HISTORY_UNTIL} for the packaged data.",
            show_default=False,
        ),
    ] = None,
    inspect_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of each week's declarations inspected.")
    ] = 0.1,
    explore: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of the inspections spent exploring.")
    ] = 0.1,
    strategy: Annotated[
        StrategyChoice,
        typer.Option(help="How exploration picks: random draw, band below the cut, or uncertain."),
    ] = StrategyChoice.band,
    seeds: Annotated[int, typer.Option(min=1, help="Repetitions (model and draws).")] = 1,
    weeks: Annotated[
        int | None, typer.Option(min=1, help="Replay only the first WEEKS weeks.")
    ] = None,
    retrain_every: Annotated[int, typer.Option(min=1, help="Weeks between retrainings.")] = 1,
    full_feedback: Annotated[
        bool,
        typer.Option(
            "--full-feedback",
            help="Also run the loop learning every outcome (as if all were inspected): the "
            "ceiling exploration could reach. Slower.",
        ),
    ] = False,
    file_format: Annotated[
        FileFormat, typer.Option("--format", "-f", help="File format; labels in `Fraud`.")
    ] = FileFormat.kcs,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Draw cumulative precision and recall by week (PNG).")
    ] = None,
) -> None:
    """Replay a labelled stream as a deployment lives it, with and without exploration.

    Each week: score the declarations with the current model, inspect the top INSPECT-RATE
    share (EXPLORE of those chosen by STRATEGY instead of by score), reveal the outcome of the
    inspected ones only, retrain on everything labelled so far. Reports cumulative precision and
    recall beside the same loop without exploration and an oracle that knows every label.
    Without --history and --stream it runs on the packaged KCS data: history is train.csv
    before --history-until (2020-02-03), the stream the rest of train.csv then valid.csv.
    """
    try:
        if plot is not None:
            plots.check_writable(plot)
        history_table, stream_table = _simulation_inputs(history, stream, history_until)
        settings = replay.SimulationSettings(
            inspect_rate=inspect_rate,
            explore=explore,
            strategy=strategy.value,
            seeds=seeds,
            retrain_every=retrain_every,
            weeks=weeks,
            full_feedback=full_feedback,
        )
        with err_console.status("simulating") as status:

            def progress(seed: int, run: str, done: int, total: int) -> None:
                status.update(f"seed {seed + 1}/{seeds}, {run}: week {done}/{total}")

            report = replay.simulate(history_table, stream_table, settings, progress=progress)
        if plot is not None:
            plots.plot_simulation(report, plot)
    except SmartCustomsError as exc:
        fail(exc.message, BAD_INPUT)
    if as_json:
        typer.echo(json.dumps(report.summary(), indent=2))
    else:
        _show_simulation(report)
    if plot is not None:
        err_console.print(f"plot written to {plot}")
