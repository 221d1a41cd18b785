"""Training: datasets, sampling and processing, actors, trainer."""
