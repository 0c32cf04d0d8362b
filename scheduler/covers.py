"""Post cover images: checked by their content (not their name), stored under the upload directory,
and uploaded to WeChat as permanent material (``material/add_material``, type image) for the article's
``thumb_media_id`` when the post is previewed or sent.

Files are named by the SHA-256 of their bytes, so the database holds only a short name, a re-upload
of the same picture is one file, and a name from the database can never point outside the directory.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from bot.config import Settings

# WeChat's documented limit for image material is 2 MB on older pages (10 MB now); the smaller one
# works everywhere, and a cover never needs more.
MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
FORMATS = {"JPEG": ("jpg", "image/jpeg", b"\xff\xd8\xff"), "PNG": ("png", "image/png", b"\x89PNG\r\n\x1a\n")}
NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|png)$")


class CoverError(ValueError):
    """Refused; the message is for staff (Chinese)."""


@dataclass(frozen=True)
class Cover:
    name: str
    content_type: str
    width: int
    height: int


def inspect(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of a JPEG or PNG, judged by its bytes; blocking (decodes the header
    and verifies the file), so call it off the event loop."""
    if not data:
        raise CoverError("请选择封面图片文件")
    if len(data) > MAX_BYTES:
        raise CoverError(f"封面图片太大（{len(data) / 1024 / 1024:.1f} MB），最大 2 MB")
    magic = next((fmt for fmt, (_, _, m) in FORMATS.items() if data.startswith(m)), None)
    if magic is None:
        raise CoverError("封面只能是 JPG 或 PNG 图片（按文件内容判断，不看文件名）")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (width, height) = img.format, img.size
            if width * height > MAX_PIXELS:
                raise CoverError("封面图片像素太多，请缩小后再上传")
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, CoverError):
            raise
        raise CoverError("封面图片已损坏或不是有效的 JPG/PNG") from None
    if fmt != magic:
        raise CoverError("封面只能是 JPG 或 PNG 图片（按文件内容判断，不看文件名）")
    return fmt, width, height


BUNDLED_DEFAULT = Path(__file__).resolve().parent / "assets" / "default_cover.png"
log = logging.getLogger("pufa.scheduler.covers")


class CoverStore:
    def __init__(self, directory: str | Path, default_cover: str | Path = "") -> None:
        self.directory = Path(directory) / "covers"
        self.default_cover = Path(default_cover) if default_cover else BUNDLED_DEFAULT

    @classmethod
    def from_settings(cls, settings: Settings) -> CoverStore:
        return cls(settings.admin.upload_dir, settings.scheduler.default_cover)

    def save(self, data: bytes) -> Cover:
        """Check and store; blocking."""
        fmt, width, height = inspect(data)
        ext, content_type, _ = FORMATS[fmt]
        name = f"{hashlib.sha256(data).hexdigest()}.{ext}"
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / name
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # never a half-written cover under the final name
        return Cover(name, content_type, width, height)

    def path(self, name: str) -> Path:
        if not NAME.match(name):
            raise CoverError("封面文件名无效")
        return self.directory / name

    def read(self, name: str) -> tuple[bytes, str]:
        """(bytes, content type); blocking."""
        path = self.path(name)
        return path.read_bytes(), "image/png" if name.endswith(".png") else "image/jpeg"

    def read_default(self) -> tuple[bytes, str, str]:
        """(bytes, content type, file name) of the cover used when a post has none; blocking.

        WeChat refuses an article without a cover (draft/add → 40007), and campaign drafts made by
        the scheduler have none. A configured file that is missing or not a valid JPG/PNG is logged
        and replaced by the bundled one, so a typo in the config cannot stop a push."""
        for path in dict.fromkeys((self.default_cover, BUNDLED_DEFAULT)):
            try:
                data = path.read_bytes()
                fmt, _, _ = inspect(data)
            except (OSError, CoverError) as exc:
                log.error("default cover %s unusable (%s); using the bundled one", path, exc)
                continue
            _, content_type, _ = FORMATS[fmt]
            return data, content_type, path.name
        raise CoverError("没有可用的默认封面")
