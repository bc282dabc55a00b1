# The order pipeline: a Go custom handler for Azure Functions.
# `make run` starts everything on the embedded local stack; `make test` runs every test.

SHELL      := bash
APP        := dist/app
PORT       ?= 7071
DATA       ?= .data
HOSTS      ?= 1
GO         ?= go
NPM_DIRS   := emulators/servicebus infra/check
GOTESTFLAGS ?= -race -count=1 -timeout 30m

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

.PHONY: deps
deps: $(addsuffix /node_modules/.installed,$(NPM_DIRS)) ## Install Go modules and the npm packages of the emulators and checks
	$(GO) mod download

%/node_modules/.installed: %/package-lock.json
	npm --prefix $* ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: test
test: deps ## Run every test: unit, store, emulator conformance, host, end to end, infrastructure
	$(GO) test $(GOTESTFLAGS) ./...

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: run
run: build deps ## Start the whole system on the local stack (Cosmos + Service Bus emulators, local Functions host); PORT=, DATA=, HOSTS= (instances)
	$(GO) build -o dist/devstack ./cmd/devstack
	$(GO) build -o dist/funchost ./cmd/funchost
	exec dist/devstack -app $(APP) -port $(PORT) -data $(DATA) -hosts $(HOSTS)

.PHONY: start
start: build ## Run with Functions Core Tools and Azurite instead (needs `func` and `azurite` on PATH)
	@command -v func >/dev/null || { echo "Functions Core Tools (func) not found: use 'make run' for the local stack"; exit 1; }
	@[ -f local.settings.json ] || cp local.settings.json.example local.settings.json
	cp local.settings.json $(APP)/
	mkdir -p $(DATA)/azurite
	npx --yes azurite --silent --location $(DATA)/azurite --skipApiVersionCheck & trap "kill $$!" EXIT; \
	func start --script-root $(APP)

.PHONY: fleet
fleet: deps ## 10,000 orders on a fleet of 3 hosts over 4 partitions: kill -9 one halfway, split a partition, audit everything; ORDERS=
	$(GO) test -count=1 -timeout 60m -run TestFleetThroughAKillAndASplit -v ./e2e -fleet-orders $(or $(ORDERS),10000)

.PHONY: bench-cosmos
bench-cosmos: ## Benchmark the Cosmos emulator through azcosmos (creates, reads, change feed; memory and durable)
	$(GO) run ./cmd/cosmos-bench

.PHONY: bench-servicebus
bench-servicebus: deps ## Benchmark the Service Bus emulator through azservicebus (batched sends, 8 receivers)
	$(GO) run ./cmd/servicebus-bench

.PHONY: bench-e2e
bench-e2e: build deps ## Place 500 orders on a fresh local stack and print placed→fulfilled p50/p99
	$(GO) run ./cmd/latency -app $(APP) -orders 500

.PHONY: deploy
deploy: ## Deploy to Azure with the Azure CLI (see infra/README.md); ENV=dev|prod
	$(call stage,dist/deploy,linux,amd64)
	infra/deploy.sh $(or $(ENV),dev) dist/deploy

.PHONY: clean
clean: ## Remove build output (keeps the local stack's data in $(DATA))
	rm -rf dist
