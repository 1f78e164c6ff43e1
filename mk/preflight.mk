# The preflight (tools/preflight.py): read-only checks of the target AWS account before `pulumi up`.
# Included by the root Makefile (-include mk/*.mk); STACK, PY and VENV come from there.
PREFLIGHT_ARGS ?=

.PHONY: preflight preflight-policy

preflight: venv ## read-only checks of the AWS account (your credentials: AWS_PROFILE, ...) for STACK before `pulumi up`; exit 1 on a FAIL, 2 without credentials
	@$(PY) -m tools.preflight --stack $(STACK) $(PREFLIGHT_ARGS)

preflight-policy: venv ## print the read-only IAM policy `make preflight` needs
	@$(PY) -m tools.preflight --print-policy
