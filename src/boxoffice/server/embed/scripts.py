"""The two loader scripts of VoordeMensen's WordPress plugin, made from one template
(loader.js): `vdm_loader.js` opens the shop full screen, `vdm_sideloader.js` in a panel at
the right-hand side (the whole width of a phone). Only the dialog's box differs."""

import hashlib
import json
from dataclasses import dataclass
from importlib.resources import files

_FULL_SCREEN = {"top": "0", "left": "0"}
_SIDE_PANEL = {
    "top": "0",
    "width": "min(30rem, 100%)",
    "box-shadow": "-4px 0 24px rgba(0, 0, 0, 0.35)",
}
# Each script's dialog box, added to what both share.
DIALOG_STYLES: dict[str, dict[str, str]] = {
    "vdm_loader.js": _FULL_SCREEN,
    "vdm_sideloader.js": _SIDE_PANEL,
}
_SHARED_DIALOG_STYLE = {
    "position": "fixed",
    "right": "0",
    "bottom": "0",
    "display": "flex",
    "flex-direction": "column",
    "background": "#ffffff",
}


@dataclass(frozen=True, slots=True)
class Script:
    body: bytes
    etag: str


def _render(name: str, dialog_style: dict[str, str]) -> Script:
    template = files("boxoffice.server.embed").joinpath("loader.js").read_text(encoding="utf-8")
    style = json.dumps({**_SHARED_DIALOG_STYLE, **dialog_style}, sort_keys=True)
    body = template.replace("__SCRIPT_NAME__", name).replace("__DIALOG_STYLE__", style).encode()
    return Script(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"')


SCRIPTS: dict[str, Script] = {name: _render(name, style) for name, style in DIALOG_STYLES.items()}
