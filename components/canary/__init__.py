"""Scripts that run in CloudWatch Synthetics canaries (packaged by components.synthetics)."""
