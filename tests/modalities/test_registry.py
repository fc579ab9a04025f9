import pytest

from synthgov.errors import ConfigurationError, UnsupportedMedia
from synthgov.modalities.image import ImageHandler
from synthgov.modalities.registry import load_registry, validate_handler
from synthgov.modalities.testing import HandlerConformance


class TestImageConformance(HandlerConformance):
    handler_class = ImageHandler


def test_registry_loads_builtins_and_entry_points():
    registry = load_registry()
    assert [h.modality for h in registry.handlers] == ["image"]
    image = registry.get("image")
    assert registry.capabilities(image) == ["label", "metadata-label-reader", "watermark", "fingerprint"]
    with pytest.raises(UnsupportedMedia):
        registry.for_data(b"%PDF-1.7")


def test_registry_config_from_settings(tmp_path):
    """The documented setting reaches the handler through bootstrap (the settings' only reader)."""
    from synthgov.bootstrap import handler_configs
    from synthgov.config import load_settings

    settings = load_settings(data_dir=tmp_path, max_image_pixels=5)
    assert load_registry(handler_configs(settings)).get("image").config.max_pixels == 5
    both = load_settings(data_dir=tmp_path, max_image_pixels=5, modalities={"image": {"max_pixels": 9}})
    assert load_registry(handler_configs(both)).get("image").config.max_pixels == 9  # the table wins


def test_handler_config_errors_and_unknown_modalities_are_refused():
    with pytest.raises(ConfigurationError, match="modalities.image.max_pixel"):
        load_registry({"image": {"max_pixel": 5}})
    with pytest.raises(ConfigurationError, match="unknown modalities: imgae"):
        load_registry({"imgae": {}})


def test_capability_is_typed_and_says_what_is_missing():
    from synthgov.modalities.base import Labeler

    registry = load_registry()
    image = registry.get("image")
    assert registry.capability(image, Labeler, "cannot be labeled") is image

    class Bare:
        modality = "bare"

    with pytest.raises(UnsupportedMedia, match="bare content cannot be labeled"):
        registry.capability(Bare(), Labeler, "cannot be labeled")


def test_incomplete_handler_is_refused_at_startup():
    class Broken:
        modality = "x"

    with pytest.raises(ConfigurationError, match="lacks"):
        validate_handler(Broken)
