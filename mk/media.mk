# Recordings (app/media) targets. Included by the root Makefile (-include mk/*.mk); PY and VENV come from there.
BENCH_APP_ARGS ?=

.PHONY: bench-app test-browser

bench-app: venv ## app benchmark: RLS cost on signed-in list requests (gunicorn, production settings, throw-away DB) and presign CPU per upload size
	@$(PY) -m bench.app $(BENCH_APP_ARGS)

test-browser: venv system-packages ## the headless Chromium tests only (Debian's chromium, installed by system-packages)
	@$(PY) -m pytest app/tests -m browser -q
