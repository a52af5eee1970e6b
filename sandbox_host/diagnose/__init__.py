"""diagnose: gather a host's Docker/network facts with pyinfra, explain what breaks the agent's API traffic.

Seed 001's advice, as a tool: run the diagnosis on the broken host and on a working host and
compare. ``gather`` writes one JSON report per inventory host; ``explain`` runs the rules on one
report (what is wrong here); ``compare`` ranks the differences between a broken and a working
report and runs the rules on the broken one. Nothing here changes a host.
"""
