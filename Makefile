# Two commands for a fresh machine: `make run` and `make test`.
# Both bootstrap .venv (torch's CPU build first, then the project with the dev extra, which includes
# the build extra: torch exports the embedding model to ONNX once, and the tests compare the two)
# and reuse it afterwards. Serving itself imports neither torch nor sentence-transformers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.careerbot-installed
# Set TORCH_INDEX_URL to PyTorch's CPU wheel index on a machine whose pip would otherwise fetch a CUDA build.
TORCH_INDEX_URL ?=
TORCH_SPEC ?= torch==2.13.0

.PHONY: run test install lint index bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing careerbot (first time: several minutes, about 2 GB)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> [1/2] PyTorch, CPU build ($(TORCH_SPEC))"
	$(BIN)/python -m pip install --progress-bar on --disable-pip-version-check $(TORCH_SPEC) $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	@echo "==> [2/2] careerbot and its dependencies"
	$(BIN)/python -m pip install --progress-bar on --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)
	@echo "==> installed"

run: $(STAMP)
	@echo "==> checking configuration and tokens (careerbot check)"
	@$(BIN)/careerbot check
	@echo "==> starting: loading the model and the index (the first start builds the index, about 30 s)"
	$(BIN)/careerbot run

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot knowledge adapters tests benchmarks

index: $(STAMP)
	$(BIN)/careerbot index build

bench: $(STAMP)
	$(BIN)/careerbot bench

clean:
	rm -rf $(VENV) data .pytest_cache
