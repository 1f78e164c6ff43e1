# Policy pack targets (CrossGuard pack in policies/, offline checker, controls report).
# Included by the root Makefile (-include mk/*.mk); STACK, PY and VENV come from there.
FILE ?=
POLICY_CONFIG ?=
POLICY_FORMAT ?= text

.PHONY: check controls policy-config policy-config-check policy-report policy-pack-venv bench-check lint-workflows

check: venv ## evaluate the policy pack offline on FILE (a `pulumi stack export` file; default: render STACK)
	@if [ -z "$(FILE)" ]; then $(PY) -m tools.render --stack $(STACK) --out build/$(STACK).stack.json; fi
	@$(PY) -m tools.check "$(or $(FILE),build/$(STACK).stack.json)" --format $(POLICY_FORMAT) $(if $(POLICY_CONFIG),--config $(POLICY_CONFIG))

controls: venv ## controls report of STACK, English and Japanese (prod: docs/controls{,.ja}.md + .html, and docs/controls.ja.pdf when Chromium is there; others: build/controls.STACK.*)
	@$(PY) -m tools.render --stack $(STACK) --out build/$(STACK).stack.json
	@$(PY) -m tools.controls --stack $(STACK) --file build/$(STACK).stack.json
	@$(PY) -m tools.controls_ja --stack $(STACK) --file build/$(STACK).stack.json --pdf

policy-config: venv ## regenerate policies/config.<stack>.json of every stack from its stack config (Pulumi.yaml, Pulumi.<stack>.yaml) and policies/kakoi_policy/levels.py
	@$(PY) -m tools.policy_config --write

policy-config-check: venv ## exit 1 when a committed policies/config.<stack>.json is stale (run make policy-config)
	@$(PY) -m tools.policy_config --check

policy-report: venv ## Markdown policy summary of STACK on stdout (CI appends it to $GITHUB_STEP_SUMMARY); exit 1 on mandatory violations
	@$(PY) -m tools.render --stack $(STACK) --out build/$(STACK).stack.json 2>/dev/null
	@$(PY) -m tools.check build/$(STACK).stack.json --format markdown

policy-pack-venv: ## the pack's own virtualenv (policies/venv), as `pulumi preview --policy-pack policies` uses it
	@test -x policies/venv/bin/python || $(PYTHON_BIN) -m venv policies/venv
	@policies/venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r policies/requirements.txt

bench-check: venv ## offline policy check benchmark (median on the prod export; goal <= 0.5 s)
	@$(PY) -m bench.check

lint-workflows: ## zizmor on the workflows and dependabot.yml (offline, no GitHub API)
	@$(VENV)/bin/zizmor --offline .
