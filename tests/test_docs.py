"""Documentation that tests keep honest: every setting and every package is described."""

from __future__ import annotations

from pathlib import Path

from smartcustoms.core.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        name
        for name in Settings.model_fields
        if f"`{ENV_PREFIX}{name.upper()}`" not in readme or f"`{name}`" not in readme
    ]
    assert not missing, f"settings missing from the README's configuration table: {missing}"


def test_every_package_is_in_the_architecture_page() -> None:
    page = (ROOT / "docs/architecture.md").read_text()
    package = ROOT / "src/smartcustoms"
    names = [p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    missing = [name for name in names if f"`{name}/`" not in page]
    assert not missing, f"packages not described in docs/architecture.md: {missing}"


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for script in ("scripts/demo.sh", "scripts/test.sh"):
        assert f"bash {script}" in readme
        assert (ROOT / script).exists()
