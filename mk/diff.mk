# Change set of a pull request, offline (tools/diff.py). Included by the root Makefile; PY, VENV and STACK come from there.
FROM ?=
TO ?=
DIFF_FORMAT ?= text

.PHONY: diff

diff: venv ## what FROM -> TO would change in STACK (exports or git refs; default origin/main, else main -> the working tree); exit 1 when a stateful resource is deleted or replaced
	@$(PY) -m tools.diff --stack $(STACK) $(if $(FROM),--from "$(FROM)") $(if $(TO),--to "$(TO)") --format $(DIFF_FORMAT)
