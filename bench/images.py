"""Peak memory of picture uploads (`krov.core.images.normalise`), one process per picture.

The worst pictures the upload accepts (25 megapixels as JPEG, PNG with alpha and WebP)
and a decompression bomb it refuses (a 7 KB PNG that claims 59 megapixels). Each runs in
a fresh process; the figure is its peak resident memory (VmHWM) minus that of a process
that loaded the same code and decoded nothing (the baseline, measured in the same run).
Memory, unlike time, is not noise on a shared machine, so the MB are printed too.
Target (issue 13): the worst accepted upload below 150 MB.

Run with `make bench` or `python -m bench.images`.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from krov.core import images
import PIL.Image, PIL.PngImagePlugin, PIL.JpegImagePlugin, PIL.WebPImagePlugin
path = sys.argv[1]
outcome = "baseline"
if path != "-":
    data = open(path, "rb").read()
    try:
        images.normalise(SimpleUploadedFile("p", data), box=(1600, 1200))
        outcome = "accepted"
    except images.PictureError as error:
        outcome = "refused: " + str(error)
# VmHWM: this process's own peak (ru_maxrss would include the parent's, from before exec).
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(hwm, outcome)
"""


def make_pictures(folder: Path) -> dict[str, Path]:
    from PIL import Image

    pictures: dict[str, Path] = {}
    gradient = Image.linear_gradient("L").resize((6000, 4000))
    jpeg = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_180), gradient))
    pictures["JPEG 6000×4000 (24 MP)"] = folder / "a.jpg"
    jpeg.save(pictures["JPEG 6000×4000 (24 MP)"], quality=85)
    square = Image.linear_gradient("L").resize((4000, 3000))
    rgba = Image.merge(
        "RGBA", (square, square, square.transpose(Image.Transpose.ROTATE_180), square)
    )
    pictures["PNG RGBA 4000×3000 (12 MP)"] = folder / "b.png"
    rgba.save(pictures["PNG RGBA 4000×3000 (12 MP)"], optimize=True)
    pictures["PNG palette 4000×3000 (12 MP)"] = folder / "f.png"
    rgba.convert("P").save(pictures["PNG palette 4000×3000 (12 MP)"], optimize=True)
    pictures["WebP 3400×2350 (8 MP)"] = folder / "c.webp"
    webp = rgba.convert("RGB").resize((3400, 2350))
    webp.save(pictures["WebP 3400×2350 (8 MP)"], quality=60, method=0)
    pictures["WebP 5000×5000 (25 MP)"] = folder / "e.webp"
    big = Image.linear_gradient("L").resize((5000, 5000))
    big.convert("RGB").save(pictures["WebP 5000×5000 (25 MP)"], quality=60, method=0)
    bomb = Image.new("1", (7700, 7700))  # 59 MP, compresses to a few KB
    buffer = io.BytesIO()
    bomb.save(buffer, format="PNG", optimize=True)
    pictures[f"PNG bomb 7700×7700 (59 MP, {len(buffer.getvalue()) // 1024} KB)"] = folder / "d.png"
    (folder / "d.png").write_bytes(buffer.getvalue())
    return pictures


def peak_kb(path: str) -> tuple[int, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env.setdefault("KROV_DATA_DIR", tempfile.mkdtemp(prefix="krov-bench-img-"))
    result = subprocess.run(
        [sys.executable, "-c", CHILD, path],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    kb, outcome = result.stdout.strip().splitlines()[-1].split(" ", 1)
    return int(kb), outcome


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pictures = make_pictures(Path(tmp))
        base, _outcome = peak_kb("-")
        print(f"baseline process (code loaded, nothing decoded): {base / 1024:.0f} MB")
        print(f"{'picture':44} {'file':>8} {'peak above baseline':>20}  outcome")
        for label, path in pictures.items():
            peak, outcome = peak_kb(str(path))
            size = path.stat().st_size / 1024 / 1024
            extra = (peak - base) / 1024
            print(f"{label:44} {size:6.1f}MB {extra:17.0f} MB  {outcome[:60]}")


if __name__ == "__main__":
    main()
