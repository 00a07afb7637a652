"""Curricula: Gymnasium wrappers that change a memory task's set of heads."""
