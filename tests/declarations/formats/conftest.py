from tests.declarations.formats.examples import cusdec_example, wco_example
from tests.web.conftest import role_tokens

__all__ = ["cusdec_example", "role_tokens", "wco_example"]
