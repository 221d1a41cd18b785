"""Quickstart: synthetic RGB-T data, the train -> track -> evaluate -> show pipeline, and the demo video."""
