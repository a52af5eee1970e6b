"""pyinfra operations for firewall front ends pyinfra has none for (one module per tool)."""
