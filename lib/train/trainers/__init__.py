"""Trainers: :class:`BaseTrainer` (epochs, checkpoints, resume) and :class:`LTRTrainer` (iterations, AMP)."""
from lib.train.trainers.base_trainer import BaseTrainer, NonFiniteError
from lib.train.trainers.ltr_trainer import LTRTrainer

__all__ = ["BaseTrainer", "LTRTrainer", "NonFiniteError"]
