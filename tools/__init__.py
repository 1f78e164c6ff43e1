"""Offline tooling: render the program under Pulumi's mocks, preview, check, benchmark."""
