"""Analytics: features, tiers and lifecycle batch, churn models, segmentation, survival."""
