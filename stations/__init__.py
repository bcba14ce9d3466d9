"""Yizhan: a registry of China's trade-union rest stations for outdoor workers."""
