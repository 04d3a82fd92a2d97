"""Drawn and printed output of plans: maps (folium, offline), route-sheet views, PDFs,
overview map images, exports (GPX, KML, CSV, XLSX) and the message catalogues they are
written in (Vietnamese by default, English).

Used by the command line (``cli``) and the web UI (``webui``) alike, so both draw the same
maps and print the same sheets; it knows nothing of either. Assets (fonts, the vendored
Leaflet) live in :data:`ASSETS_DIR`.
"""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
