"""Next best actions behind the suitability gate (投资者适当性)."""
