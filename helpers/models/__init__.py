"""Model builders shared by notebooks, tests and training scripts (import submodules directly)."""
