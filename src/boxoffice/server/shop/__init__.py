"""The ticket shop: the buyer's web pages, per client under /{client_name}/shop/."""
