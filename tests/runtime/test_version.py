import pytest
from specbridge_runtime import RuntimeVersionError, __version__, require_runtime
from specbridge_runtime._core.version import require_runtime as check


def test_the_installed_runtime_runs_a_package_generated_for_it():
    require_runtime(__version__, package="x-mcp")


@pytest.mark.parametrize(("minimum", "installed"), [("1.2.0", "1.2.0"), ("1.2.0", "1.3.1"), ("1.2", "1.2.5rc1")])
def test_same_major_and_not_older_is_accepted(minimum, installed):
    check(minimum, package="x-mcp", installed=installed)


def test_an_older_runtime_says_to_upgrade_the_runtime():
    with pytest.raises(RuntimeVersionError, match=r"pip install -U specbridge-runtime") as error:
        check("1.4.0", package="shopify-mcp", installed="1.3.9")
    assert "shopify-mcp" in str(error.value)


def test_an_older_major_says_to_upgrade_the_runtime():
    with pytest.raises(RuntimeVersionError, match=r"pip install -U specbridge-runtime"):
        check("2.0.0", package="x-mcp", installed="1.9.0")


def test_a_newer_major_says_to_regenerate_the_package():
    with pytest.raises(RuntimeVersionError, match=r"regenerate the package") as error:
        check("1.0.0", package="x-mcp", installed="2.0.0")
    assert "specbridge-runtime>=1.0.0,<2" in str(error.value)
