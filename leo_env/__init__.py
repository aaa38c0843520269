"""APEX suite: LEO downlink environments."""
