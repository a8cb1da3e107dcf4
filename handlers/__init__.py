"""HTTP doors: one module (one blueprint) per door."""
