"""Training administration (settings; the git-ignored ``local.py`` with training roots lives here)."""
