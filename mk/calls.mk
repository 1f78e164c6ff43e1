# Live calls: the local TURN relay (relay/). Included by the root Makefile (-include mk/*.mk); PY and VENV come from there.
TURN_PORT ?= 5349
TURN_DIR := build/turn

# The relay's environment for local runs: the relay address is 127.0.0.1, so loopback peers are allowed and
# 127.0.0.1 is the relay range (in AWS: the relay subnets, loopback refused).
TURN_LOCAL_ENV = TURN_RUN_DIR=$(TURN_DIR)/run TURN_SECRET="$$(cat $(TURN_DIR)/secret)" TURN_REALM=kakoi.local TURN_LISTEN_PORT=$(TURN_PORT) \
  TURN_LISTEN_IP=127.0.0.1 TURN_RELAY_IP=127.0.0.1 TURN_ALLOWED_PEER_CIDRS=127.0.0.1/32 TURN_ALLOW_LOOPBACK_PEERS=true \
  TURN_TLS_CERT=$(TURN_DIR)/ca/tls.crt TURN_TLS_KEY=$(TURN_DIR)/ca/tls.key

.PHONY: turn turn-setup

# A local CA + relay certificate (127.0.0.1, localhost) and a shared secret, kept in build/turn/ between runs.
turn-setup:
	@mkdir -p $(TURN_DIR)
	@relay/local-ca.sh $(TURN_DIR)/ca
	@test -s $(TURN_DIR)/secret || (umask 077; head -c 36 /dev/urandom | base64 | tr -d '/+=\n' > $(TURN_DIR)/secret)

turn: turn-setup system-packages ## start only the TURN relay (coturn, TLS 1.3 only, relay/turnserver.conf) on 127.0.0.1:$(TURN_PORT)
	@echo "== TURN relay on turns:127.0.0.1:$(TURN_PORT)?transport=tcp (TLS 1.3 only); CA: $(TURN_DIR)/ca/ca.crt; secret: $(TURN_DIR)/secret"
	@$(TURN_LOCAL_ENV) exec relay/entrypoint.sh
