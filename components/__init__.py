"""kakoi's Pulumi components: one concern per module, each a ComponentResource
with a typed args dataclass and the type token `kakoi:<module>:<Name>`."""
