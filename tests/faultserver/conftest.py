from tests.faultserver.process import faultserver  # noqa: F401  (the fixture)
