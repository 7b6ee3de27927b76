"""Fit assessment: read a self-description clause by clause, then a learned verdict over it."""

from bot.fit.model import LABEL_NAMES, LABELS, FitAssessment, FitAssessor, FitModel
from bot.fit.signals import DIMENSIONS, INTERESTS, ClauseReading

__all__ = ["DIMENSIONS", "INTERESTS", "LABELS", "LABEL_NAMES", "ClauseReading", "FitAssessment", "FitAssessor",
           "FitModel"]
