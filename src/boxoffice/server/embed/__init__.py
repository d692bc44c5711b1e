"""Embedding the shop in a venue's site, as VoordeMensen's WordPress plugin does it: the
ticket host's get-session and cart-count API, and the scripts that open the shop in an
overlay or a side panel (docs/shop.md, "Embedding the shop in a site")."""
