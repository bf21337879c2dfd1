"""Plots: functions take results and return a matplotlib ``Figure``; callers save them."""
