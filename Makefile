# pyrograph: `make` builds, `make test` tests, `make profile` records the host.
# Every target installs what it needs first (`make deps`), so each works on a
# fresh Debian machine by itself. V=1 shows the commands.
.DELETE_ON_ERROR:
.PHONY: all deps build bpf test unit-test profile install clean bench bench-smoke interpreters fuzz fuzz-smoke soak pprof-proto

SHELL := /bin/bash
PREFIX ?= /usr/local
CONFIG ?= release
Q := $(if $(filter 1,$(V)),,@)

# The Swift toolchain's clang compiles BPF too (-target bpf).
SWIFT_BIN := /opt/swift/usr/bin
export PATH := $(SWIFT_BIN):$(PATH):/usr/sbin:/sbin
CLANG ?= clang
BPFTOOL ?= bpftool

BPF_OUT := .build/bpf
GENERATED := Sources/CPyrograph/generated
ABI_HEADER := Sources/CPyrograph/include/pyrograph_abi.h
SKELETON := $(GENERATED)/pyrograph.skel.h
BINARY := .build/$(CONFIG)/pyrograph

# Build: libbpf, libelf, zlib, bpftool. Tests: gcc for the C fixtures,
# chromium to check the SVG in a real browser, Debian's static python3.11
# and its headers (layout checks against the installed headers); python3-jsonschema
# validates speedscope output against its schema; valgrind's callgrind_annotate
# reads the callgrind output; tmux is the terminal the `top` tests drive;
# golang-go's `go tool pprof` reads the pprof output; protobuf-compiler
# (protoc) is for `make pprof-proto` only.
# KCacheGrind opens a recording under Xvfb
# (it needs a D-Bus session: dbus-daemon; xwininfo from x11-utils and
# ImageMagick's import take the screenshot): 189 packages with their
# recommends, 2 min 8 s to install here (measured, on a busy 2-core VM).
DEB_PACKAGES := libbpf-dev libelf-dev zlib1g-dev bpftool linux-libc-dev make gcc libc6-dev chromium \
	python3.11 libpython3.11-dev util-linux python3-jsonschema valgrind tmux golang-go protobuf-compiler
DEB_PACKAGES += kcachegrind xvfb dbus-daemon x11-utils imagemagick
DEPS_STAMP := .build/deps.stamp

all: build

deps: $(DEPS_STAMP)

$(DEPS_STAMP):
	$(Q)missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install $$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(Q)command -v swift >/dev/null || { echo "make deps: Swift is missing (expected in $(SWIFT_BIN))" >&2; exit 1; }
	$(Q)mkdir -p $(@D) && touch $@

# vmlinux.h comes from the running kernel's BTF; CO-RE relocates the
# programs to whichever kernel loads them.
$(BPF_OUT)/vmlinux.h: | $(DEPS_STAMP)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c $(ABI_HEADER) $(wildcard bpf/*.h) $(BPF_OUT)/vmlinux.h
	$(Q)echo "  BPF     $<"
	$(Q)$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_x86 -I$(BPF_OUT) -Ibpf \
		-I$(dir $(ABI_HEADER)) -c $< -o $(@:.o=.tmp.o)
	$(Q)$(BPFTOOL) gen object $@ $(@:.o=.tmp.o)
	$(Q)rm -f $(@:.o=.tmp.o)

$(SKELETON): $(BPF_OUT)/pyrograph.bpf.o
	$(Q)mkdir -p $(@D)
	$(Q)echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name pyrograph_bpf > $@

# Not linked: proves stack_capture.bpf.h builds in a scheduler hook too.
CAPTURE_CHECK := $(BPF_OUT)/capture_check.bpf.o

bpf: $(SKELETON) $(CAPTURE_CHECK)

build: $(SKELETON) $(CAPTURE_CHECK)
	$(Q)swift build -c $(CONFIG) --product pyrograph

# Debian unstable's CPythons (3.13 to 3.15, debug builds) in a root outside
# the clone, built once (a few minutes) and checked on later runs.
interpreters: | $(DEPS_STAMP)
	$(Q)bash Tests/Interpreters/debian-unstable.sh

# Tests/PyrographTests/Unit needs no root and no BPF: `make unit-test` runs
# it in seconds anywhere Swift builds. Integration/ loads real BPF programs
# and runs real interpreters as root against the release binary; `make test`
# runs both.
UNIT_TESTS = $(shell sed -n 's/^final class \([A-Za-z0-9_]*\): XCTestCase.*/\1/p' Tests/PyrographTests/Unit/*.swift | paste -sd'|')

test: build interpreters
	$(Q)PYROGRAPH_BIN=$(abspath $(BINARY)) PYROGRAPH_BPF_OBJECT=$(abspath $(BPF_OUT)/pyrograph.bpf.o) \
		swift test --disable-swift-testing

unit-test: $(SKELETON) $(BPF_OUT)/pyrograph.bpf.o
	$(Q)PYROGRAPH_UNIT_TESTS=1 PYROGRAPH_BPF_OBJECT=$(abspath $(BPF_OUT)/pyrograph.bpf.o) \
		swift test --disable-swift-testing --filter '\.($(UNIT_TESTS))/'

# Records the host's Python processes for 10 s into profile.svg and prints
# the report; on a quiet host it runs examples/backtest.py alongside
# (examples/profile.sh says so). PROFILE_SECONDS=N, PYTHON=python3.X.
profile: build
	$(Q)examples/profile.sh $(BINARY) profile.svg

install: build
	install -D -m 0755 $(BINARY) $(DESTDIR)$(PREFIX)/bin/pyrograph

clean:
	rm -rf .build $(GENERATED)

# Benchmarks (bench/README.md): pyrograph against a pinned py-spy, installed
# into bench/.venv, on fixed workloads. Writes bench/results/latest.md and
# latest.json and prints the table; about 15 minutes on 2 cores.
# BENCH_REPS=N sets the rounds of the slowdown runs (default 3).
bench: build
	$(Q)PYROGRAPH_BIN=$(abspath $(BINARY)) $(if $(BENCH_REPS),BENCH_REPS=$(BENCH_REPS)) bench/run

# Seconds: tiny workloads, pyrograph only; checks that the suite runs and
# writes bench/results/smoke.md and smoke.json.
bench-smoke: build
	$(Q)PYROGRAPH_BIN=$(abspath $(BINARY)) bench/run --smoke

# Fuzzing (Tests/Fuzz/README.md): pyrograph-fuzz, built with libFuzzer and
# AddressSanitizer into .build/fuzz, runs each target (ELF reader, CFI,
# line tables, ring-buffer records, the Python walker on memory images)
# for FUZZ_SECONDS (default 60) on seed corpora from real files, kept in
# FUZZ_DIR (default /tmp/pyrograph-fuzz). Fails if any target crashed.
FUZZ_SECONDS ?= 60
fuzz: $(SKELETON)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) Tests/Fuzz/run

# CI: 5 seconds a target; 1 min 40 s on 2 cores with the sanitized build from clean.
fuzz-smoke: $(SKELETON)
	$(Q)FUZZ_SECONDS=5 Tests/Fuzz/run

# The long-run workload (bench/soak.py) for SOAK_SECONDS (default 1800):
# pyrograph's RSS curve, CPU, stop time and lost samples. Not in CI (its
# two-minute version is SoakSmokeTests). On a shared host, wrap it (and
# make fuzz) in the tests' lock: flock /tmp/pyrograph-tests.lock make soak.
SOAK_SECONDS ?= 1800
soak: build
	$(Q)bench/soak.py --seconds $(SOAK_SECONDS) --pyrograph $(abspath $(BINARY))

# pprof: Sources/Output/Pprof/profile.pb.swift is generated from profile.proto
# and committed, since swift-protobuf's protoc-gen-swift takes about 10
# minutes to build. This builds the plugin once, outside the clone (at the
# version Package.swift names), and regenerates the Swift code. Not part of
# `make test`.
PROTOC_GEN_SWIFT_VERSION := 1.39.0
PROTOC_GEN_SWIFT_DIR ?= /var/cache/pyrograph/protoc-gen-swift
PROTOC_GEN_SWIFT := $(PROTOC_GEN_SWIFT_DIR)/.build/release/protoc-gen-swift
PPROF_PROTO := Sources/Output/Pprof/profile.proto

$(PROTOC_GEN_SWIFT): | $(DEPS_STAMP)
	$(Q)[ -d $(PROTOC_GEN_SWIFT_DIR)/.git ] || git clone -q --branch $(PROTOC_GEN_SWIFT_VERSION) \
		https://github.com/apple/swift-protobuf $(PROTOC_GEN_SWIFT_DIR)
	$(Q)echo "  BUILD   protoc-gen-swift $(PROTOC_GEN_SWIFT_VERSION) (about 10 minutes)"
	$(Q)cd $(PROTOC_GEN_SWIFT_DIR) && swift build -c release --product protoc-gen-swift

pprof-proto: $(PROTOC_GEN_SWIFT)
	$(Q)echo "  PROTOC  $(PPROF_PROTO)"
	$(Q)protoc --plugin=protoc-gen-swift=$(PROTOC_GEN_SWIFT) --swift_opt=Visibility=Internal \
		--proto_path=$(dir $(PPROF_PROTO)) --swift_out=$(dir $(PPROF_PROTO)) $(PPROF_PROTO)
