"""A stand-in for Credly's Web Service API v1 with fault injection, for tests and the devstack."""
