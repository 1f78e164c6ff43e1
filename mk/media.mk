# Recordings (app/media) targets. Included by the root Makefile (-include mk/*.mk); PY and VENV come from there.
BENCH_APP_ARGS ?=
BENCH_CALLS_ARGS ?=
BENCH_FAULTS_ARGS ?=

.PHONY: bench-app test-browser

bench-app: venv system-packages ## app benchmarks: RLS cost on signed-in list requests, presign CPU per upload size; live calls: connect time, relay CPU per call, signalling messages/s per worker; recovery times of every fault (bench/faults.py)
	@$(PY) -m bench.app $(BENCH_APP_ARGS)
	@$(PY) -m bench.calls $(BENCH_CALLS_ARGS)
	@$(PY) -m bench.faults $(BENCH_FAULTS_ARGS)

test-browser: venv system-packages ## the headless Chromium tests only (Debian's chromium, installed by system-packages)
	@$(PY) -m pytest app/tests -m browser -q
