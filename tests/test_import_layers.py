"""The apps' imports point one way (pyproject's [tool.importlinter] contracts)."""

from importlinter.cli import lint_imports

from scalr_support.env import BASE_DIR


def test_no_app_imports_a_layer_above_it_and_sla_and_maintenance_stay_apart():
    # 0: every contract kept; a back-edge (even a lazy import) makes it 1.
    assert (
        lint_imports(config_filename=str(BASE_DIR / "pyproject.toml"), no_cache=True)
        == 0
    )
