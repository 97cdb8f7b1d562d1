"""Spike attribution: what the excess of a time bucket over its baseline is made of."""
