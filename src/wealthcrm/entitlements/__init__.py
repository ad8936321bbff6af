"""Tier entitlements (增值服务权益): the catalogue from settings, redemptions with yearly quotas, usage."""
