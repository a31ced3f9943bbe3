# Two commands: `make run` (set up, build the index if needed, serve the page) and
# `make test` (set up, then the whole test suite). Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.setup-done
HOST   ?= 127.0.0.1
PORT   ?= 7860
# STORE=postgresql://user:pass@host/db: index and serve from Postgres (same as RAG_STORE_URL)
STORE  ?=
STORE_FLAG := $(if $(STORE),--store $(STORE))

.PHONY: setup run test lint bench browser-deps clean-index

setup: $(STAMP)

LLAMA_CPP := $(shell sed -n 's/^llama_cpp_python==//p' requirements.lock)

# torch first and pinned: this machine has a CPU build of 2.13.0 on disk, any other spec
# pulls gigabytes of CUDA packages. llama-cpp-python compiles from source: built for
# AVX-512 where the CPU has it (scripts/install_llama_cpp.sh says why and how), otherwise
# with GGML_NATIVE=OFF, which keeps pip's cached wheel portable to other CPUs.
$(STAMP): requirements.lock pyproject.toml scripts/install_llama_cpp.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	scripts/install_llama_cpp.sh $(BIN)/pip $(LLAMA_CPP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pmrag fetch-model
	touch $(STAMP)

run: setup
	$(BIN)/pmrag index --if-needed $(STORE_FLAG) || echo "Some articles could not be indexed (listed above); serving the rest."
	$(BIN)/pmrag serve --host $(HOST) --port $(PORT) $(STORE_FLAG)

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: setup
	$(BIN)/ruff check rag ui tests

test: setup browser-deps lint
	$(BIN)/pytest -q -ra

bench: setup
	$(BIN)/pmrag bench
