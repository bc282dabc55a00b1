# The order pipeline: a Go custom handler for Azure Functions.
# `make run` starts everything on the embedded local stack; `make test` runs every test.

SHELL      := bash
APP        := dist/app
PORT       ?= 7071
DATA       ?= .data
OTLP_ADDR  ?= 127.0.0.1:4318
HOSTS      ?= 1
GO         ?= go
LOG_LEVEL  ?= warn
FUZZTIME   ?= 30s
RUN_NPM_DIRS  := emulators/servicebus emulators/azurite
TEST_NPM_DIRS := $(RUN_NPM_DIRS) infra/check
FUZZ_TARGETS  := FuzzCheckoutRequest FuzzInvocationEnvelope FuzzChangeFeedDocument FuzzDocumentHead FuzzAppendUnquote
GOTESTFLAGS ?= -race -count=1 -timeout 30m
# staticcheck 2026.2.2, the newest release on the module proxy; it supports Go 1.26.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# stage DIR GOOS GOARCH: the host only finds function folders next to host.json,
# so an app directory holds host.json, every functions/* folder and the handler.
define stage
	rm -rf $(1) && mkdir -p $(1)
	CGO_ENABLED=0 GOOS=$(2) GOARCH=$(3) $(GO) build -trimpath -o $(1)/handler ./cmd/handler
	cp host.json $(1)/
	cp -r functions/* $(1)/
	@echo "staged $(1): $$(ls $(1) | tr '\n' ' ')"
endef

.PHONY: build
build: ## Build the handler and stage a runnable app in dist/app (host.json + function folders + handler)
	$(call stage,$(APP),$(shell $(GO) env GOOS),$(shell $(GO) env GOARCH))

# deps-run is what `make run` needs (go build fetches only the modules it
# builds); deps adds what the tests need: the Bicep check's npm packages and
# every Go module.
.PHONY: deps-run
deps-run: $(addsuffix /node_modules/.installed,$(RUN_NPM_DIRS)) ## Install the npm packages the local stack runs on (the Service Bus emulator, the pinned Azurite)

.PHONY: deps
deps: deps-run $(addsuffix /node_modules/.installed,$(TEST_NPM_DIRS)) ## Install everything the tests need: deps-run, the Bicep check's npm packages, every Go module
	$(GO) mod download

%/node_modules/.installed: %/package-lock.json
	npm --prefix $* ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: test
test: deps ## Run every test: unit, store, emulator conformance, host, end to end, infrastructure
	$(GO) test $(GOTESTFLAGS) ./...

.PHONY: fuzz
fuzz: ## Fuzz the checkout decoder, the host envelope, the change feed decoder and its head reader, the documents unquoting, FUZZTIME each (default 30s)
	@for f in $(FUZZ_TARGETS); do \
		echo "fuzz $$f for $(FUZZTIME)"; \
		$(GO) test ./handlers -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

.PHONY: lint
lint: emulators/servicebus/node_modules/.installed ## gofmt, go mod tidy -diff, go vet, staticcheck (pinned, fetched through the module proxy), ESLint on the Service Bus emulator's JavaScript
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	npm --prefix emulators/servicebus run lint

.PHONY: run
run: build deps-run ## Start the whole system on the local stack (Cosmos + Service Bus emulators, Azurite, local Functions host); PORT=, DATA=, LOG_LEVEL=, TRACE=1, HOSTS= (instances)
	$(GO) build -o dist/devstack ./cmd/devstack
	$(GO) build -o dist/funchost ./cmd/funchost
	exec dist/devstack -app $(APP) -port $(PORT) -data $(DATA) -log-level $(LOG_LEVEL) -hosts $(HOSTS) $(if $(TRACE),-otlp $(OTLP_ADDR))

.PHONY: reset
reset: ## Delete the local stack's data in DATA (default .data): orders, events, leases, Azurite's storage; stop `make run` first
	@case "$(abspath $(DATA))" in /|$(CURDIR)|"") echo "refusing to delete DATA=$(DATA)"; exit 1;; esac
	rm -rf -- "$(DATA)"

.PHONY: trace
trace: ## Print an order's trace as a timeline, from the receiver of `make run TRACE=1`; ORDER=<id>
	@[ -n "$(ORDER)" ] || { echo "usage: make trace ORDER=ord_…"; exit 1; }
	$(GO) run ./cmd/trace -order $(ORDER) -receiver http://$(OTLP_ADDR)

.PHONY: start
start: build deps-run ## Run with Functions Core Tools (needs `func` on PATH) and the pinned Azurite on free ports, data in $(DATA)/azurite
	@command -v func >/dev/null || { echo "Functions Core Tools (func) not found: use 'make run' for the local stack"; exit 1; }
	@[ -f local.settings.json ] || cp local.settings.json.example local.settings.json
	cp local.settings.json $(APP)/
	$(GO) run ./cmd/azurite -data $(DATA)/azurite -- func start --script-root $(APP)

.PHONY: fleet
fleet: deps ## 10,000 orders on a fleet of 3 hosts over 4 partitions: kill -9 one halfway, split a partition, audit everything; ORDERS=
	$(GO) test -count=1 -timeout 60m -run TestFleetThroughAKillAndASplit -v ./e2e -fleet-orders $(or $(ORDERS),10000)

.PHONY: bench-cosmos
bench-cosmos: ## Benchmark the Cosmos emulator through azcosmos (creates, reads, change feed; memory and durable)
	$(GO) run ./cmd/cosmos-bench

.PHONY: bench-servicebus
bench-servicebus: deps-run ## Benchmark the Service Bus emulator through azservicebus (batched sends, 8 receivers)
	$(GO) run ./cmd/servicebus-bench

.PHONY: bench-load
bench-load: build deps ## Load a fresh durable local stack (3,000 orders, 64 clients) and report throughput, latency, backlog, CPU and RU per order into dist/bench; ARGS=
	$(GO) build -o dist/devstack ./cmd/devstack
	$(GO) run ./cmd/bench-load -app $(APP) -devstack dist/devstack $(ARGS)

# bench-ab checks BASE out into a worktree of its own, builds it there and
# lends it this tree's npm packages (a BASE that changed them compares with
# today's), then alternates the two builds under the same load.
AB_TREE := dist/bench-ab/base
# Through a variable, as make -n runs a recipe line that names $(MAKE).
AB_BUILD = $(MAKE) -C $(AB_TREE) build APP=dist/app

.PHONY: bench-ab
bench-ab: build deps-run ## Compare this tree with BASE (a git revision, default HEAD) under bench-load: PAIRS (3) alternating pairs of runs on fresh stacks, every figure's ratio pair by pair, into dist/bench-ab; ARGS= as bench-load's
	$(GO) build -o dist/devstack ./cmd/devstack
	rm -rf $(AB_TREE) && git worktree prune
	git worktree add --detach $(AB_TREE) $(or $(BASE),HEAD)
	$(AB_BUILD)
	cd $(AB_TREE) && $(GO) build -o dist/devstack ./cmd/devstack
	for d in $(RUN_NPM_DIRS); do ln -sfn $(CURDIR)/$$d/node_modules $(AB_TREE)/$$d/node_modules; done
	$(GO) run ./cmd/bench-load -app $(APP) -devstack dist/devstack -vs $(AB_TREE) -pairs $(or $(PAIRS),3) -out dist/bench-ab $(ARGS); \
	  status=$$?; git worktree remove --force $(AB_TREE); exit $$status

.PHONY: chaos
chaos: build deps-run ## Chaos run: 10,000 orders on a durable stack under Cosmos 429/503/latency, a Service Bus outage, kill -9 of handler, broker and stack; audits every promise (ORDERS=, ARGS=)
	$(GO) build -o dist/devstack ./cmd/devstack
	$(GO) run ./cmd/chaos -app $(APP) -devstack dist/devstack -orders $(or $(ORDERS),10000) $(ARGS)

.PHONY: bench-cosmium
bench-cosmium: ## Compare the Cosmos emulator's creates/s with cosmium v0.1.20 (built outside our module into dist/cosmium)
	cmd/cosmos-bench/build-cosmium.sh dist/cosmium
	$(GO) run ./cmd/cosmos-bench -cosmium dist/cosmium

.PHONY: bench-e2e
bench-e2e: build deps-run ## Place 500 orders on a fresh local stack and print placed→fulfilled p50/p99
	$(GO) run ./cmd/latency -app $(APP) -orders 500

.PHONY: deploy
deploy: ## Deploy to Azure with the Azure CLI (see infra/README.md); ENV=dev|prod
	$(call stage,dist/deploy,linux,amd64)
	infra/deploy.sh $(or $(ENV),dev) dist/deploy

.PHONY: clean
clean: ## Remove build output (keeps the local stack's data in $(DATA))
	rm -rf dist
