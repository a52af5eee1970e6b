"""sandbox-host: pyinfra deploys that turn a Docker host into a safe place to run an AI coding
agent in a sandbox container.

Layers, each depending only on the ones below it:

    sandbox_host.cli          the `sandbox-host` command (deploy, diagnose, ...)
    sandbox_host.diagnose     a tool: read-only facts, rules, reports
    sandbox_host.config       HostConfig: every role's settings composed, layered group_vars
    deploys/                  (sandbox_host.deploys) the composition run by pyinfra
    roles/                    (sandbox_host.roles) one folder per concern: its settings, deploy,
                              facts, operations, files and templates; knows nothing above it
"""
