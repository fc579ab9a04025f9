import pytest

from synthgov.errors import InvalidInput
from synthgov.provenance.codes import make_provider_code, parse_provider_code

REAL = "001191440300708461136T1XGW3"  # observed in real files (spec §4.6)


def test_valid_codes():
    code = parse_provider_code(REAL)
    assert code.uscc == "91440300708461136T"
    assert code.service_type == "1" and code.service_code == "XGW3"
    assert parse_provider_code("001191110102MACQD9K64010000").is_generation


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("0011914403007084611", "27 characters"),
        ("001191440300708461136t1XGW3", "upper-case"),
        ("011191440300708461136T1XGW3", "start with '00'"),
        ("001191440300708461136A1XGW3", "USCC 91440300708461136A"),
        ("002191440300708461136T1XGW3", "organisation codes"),
        ("001191440300708461136T3XGW3", "service extension"),
        ("001191440300708461136T0XGW3", "'00000'"),
    ],
)
def test_invalid_codes(code, message):
    with pytest.raises(InvalidInput, match=message):
        parse_provider_code(code)


def test_make_provider_code():
    assert make_provider_code("91440300708461136T", service_code="XGW3") == REAL
