"""gunicorn settings for the container (read-only root filesystem: only /tmp is writable).

The workers are uvicorn's (kakoi.asgi_worker), serving kakoi.asgi: HTTP and the WebSocket
signalling of live calls from the same process and port."""

import os

from kakoi import contract

# The container listens on all its interfaces: the load balancer reaches it through the task's
# network interface; the security group admits only the load balancer.
bind = f"0.0.0.0:{int(os.environ.get(contract.Env.PORT, str(contract.DEFAULT_APP_PORT)))}"
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = 1
worker_class = "kakoi.asgi_worker.KakoiUvicornWorker"
timeout = 30
graceful_timeout = 30
# Longer than the ALB's idle timeout (60 s), so the ALB closes idle connections, not gunicorn.
keepalive = 75
# Worker heartbeat files in /tmp (the only writable path); no control socket (it would need $HOME).
worker_tmp_dir = contract.WRITABLE_PATH
control_socket_disable = True
# Only the load balancer reaches the task; Django decides what to trust in X-Forwarded-* itself
# (SECURE_PROXY_SSL_HEADER, KAKOI_TRUSTED_PROXY_COUNT).
forwarded_allow_ips = "*"
accesslog = "-"
errorlog = "-"
limit_request_line = 8190
limit_request_fields = 100
