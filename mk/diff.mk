# Change set of a pull request, offline (tools/diff.py). Included by the root Makefile; PY, VENV and STACK come from there.
FROM ?=
TO ?=
DIFF_FORMAT ?= text

.PHONY: diff urns urns-check equivalent

diff: venv ## what FROM -> TO would change in STACK (exports or git refs; default origin/main, else main -> the working tree); exit 1 when a stateful resource is deleted or replaced
	@$(PY) -m tools.diff --stack $(STACK) $(if $(FROM),--from "$(FROM)") $(if $(TO),--to "$(TO)") --format $(DIFF_FORMAT)

urns: venv ## re-record the URN manifest of every stack (tests/infra/urns/*.txt) after a change that adds resources or moves URNs with aliases
	@$(PY) -m tools.urns --write

urns-check: venv ## compare every stack's render with its URN manifest (exit 1 when a URN moved without an alias)
	@$(PY) -m tools.urns --check

equivalent: venv ## prove the working tree renders exactly what FROM renders, resource by resource, in every stack (inputs, options, dependencies, outputs; aliases followed)
	@$(PY) -m tools.urns --same-as $(or $(FROM),main)
