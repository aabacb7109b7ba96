# memscope — build, run, test.
#   make          build ./memscope
#   make run      install dependencies, build, run the main job
#   make test     install dependencies, build, run unit and end-to-end tests
#   make bench    benchmarks (never part of make test)
#   make install  PREFIX (/usr/local) and DESTDIR; make uninstall removes the same files
#   make deb      the Debian package (dpkg-buildpackage, unsigned); make dist a tarball

OUT      := build
BPFTOOL  ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CLANG    ?= clang
CC       ?= gcc
PYTHON   ?= /usr/bin/python3
LLVM_STRIP ?= llvm-strip
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# The release (debian/changelog names the same). A git checkout adds its commit; the
# tarball of make dist carries the whole version and its date in .version, so it builds
# without git. The date (SOURCE_DATE_EPOCH, the commit's) is the man pages' only date.
RELEASE  := 0.1.0
VERSION  := $(shell sed -n 1p .version 2>/dev/null | grep . || \
	      { g=$$(git describe --always --dirty 2>/dev/null) && echo $(RELEASE)+g$$g; } || \
	      echo $(RELEASE))
SOURCE_DATE_EPOCH ?= $(shell sed -n 2p .version 2>/dev/null | grep . || \
		       git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -DMEMSCOPE_VERSION='"$(VERSION)"'
# Reproducible: no build directory in the debug information, no date or time macro
CFLAGS   += -ffile-prefix-map=$(CURDIR)=. -Wdate-time
# make test-sanitize builds a second tree (build-san) with these
SAN_FLAGS ?=
CFLAGS   += $(SAN_FLAGS)
LDFLAGS  += $(SAN_FLAGS)
BIN      ?= memscope
CPPFLAGS += -Isrc -Isrc/lib -Isrc/collect -Isrc/bpf -I$(OUT) -MMD -MP
LDLIBS   += -lbpf -ldw -lelf -lz -ljson-c -lmicrohttpd -lgnutls -lyaml -lcrypt -lsqlite3 \
	    -lpthread -lm
# The kernel's types come from a vmlinux.h kept in the tree, not from the build
# machine's kernel: CO-RE relocates every access against the running kernel's BTF, so
# one build serves every kernel, and two builds anywhere are the same bytes.
VMLINUX_DIR := src/bpf/vmlinux/$(ARCH)
BPF_CFLAGS := -target bpf -g -O2 -Wall -D__TARGET_ARCH_$(ARCH) -I$(VMLINUX_DIR) -I$(OUT) \
	      -Isrc -Isrc/bpf -ffile-prefix-map=$(CURDIR)=.

BPF_SRCS := $(wildcard src/bpf/*.bpf.c)
SKELS    := $(patsubst src/bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS)) $(OUT)/proc.lskel.h $(OUT)/proc_exit.lskel.h $(OUT)/nodes.lskel.h $(OUT)/slab_iter.lskel.h $(OUT)/cache_iter.lskel.h
LIB_SRCS := $(wildcard src/lib/*.c)
COLLECT_SRCS := $(wildcard src/collect/*.c)
CMD_SRCS := $(wildcard src/*.c)
LIB_OBJS := $(patsubst src/lib/%.c,$(OUT)/lib/%.o,$(LIB_SRCS)) \
	    $(patsubst src/collect/%.c,$(OUT)/collect/%.o,$(COLLECT_SRCS))
CMD_OBJS := $(patsubst src/%.c,$(OUT)/%.o,$(CMD_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))

.PHONY: all deps run test unit e2e e2e-fallback bench clean format test-vm docs test-sanitize \
	fuzz soak man completion install uninstall dist deb test-install test-deb test-repro test-boot \
	vmlinux-h
# keep BPF objects between builds (they are intermediates of the skeletons)
.SECONDARY:
all: memscope

deps:
	@scripts/deps.sh

$(BIN): $(CMD_OBJS) $(OUT)/libmemscope.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Shared pieces as an archive, so a unit test links only what it uses.
$(OUT)/libmemscope.a: $(LIB_OBJS)
	ar rcsD $@ $^

$(VMLINUX_DIR)/vmlinux.h:
	@echo "no $@: the kernel types for $(ARCH); make it with" \
	      "'make vmlinux-h VMLINUX_BTF=<a kernel's BTF file>'" >&2; exit 1

# Refresh the tree's vmlinux.h from a kernel's BTF (6.18.44 made the x86 one): a new
# type or field memscope reads must be in it; an older kernel's differences are CO-RE's.
vmlinux-h:
	@mkdir -p $(VMLINUX_DIR)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $(VMLINUX_DIR)/vmlinux.h.tmp
	mv $(VMLINUX_DIR)/vmlinux.h.tmp $(VMLINUX_DIR)/vmlinux.h

# DWARF is stripped (BTF and its line info stay): it named the build directory, and
# the skeleton embeds the object whole.
$(OUT)/%.bpf.o: src/bpf/%.bpf.c $(VMLINUX_DIR)/vmlinux.h $(wildcard src/bpf/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(LLVM_STRIP) -g $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# A light skeleton: a loader program run in the kernel, which relocates CO-RE against the
# kernel's own BTF, so user space never parses the 5.5 MiB vmlinux BTF (proc's start).
$(OUT)/%.lskel.h: $(OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton -L $< name $(subst -,_,$*)_lite > $@.tmp && mv $@.tmp $@

# The objects that print the version are rebuilt when it changes (a stamp holds it).
VERSION_OBJS := $(patsubst src/%.c,$(OUT)/%.o,$(shell grep -l MEMSCOPE_VERSION src/*.c \
		src/lib/*.c src/collect/*.c))
$(VERSION_OBJS): $(OUT)/version.stamp
$(OUT)/version.stamp: FORCE
	@mkdir -p $(OUT)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
.PHONY: FORCE
FORCE:

# Every user-side object may include a skeleton: build them first.
$(CMD_OBJS): $(OUT)/%.o: src/%.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/lib/%.o: src/lib/%.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUT)/collect/%.o: src/collect/%.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# (the headers its .d file adds to the prerequisites are not inputs to link)
$(OUT)/tests/test_%: tests/unit/test_%.c $(OUT)/libmemscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.a,$^) $(LDLIBS) -lcmocka

run: deps
	@$(MAKE) --no-print-directory memscope
	./memscope

# and the views' includes: no skeleton or kernel-side header, libbpf only where called
unit: $(UNIT_BINS)
	@rc=0; for t in $(UNIT_BINS); do $$t || rc=1; done; \
	$(PYTHON) scripts/check-includes.py || rc=1; exit $$rc

$(OUT)/tests/%.bpf.o: tests/e2e/%.bpf.c $(VMLINUX_DIR)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/tests/workload: tests/e2e/workload.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -Wall -o $@ $<

# runs reclaim's own BPF programs with BPF_PROG_TEST_RUN (tests/e2e/test_reclaim.py)
$(OUT)/tests/stall_nest: tests/e2e/stall_nest.c $(OUT)/reclaim.skel.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -O1 -Wall -o $@ $< -lbpf -lelf -lz

# runs reclaim's kswapd programs the same way (tests/e2e/test_reclaim.py)
$(OUT)/tests/kswapd_run: tests/e2e/kswapd_run.c $(OUT)/reclaim.skel.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -O1 -Wall -o $@ $< -lbpf -lelf -lz

# steps one process's wall clock at SIGUSR1, as NTP would (tests/e2e/test_record.py)
$(OUT)/tests/libclockstep.so: tests/e2e/clockstep.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -Wall -shared -fPIC -o $@ $< -ldl

# memscope leak's: frame pointers and no sibling calls, so each stack is whole; and the
# same without frame pointers, to see the walk stop and the output say so
LEAKY_FLAGS := -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls
$(OUT)/tests/libtstalloc.so: tests/e2e/tstalloc.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -shared -fPIC -o $@ $<

$(OUT)/tests/leaky: tests/e2e/leaky.c $(OUT)/tests/libtstalloc.so
	$(CC) $(LEAKY_FLAGS) -Wall -o $@ $< -L$(OUT)/tests -ltstalloc -Wl,-rpath,'$$ORIGIN'

$(OUT)/tests/leaky_nofp: tests/e2e/leaky.c $(OUT)/tests/libtstalloc.so
	$(CC) -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls -Wall -o $@ $< \
		-L$(OUT)/tests -ltstalloc \
		-Wl,-rpath,'$$ORIGIN'

# the exporter's: a scrape's response that cannot be made (tests/e2e/test_exporter.py)
$(OUT)/tests/libfailresp.so: tests/e2e/failresp.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -Wall -shared -fPIC -o $@ $<

E2E_BINS := $(OUT)/tests/fentry_only.bpf.o $(OUT)/tests/task_pids.bpf.o \
	    $(OUT)/tests/task_from_pid.bpf.o $(OUT)/tests/workload \
	    $(OUT)/tests/stall_nest $(OUT)/tests/kswapd_run $(OUT)/tests/leaky \
	    $(OUT)/tests/leaky_nofp $(OUT)/tests/libfailresp.so $(OUT)/tests/libclockstep.so

e2e: memscope $(E2E_BINS)
	$(PYTHON) -m pytest -q -rs tests/e2e

# The same suite again on the fallback variants (raw_tp where tp_btf is preferred), and
# on the last ones (classic tracepoints): no kernel of ours would choose them otherwise.
e2e-fallback: memscope $(E2E_BINS)
	MEMSCOPE_TEST_AVOID_HOOKS=tp_btf $(PYTHON) -m pytest -q -rs tests/e2e
	MEMSCOPE_TEST_AVOID_HOOKS=tp_btf,raw_tp $(PYTHON) -m pytest -q -rs tests/e2e

test: deps
	@$(MAKE) --no-print-directory memscope unit
	@$(MAKE) --no-print-directory test-install
	@$(MAKE) --no-print-directory e2e
	@$(MAKE) --no-print-directory e2e-fallback

BENCH_BINS := $(addprefix $(OUT)/bench/,pingpong faulter sleepers readstatus hooks snapshot_cost \
	mallocs)

$(OUT)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -o $@ $<

$(OUT)/bench/hooks.bpf.o: bench/hooks.bpf.c $(VMLINUX_DIR)/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bench/hooks.skel.h: $(OUT)/bench/hooks.bpf.o
	$(BPFTOOL) gen skeleton $< name hooks_bpf > $@.tmp && mv $@.tmp $@

$(OUT)/bench/hooks: bench/hooks.c $(OUT)/bench/hooks.skel.h
	$(CC) -O2 -Wall -I$(OUT)/bench -o $@ $< -lbpf -lelf -lz

# links the process collector: the in-process cost is memscope's, not a copy's
$(OUT)/bench/snapshot_cost: bench/snapshot_cost.c $(OUT)/libmemscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDLIBS)

# AddressSanitizer and UndefinedBehaviorSanitizer: a second build in build-san, its unit
# tests, and one e2e pass that runs it (MEMSCOPE_BIN); any report fails, leaks included.
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
test-sanitize: deps
	@$(MAKE) --no-print-directory memscope $(E2E_BINS)
	@$(MAKE) --no-print-directory OUT=build-san BIN=build-san/memscope SAN_FLAGS="$(SAN)" \
		build-san/memscope unit
	@rm -f build-san/report.*
	MEMSCOPE_BIN=$(CURDIR)/build-san/memscope \
	ASAN_OPTIONS=detect_leaks=1:exitcode=99:log_path=$(CURDIR)/build-san/report \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/build-san/report \
		$(PYTHON) -m pytest -q -rs tests/e2e
	@if ls build-san/report.* >/dev/null 2>&1; then \
		echo "test-sanitize: sanitizer reports:"; cat build-san/report.*; exit 1; fi
	@echo "test-sanitize: no sanitizer report"

# libFuzzer targets for every parser of outside input (tests/fuzz), each run FUZZ_SECONDS
# from its seed corpus (real captured files); a crash leaves its input in build-fuzz.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz: deps
	@$(MAKE) --no-print-directory CC=clang OUT=build-fuzz \
		SAN_FLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" build-fuzz/libmemscope.a
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		n=$$(basename $$t); mkdir -p build-fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -close_fd_mask=1 \
			-artifact_prefix=build-fuzz/$$n- build-fuzz/corpus/$$n tests/fuzz/seeds/$$n \
			> build-fuzz/$$n.log 2>&1 || { tail -n 40 build-fuzz/$$n.log; exit 1; }; \
		grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/$$n.log | \
			tr '\n' ' '; echo; \
	done

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libmemscope.a
	clang -g -O1 -fsanitize=fuzzer $(FUZZ_SAN) $(CPPFLAGS) -D_GNU_SOURCE -Ibuild-fuzz \
		-o $@ $^ $(LDLIBS)

# Every live command at once under a cycling load, SOAK_MINUTES long (not in make test).
SOAK_MINUTES ?= 30
soak: deps
	@$(MAKE) --no-print-directory memscope $(E2E_BINS)
	SOAK_MINUTES=$(SOAK_MINUTES) $(PYTHON) tests/soak/soak.py --json build/soak.json

# The e2e suite inside QEMU on Debian's 6.1 kernel (see tests/vm/run.sh).
test-vm: deps
	@$(MAKE) --no-print-directory memscope $(E2E_BINS)
	tests/vm/run.sh

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory memscope $(BENCH_BINS)
	$(PYTHON) bench/bench.py $(BENCH_ARGS)

# The JSON field and metric references, generated from the record descriptions (a test checks it).
docs: memscope
	{ printf '# memscope JSON records\n\nGenerated by `make docs` from the record '; \
	  printf 'descriptions (`memscope help fields`); do not edit.\n\n'; \
	  ./memscope help fields; } > docs/FIELDS.md
	./memscope help metrics > docs/METRICS.md
	./memscope help recorder > docs/RECORDER.md

# --- Install -------------------------------------------------------------------------
# Man pages and completion are made by the binary from its command table and record
# descriptions (memscope help man, help completion), so they say what --help says.
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/memscope
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
PROMDIR     ?= $(DATADIR)/memscope/prometheus
GRAFANADIR  ?= $(DATADIR)/memscope/grafana
# drop-ins to copy into /etc/systemd/system/UNIT.d/ (installed there they would act)
DROPINDIR   ?= $(DATADIR)/memscope/systemd
INSTALL     ?= install

# one page per command of the table in src/memscope.c, and memscope(8)
COMMANDS  := $(shell sed -n 's/^\t&cmd_\([a-z_]*\),$$/\1/p' src/memscope.c)
MAN_PAGES := $(OUT)/man/memscope.8 $(patsubst %,$(OUT)/man/memscope-%.8,$(COMMANDS))
UNITS     := memscope-exporter.service memscope-record.service
DROPINS   := memscope-exporter-tls.conf
DOCS      := README.md docs/FIELDS.md docs/METRICS.md docs/RECORDER.md
PROM      := prometheus.yml memscope-rules.yml
GRAFANA   := memscope.json

# what make install writes, as "mode:source:destination" (make uninstall removes these)
INSTALLED := 0755:$(BIN):$(SBINDIR)/memscope \
	$(foreach m,$(MAN_PAGES),0644:$(m):$(MANDIR)/man8/$(notdir $(m))) \
	0644:$(OUT)/completion/memscope:$(BASHCOMPDIR)/memscope \
	0644:$(OUT)/completion/_memscope:$(ZSHCOMPDIR)/_memscope \
	$(foreach u,$(UNITS),0644:contrib/systemd/$(u):$(UNITDIR)/$(u)) \
	$(foreach u,$(DROPINS),0644:contrib/systemd/$(u):$(DROPINDIR)/$(u)) \
	$(foreach p,$(PROM),0644:contrib/prometheus/$(p):$(PROMDIR)/$(p)) \
	$(foreach g,$(GRAFANA),0644:contrib/grafana/$(g):$(GRAFANADIR)/$(g)) \
	$(foreach d,$(DOCS),0644:$(d):$(DOCDIR)/$(notdir $(d)))

man: $(MAN_PAGES)
completion: $(OUT)/completion/memscope $(OUT)/completion/_memscope

$(OUT)/man/memscope.8: $(BIN)
	@mkdir -p $(dir $@)
	./$(BIN) help man > $@.tmp && mv $@.tmp $@

$(OUT)/man/memscope-%.8: $(BIN)
	@mkdir -p $(dir $@)
	./$(BIN) help man $* > $@.tmp && mv $@.tmp $@

$(OUT)/completion/memscope: $(BIN)
	@mkdir -p $(dir $@)
	./$(BIN) help completion bash > $@.tmp && mv $@.tmp $@

$(OUT)/completion/_memscope: $(BIN)
	@mkdir -p $(dir $@)
	./$(BIN) help completion zsh > $@.tmp && mv $@.tmp $@

# the units and drop-ins name the binary where this install puts it
install: $(BIN) man completion
	@set -e; for f in $(INSTALLED); do \
		m=$${f%%:*}; r=$${f#*:}; src=$${r%%:*}; dst=$(DESTDIR)$${r#*:}; \
		echo "  $$dst"; $(INSTALL) -D -m $$m $$src $$dst; \
	done
	@for u in $(UNITS:%=$(UNITDIR)/%) $(DROPINS:%=$(DROPINDIR)/%); do \
		sed -i 's|/usr/local/sbin/memscope|$(SBINDIR)/memscope|' $(DESTDIR)$$u; done

# only memscope's own directories go, and only when empty
uninstall:
	@for f in $(INSTALLED); do r=$${f#*:}; rm -f "$(DESTDIR)$${r#*:}"; done
	@-rmdir "$(DESTDIR)$(PROMDIR)" "$(DESTDIR)$(DROPINDIR)" "$(DESTDIR)$(GRAFANADIR)" \
		"$(DESTDIR)$(dir $(PROMDIR))" \
		"$(DESTDIR)$(DOCDIR)" 2>/dev/null || true

# The installed artefacts tested as installed (tests/install): file list, man pages,
# completion in a pty, uninstall; a tarball built twice without git, compared.
test-install: $(BIN)
	$(PYTHON) -m pytest -q -rs tests/install

# The Debian package (debian/), built unsigned with dpkg-buildpackage from a copy of
# this tree without git (uncommitted changes included, .version written); lintian must
# report neither an error nor a warning. The .deb lands in $(OUT)/deb.
deb:
	@scripts/deps.sh pkg
	rm -rf $(OUT)/deb && mkdir -p $(OUT)/deb/$(DIST)
	if git rev-parse --git-dir >/dev/null 2>&1; then \
		git ls-files -z -c -o --exclude-standard | \
			tar --null -T - --ignore-failed-read -cf - 2>/dev/null; \
	else tar --exclude=./$(OUT) --exclude=./$(BIN) -cf - .; fi | tar -x -C $(OUT)/deb/$(DIST)
	printf '%s\n%s\n' '$(VERSION)' '$(SOURCE_DATE_EPOCH)' > $(OUT)/deb/$(DIST)/.version
	cd $(OUT)/deb/$(DIST) && dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || \
		{ tail -n 40 ../build.log; exit 1; }
	lintian --fail-on error,warning --suppress-tags-from-file /dev/null $(OUT)/deb/*.changes
	@ls $(OUT)/deb/*.deb

# The package as installed (tests/pkg/deb.sh): apt install, files, man pages, units
# (disabled, systemd-analyze verify), one e2e pass on /usr/sbin/memscope, purge.
test-deb: deb $(E2E_BINS)
	tests/pkg/deb.sh

# The package under a real systemd (tests/pkg/boot.sh): systemd-nspawn --boot of a
# Debian root file system with it installed; both units started, READY, scraped, purged.
test-boot:
	@ls build/deb/memscope_*_*.deb >/dev/null 2>&1 || $(MAKE) --no-print-directory deb
	tests/pkg/boot.sh

# Two builds of the tarball in different places and on different days, compared.
test-repro:
	tests/pkg/repro.sh

# A source tarball of HEAD that builds with no git and no network (.version inside).
DIST := memscope-$(RELEASE)
dist:
	@git rev-parse --git-dir >/dev/null 2>&1 || { echo "make dist: needs the git checkout" >&2; exit 1; }
	rm -rf $(OUT)/dist && mkdir -p $(OUT)/dist
	git archive --format=tar --prefix=$(DIST)/ HEAD | tar -x -C $(OUT)/dist
	printf '%s\n%s\n' "$(RELEASE)+g$$(git describe --always)" \
		"$$(git log -1 --format=%ct)" > $(OUT)/dist/$(DIST)/.version
	tar --sort=name --mtime=@$$(git log -1 --format=%ct) --owner=0 --group=0 \
		--numeric-owner -C $(OUT)/dist -cf - $(DIST) | gzip -n -9 > $(OUT)/$(DIST).tar.gz
	rm -rf $(OUT)/dist
	@echo "$(OUT)/$(DIST).tar.gz"

format:
	clang-format -i src/*.c src/*.h src/lib/*.c src/lib/*.h src/collect/*.c src/collect/*.h src/bpf/*.c src/bpf/*.h tests/unit/*.c

clean:
	rm -rf $(OUT) build-san build-fuzz memscope

-include $(wildcard $(OUT)/*.d $(OUT)/lib/*.d $(OUT)/collect/*.d $(OUT)/tests/*.d)
