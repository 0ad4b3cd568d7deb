"""Seeing inside a running registry: health checks, the debug listener, Prometheus metrics, request ids."""
