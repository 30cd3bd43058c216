# Inkan: `make run` and `make test` do all set-up on a fresh Debian machine.

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
SCENARIO    ?=
DATA        ?= $(CURDIR)/.cache/demo$(if $(SCENARIO),-$(SCENARIO))
BIN         := $(CURDIR)/bin

.PHONY: all deps build run test test-go lint windows test-windows-gui bench bench-compare bench-startup fuzz clean

all: build

## deps: install the Debian packages the build and tests need (apt-get), and the Go modules.
deps:
	@scripts/install-deps.sh
	@$(GO) mod download

## build: the three binaries into bin/.
build: deps
	$(GO) build -o $(BIN)/ ./cmd/...

## run: the bundled server with demo data, and the GUI agent against it (SCENARIO=all-states: an ID in every state).
run: deps
	@scripts/run.sh "$(DATA)" $(if $(SCENARIO),--scenario $(SCENARIO))

## lint: gofmt, go vet and staticcheck must be clean.
lint: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./certstore/... ./agent/... ./wire/... ./server/... ./cmd/inkanctl/... ./cmd/inkan-server/...
	GOBIN=$(CURDIR)/.cache/bin $(GO) install $(STATICCHECK)
	$(CURDIR)/.cache/bin/staticcheck ./...
	GOOS=windows $(CURDIR)/.cache/bin/staticcheck ./certstore/... ./agent/... ./wire/... ./cmd/inkanctl/...

## test: every test (lint, unit and end-to-end, keyring, Windows under Wine, GUI smoke under Xvfb).
test: deps lint
	@scripts/test.sh

## bench: the performance benchmarks (see README), PostgreSQL ones on a private cluster.
bench: deps
	scripts/with-postgres.sh nice -n 10 $(GO) test -run '^$$' -bench . -benchtime 2s -timeout 60m ./server/... ./agent/... ./e2e/... ./ui/...

## fuzz: every Go fuzz target of the module for FUZZTIME each (10m here; make test runs 10s each).
fuzz: deps
	FUZZTIME=$(or $(FUZZTIME),10m) scripts/fuzz.sh

## bench-startup: the real window's first frame and peak memory under Xvfb, as ratios of issue 10's limits.
bench-startup: deps
	nice -n 10 scripts/bench-startup.sh

## bench-compare: Inkan against the bare TLS handshake and signature limits measured in the same run (issue 14).
bench-compare: deps
	nice -n 10 $(GO) run ./bench -rounds $(or $(ROUNDS),5) -out bench/results

## windows: cross-compile inkan.exe and inkanctl.exe with mingw-w64, build the per-user dist/inkan.msi, sign when INKAN_SIGN_PFX or INKAN_SIGN_PKCS11_MODULE is set (scripts/sign-windows.sh).
windows: deps
	@scripts/build-windows.sh

## test-windows-gui: inkan.exe under Wine + Xvfb: the MSI installed per user, a pickup and certificate login in the real window, 動作環境チェック, uninstall keeping or deleting the certificates; screenshots into docs/screenshots/wine/. Not in make test: a cold cgo cross-build of inkan.exe takes 15-25 minutes.
test-windows-gui: deps
	WINE_GUI_OUT=$(CURDIR)/docs/screenshots/wine scripts/test-windows-gui.sh

clean:
	rm -rf $(BIN) dist .cache
