"""`sandbox-host report INVENTORY`: a fleet's compliance at a glance.

Per host: OS/kernel, Docker and runsc versions, default runtime, the egress policy hash, the last
conformance self-check (roles/conformance) and its age, and the CIS Docker Benchmark daemon items
this project can check. Read-only pyinfra facts; nothing on a host changes.
"""
