"""Shared fixtures: real photographs in every format, a platform per database, external tools.

Databases: SQLite always; PostgreSQL too when SYNTHGOV_TEST_POSTGRES_URL is set (CI sets it and
fails rather than skips when it is missing).
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from synthgov.bootstrap import open_platform
from synthgov.config import load_settings
from synthgov.permissions import Actor
from synthgov.provider.service import DEMO_PROVIDER_CODE, init_provider
from synthgov.storage import migrate

PHOTOS = Path(__file__).parent / "fixtures" / "photos"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

try:  # HEIF pixels: the optional pillow-heif (in the test extra, so CI has it)
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - only where the test extra was not installed
    if IN_CI:
        raise
PG_URL = os.environ.get("SYNTHGOV_TEST_POSTGRES_URL")

OTHER_XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="synthgov-tests">'
    b"<dc:creator><rdf:Seq><rdf:li>Test Photographer</rdf:li></rdf:Seq></dc:creator>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>"
)


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if IN_CI:
        pytest.fail(f"{name} is required in CI (.ci/run installs it)")
    pytest.skip(f"{name} not installed")


@pytest.fixture(scope="session")
def exiftool() -> str:
    return need_tool("exiftool")


def load_photo(name: str) -> Image.Image:
    with Image.open(PHOTOS / name) as im:
        return im.convert("RGB")


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SynthCam"  # Make
    exif[0x0110] = "Model X"  # Model
    exif.get_ifd(0x8769)[0x9003] = "2026:11:28 10:00:00"  # DateTimeOriginal
    return exif.tobytes()


def _icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


@pytest.fixture(scope="session")
def samples() -> dict[str, bytes]:
    """Real photographs in each supported format, most with EXIF, ICC and other XMP properties."""
    cat, coffee, astronaut = load_photo("chelsea.png"), load_photo("coffee.png"), load_photo("astronaut.png")
    rocket = (PHOTOS / "rocket.jpg").read_bytes()
    rgba = astronaut.resize((256, 256)).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((256, 256)))
    meta = {"exif": _exif(), "icc_profile": _icc()}
    return {
        "photo.jpg": encode(cat, "JPEG", quality=88, xmp=OTHER_XMP, **meta),
        "rocket.jpg": rocket,
        "progressive.jpg": encode(coffee, "JPEG", quality=80, progressive=True, subsampling=2),
        "photo.png": encode(coffee, "PNG", **meta),
        "alpha.png": encode(rgba, "PNG"),
        "lossy.webp": encode(cat, "WEBP", quality=80, **meta),
        "lossless.webp": encode(coffee.resize((300, 200)), "WEBP", lossless=True),
        "alpha.webp": encode(rgba, "WEBP", quality=85),
        "photo.tif": encode(cat, "TIFF", compression="tiff_lzw", icc_profile=meta["icc_profile"]),
        "photo.gif": encode(cat.quantize(256), "GIF"),
        "photo.avif": encode(coffee, "AVIF", quality=80, **meta),  # libavif, through Pillow
        "photo.heic": encode(cat, "HEIF", quality=80, exif=meta["exif"]),  # libheif, through pillow-heif
    }


@pytest.fixture(scope="session")
def sample_files(samples, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("samples")
    out = {}
    for name, data in samples.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out


def _pg_database() -> tuple[str, object]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"synthgov_test_{uuid.uuid4().hex[:10]}"
    admin_url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def _backends() -> list:
    # PostgreSQL is always a parameter, so that without a server its tests show as skipped (with
    # the reason), not silently absent; in CI a missing server fails them
    return [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=_backends())
def database_url(request, data_dir) -> str:
    if request.param == "sqlite":
        yield f"sqlite:///{data_dir / 'synthgov.db'}"
        return
    if not PG_URL:
        if IN_CI:
            pytest.fail("SYNTHGOV_TEST_POSTGRES_URL must be set in CI (.ci/run starts PostgreSQL)")
        pytest.skip("PostgreSQL: set SYNTHGOV_TEST_POSTGRES_URL to run this test on it too")
    url, drop = _pg_database()
    yield url
    drop()


@pytest.fixture
def data_dir(tmp_path_factory) -> Path:
    """Outside ``tmp_path``, so tests can assert on exactly what lands in their own folder."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def settings(data_dir, database_url):
    base = load_settings(data_dir=data_dir, database_url=database_url)
    init_provider(base, provider_code=DEMO_PROVIDER_CODE, provider_name="test provider", demo=True)
    return load_settings(data_dir=data_dir, database_url=database_url)


@pytest.fixture
def platform(settings):
    plat = open_platform(settings)
    migrate.upgrade(plat.engine)
    yield plat
    plat.close()


@pytest.fixture
def reconfigure(platform):
    """``reconfigure(**settings)``: another platform on the same database with other settings
    (bootstrap turns settings into policies once; services never read them afterwards)."""
    opened = []

    def make(**overrides):
        plat = open_platform(platform.settings.model_copy(update=overrides))
        opened.append(plat)
        return plat

    yield make
    for plat in opened:
        plat.close()


@pytest.fixture
def operator() -> Actor:
    return Actor.operator("tester")


def count_rows(platform, model) -> int:
    from sqlalchemy import func, select

    with platform.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(model))
