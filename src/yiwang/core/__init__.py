"""Shared plumbing: errors, identifiers, the audit chain, actions and the permission policy.

``core`` imports nothing else of yiwang; every other app may import it.
"""
