# Media app targets (app/). Included by the root Makefile (-include mk/*.mk); PY and VENV come from there.
APP_PORT ?= 8000
APP_DB ?= kakoi
# The local PostgreSQL's superuser (trust auth on 127.0.0.1), used only to create the database and the roles.
APP_PG_ADMIN ?= postgres

.PHONY: app test-app bandit-app

app: venv turn-setup ## run the app on http://localhost:$(APP_PORT) (uvicorn: HTTP + WebSocket): local PostgreSQL (database + roles created), moto S3, the TURN relay on 127.0.0.1:$(TURN_PORT), console email, demo users
	@mkdir -p build
	@set -euo pipefail; \
	port=$$($(PY) -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	$(VENV)/bin/moto_server -H 127.0.0.1 -p $$port >build/moto.log 2>&1 & moto=$$!; \
	$(TURN_LOCAL_ENV) relay/entrypoint.sh >build/turn.log 2>&1 & turn=$$!; \
	trap 'kill $$moto $$turn 2>/dev/null || true' EXIT INT TERM; \
	export DJANGO_SETTINGS_MODULE=kakoi.settings.local DATABASE_HOST=127.0.0.1 DATABASE_PORT=5432 DATABASE_NAME=$(APP_DB) \
	  KAKOI_S3_ENDPOINT_URL=http://127.0.0.1:$$port KAKOI_MEDIA_BUCKET=kakoi-local-media KAKOI_MEDIA_REQUIRE_MALWARE_SCAN=false \
	  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=ap-northeast-1 \
	  KAKOI_TURN_URLS="turns:127.0.0.1:$(TURN_PORT)?transport=tcp" KAKOI_TURN_SECRET="$$(cat $(TURN_DIR)/secret)"; \
	echo "== moto S3 on 127.0.0.1:$$port (log: build/moto.log)"; \
	echo "== TURN relay on 127.0.0.1:$(TURN_PORT), TLS 1.3 only (log: build/turn.log). Browsers verify its certificate:"; \
	echo "   trust $(TURN_DIR)/ca/ca.crt once, e.g. for Chromium/Chrome on Linux:"; \
	echo "   certutil -d sql:$$HOME/.pki/nssdb -A -n kakoi-local-relay -t C,, -i $(CURDIR)/$(TURN_DIR)/ca/ca.crt"; \
	cd app; \
	echo "== database $(APP_DB): roles (as $(APP_PG_ADMIN)), then migrations (as kakoi_owner)"; \
	DATABASE_MASTER_USER=$(APP_PG_ADMIN) ../$(PY) manage.py provision_db --create-database --verbosity 0; \
	echo "== translations (app/locale, compiled with polib)"; \
	../$(PY) manage.py compile_translations; \
	echo "== demo data (as kakoi_web)"; \
	../$(PY) manage.py seed_demo --create-bucket; \
	echo "== http://localhost:$(APP_PORT)/ (Ctrl-C stops the app, the relay and moto); calls: sign in as two users in two windows, Calls > Lobby"; \
	../$(PY) -m uvicorn kakoi.asgi:application --host 127.0.0.1 --port $(APP_PORT) --http h11 --ws websockets-sansio \
	  --lifespan off --no-proxy-headers --no-server-header

test-app: venv ## the app's tests only (real PostgreSQL, connected as kakoi_web; moto for AWS)
	@$(PY) -m pytest app/tests -q

bandit-app: venv ## bandit over the app's code (tests excluded)
	@$(VENV)/bin/bandit -q -r app -x app/tests
