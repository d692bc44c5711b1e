"""Place claims: the one owner of holds, sales, their release and expiry, and availability."""
