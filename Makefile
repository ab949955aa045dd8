# Crashbench. `make run` and `make test` set up everything they need first.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export LANG := en_US.UTF-8
export GSETTINGS_BACKEND := memory
GOTAGS := sqlite_fts5
FUZZTIME ?= 5s
SAMPLE := testdata/sample/sample.dmp

.PHONY: all setup build run test test-go test-gui screenshots bench bench-compare fuzz fuzz-campaign clean install

all: build

setup:
	@bash scripts/setup.sh

# Three binaries side by side. bin/crashbench is the headless build: every
# command starts without loading GL/X11 (Fyne) or GTK; asked for the window
# it execs bin/crashbench-workbench, the GUI build (which runs the commands
# too). The native file dialog, bin/crashbench-dialog, links GTK and is run
# by the workbench.
build: setup
	go build -tags '$(GOTAGS) headless' -o bin/crashbench .
	go build -tags '$(GOTAGS)' -o bin/crashbench-workbench .
	go build -o bin/crashbench-dialog ./platform/dialogcmd

# Opens the workbench on the bundled sample dump (made by minidumptest).
run: build
	@if [ -z "$$DISPLAY" ]; then echo "make run: no DISPLAY; for a virtual one: Xvfb :99 & DISPLAY=:99 make run" >&2; exit 1; fi
	bin/crashbench $(SAMPLE)

# CI runs every fuzz target briefly too (make fuzz, FUZZTIME each).
test: setup test-go test-gui fuzz

test-go:
	gofmt -l $$(git ls-files '*.go') | tee /dev/stderr | (! read)
	go vet -tags '$(GOTAGS)' ./...
	CGO_ENABLED=0 go vet -tags ci ./app/... ./widgets/... ./core/...
	go test -tags '$(GOTAGS)' -count=1 ./...
	go test -race -count=1 ./core/mem/... ./core/container/...

# Builds the real binary and opens it under Xvfb; fails unless a Crashbench
# window appears. The screenshot lands in bin/screenshot.png.
test-gui: build
	bash scripts/gui-smoke.sh bin/crashbench $(SAMPLE) bin/screenshot.png

# Drives every tab of the real workbench under Xvfb on corpus dumps and
# writes PNGs to docs/screenshots/ (needs ../shared/corpus).
screenshots: build
	bash scripts/screenshots.sh bin/crashbench

bench: setup
	go test -tags '$(GOTAGS)' -run '^$$' -bench . -benchmem ./...

# Times crashbench against gdb, makedumpfile, minidump_stackwalk and grep,
# alternating runs, plus ingest, the workbench's start and the open cost of
# big sparse kernel dumps; writes docs/PERFORMANCE.md (issue 11).
bench-compare: build
	bash scripts/bench-compare.sh

# Every fuzz target for FUZZTIME each (scripts/fuzz.sh: a failure stops it
# and go test writes the input to testdata/fuzz).
fuzz: setup
	bash scripts/fuzz.sh $(FUZZTIME)

# The long campaign: every target for 10 minutes on one worker, resumable,
# logged to bin/fuzz-campaign.tsv (scripts/fuzz-campaign.sh).
fuzz-campaign: setup
	bash scripts/fuzz-campaign.sh

clean:
	rm -rf bin

# install copies the workbench to ~/.local/bin and registers it as the
# handler of dump files (a double-click on a dump opens it).
install: build
	mkdir -p $(HOME)/.local/bin
	cp bin/crashbench bin/crashbench-workbench bin/crashbench-dialog $(HOME)/.local/bin/
	$(HOME)/.local/bin/crashbench --register
