"""Renders a test screenshot with Pillow: lines of text in given fonts, sizes and colours on a background.

Reads a JSON spec on stdin, writes the image to spec["out"]:
  {"out": "...", "format": "PNG"|"JPEG", "size": [w, h], "background": [r, g, b],
   "lines": [{"text": "...", "font": "DejaVuSans.ttf", "size": 22, "at": [x, y], "color": [r, g, b],
              "rotate": 0}],
   "exif_gps": true,                      # JPEG: an EXIF block with a GPS position and camera make
   "png_text": {"Comment": "..."}}        # PNG: tEXt chunks
"""
import json
import os
import sys

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"]


def font(name, size):
    for directory in FONT_DIRS:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    raise SystemExit("font not found: " + name)


spec = json.load(sys.stdin)
image = Image.new("RGB", tuple(spec["size"]), tuple(spec.get("background", [255, 255, 255])))
draw = ImageDraw.Draw(image)
for line in spec["lines"]:
    face = font(line.get("font", "DejaVuSans.ttf"), line.get("size", 22))
    color = tuple(line.get("color", [0, 0, 0]))
    if line.get("rotate"):
        box = draw.textbbox((0, 0), line["text"], font=face)
        layer = Image.new("RGBA", (box[2] + 8, box[3] + 8), (0, 0, 0, 0))
        ImageDraw.Draw(layer).text((4, 4), line["text"], font=face, fill=color + (255,))
        layer = layer.rotate(line["rotate"], expand=True)
        image.paste(layer, tuple(line["at"]), layer)
    else:
        draw.text(tuple(line["at"]), line["text"], font=face, fill=color)

kind = spec.get("format", "PNG")
if kind == "JPEG":
    options = {"quality": 95}
    if spec.get("exif_gps"):
        exif = Image.Exif()
        exif[0x010F] = "LabCam"  # Make
        exif[0x0131] = "Nightingale capture tool"  # Software
        gps = exif.get_ifd(0x8825)
        gps[1] = "N"
        gps[2] = (37.0, 25.0, 19.2)
        gps[3] = "W"
        gps[4] = (122.0, 5.0, 2.4)
        options["exif"] = exif.tobytes()
    if spec.get("jpeg_comment"):
        options["comment"] = spec["jpeg_comment"]
    image.save(spec["out"], "JPEG", **options)
else:
    info = PngImagePlugin.PngInfo()
    for key, value in spec.get("png_text", {}).items():
        info.add_text(key, value)
    image.save(spec["out"], "PNG", pnginfo=info)
