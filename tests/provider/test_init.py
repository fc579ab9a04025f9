import pytest

from synthgov.config import load_settings
from synthgov.errors import ConfigurationError, Conflict, InvalidInput
from synthgov.provider.service import DEMO_PROVIDER_CODE, init_provider


def test_init_creates_config_key_and_database(tmp_path):
    settings = load_settings(data_dir=tmp_path)
    result = init_provider(settings, provider_code=None, provider_name=None, demo=True)
    assert result.key_created and result.key_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "synthgov.db").exists()
    again = load_settings(data_dir=tmp_path)
    assert again.provider_code == DEMO_PROVIDER_CODE and again.demo


def test_rerunning_init_keeps_the_key_and_operator_edits(tmp_path):
    settings = load_settings(data_dir=tmp_path)
    first = init_provider(settings, provider_code=None, provider_name=None, demo=True)
    config = tmp_path / "synthgov.toml"
    config.write_text(config.read_text() + 'visible_label_text = "人工智能生成"\n')
    second = init_provider(load_settings(data_dir=tmp_path), provider_code=None, provider_name=None, demo=True)
    assert second.key_id == first.key_id and not second.key_created
    assert load_settings(data_dir=tmp_path).visible_label_text == "人工智能生成"


def test_init_refuses_bad_codes_and_a_silent_provider_switch(tmp_path):
    with pytest.raises(ConfigurationError, match="provider code is required"):
        init_provider(load_settings(data_dir=tmp_path), provider_code=None, provider_name=None, demo=False)
    with pytest.raises(InvalidInput, match="USCC"):
        init_provider(load_settings(data_dir=tmp_path), provider_code="001191440300708461136A1XGW3",
                      provider_name=None, demo=False)
    init_provider(load_settings(data_dir=tmp_path), provider_code=None, provider_name=None, demo=True)
    with pytest.raises(Conflict, match="--force"):
        init_provider(load_settings(data_dir=tmp_path), provider_code="001191440300708461136T1XGW3",
                      provider_name="Real Co", demo=False)
    init_provider(load_settings(data_dir=tmp_path), provider_code="001191440300708461136T1XGW3",
                  provider_name="Real Co", demo=False, force=True)
    assert load_settings(data_dir=tmp_path).provider_code == "001191440300708461136T1XGW3"
