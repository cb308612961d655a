# Argus — the verbs. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
CARGO ?= cargo
LINT_VENV := .venv/lint
ARGUS := target/debug/argus
OUT ?= cdk.out

.PHONY: help lint-tools build synth test check fmt clippy bench clean

help: ## List the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

lint-tools: $(LINT_VENV)/.installed ## Install the pinned linters (cfn-lint, checkov) into .venv/lint

$(LINT_VENV)/.installed: requirements/lint.txt
	@echo "Installing cfn-lint and checkov (requirements/lint.txt) into $(LINT_VENV)…"
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/lint.txt
	@touch $@

build: ## Build the workspace (debug) and the argus CLI
	$(CARGO) build --workspace --all-targets --locked

synth: ## Write every stack's template, manifest.json and the rule report to cdk.out/
	$(CARGO) build --locked -p argus-stacks --bin argus
	$(ARGUS) synth --stage all --out $(OUT)

test: lint-tools ## Run every test (unit, snapshots, cfn-lint, checkov, CLI): what CI runs
	$(CARGO) test --workspace --lib --bins --tests --locked

fmt: ## Format the code
	$(CARGO) fmt --all

clippy: ## Lint the code (warnings are errors)
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

check: clippy test ## clippy, then every test
	$(CARGO) fmt --all -- --check

bench: ## Measure: argus synth --stage all (median wall time) and template sizes
	$(CARGO) bench --locked -p argus-stacks --bench synth

clean: ## Remove build output, cdk.out and the virtualenvs
	rm -rf target $(OUT) .venv
