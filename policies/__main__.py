"""The kakoi CrossGuard policy pack: assembles the PolicyPack, nothing else.

`PolicyPack(...)` starts the analyzer's gRPC server and blocks until the engine
stops it, so nothing may import this module; the policies live in kakoi_policy/.
"""

from kakoi_policy import pack_arguments
from pulumi_policy import PolicyPack

PolicyPack(**pack_arguments())  # type: ignore[arg-type]
