# nym-c build.
#
#   make demo             run the sandbox network (DESIGN.md) and show it working
#   make                  build everything into build/ (libnym.a, programs, tests)
#   make check            build and run every test (unit, fuzz regression, integration)
#   make SANITIZE=1 check the same under AddressSanitizer + UndefinedBehaviorSanitizer (build/san/)
#   make fuzz             run every fuzz target for FUZZ_SECONDS (default 60) with libFuzzer
#   make deb              the Debian packages (nym-node, nym-vpn, nym-awg-dkms) into build/deb/
#   make check-packages   lintian, unit checks, install/upgrade/purge in a throwaway root
#   make CC=clang O=build/clang   build with clang into its own tree
#   make V=1              show the compiler command lines
#   make kmod [KDIR=...]  build kmod/nym_awg.ko into build/kmod (default: the newest Debian kernel in /boot)
#   make SYSTEMD=0        without libsystemd (no systemd-resolved DNS backend: OpenWrt, musl)
#   make check-musl       compile every source with Debian's musl-gcc (build/musl/)
#   make check-musl-static  nym-vpnd, nym-vpnc static with musl, deps from Debian's sources; run them
#   DEPS=0 make ...       do not run scripts/deps.sh (cross builds: OpenWrt's SDK)
#
# Sources are discovered, not listed: lib/<area>/*.c make up libnym.a, each program folder's
# *.c and <folder>/<role>/*.c make up one binary, tests/unit/test_*.c are Criterion suites, tests/fuzz/fuzz_*.c are
# libFuzzer targets. Adding a module never means editing this file.

# The program rules below are generated with $(eval); without this the first of them, not
# `all`, would be what a bare `make` builds.
.DEFAULT_GOAL := all

ifeq ($(origin CC),default)
CC := gcc
endif
SANITIZE ?= 0
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang

ifeq ($(SANITIZE),1)
O ?= build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
O ?= build
SAN_FLAGS :=
endif

# Install the Debian packages first unless only cleaning (DESIGN.md: every target that needs
# them calls scripts/deps.sh). Quiet and fast when everything is present.
DEPS ?= 1
ifeq ($(DEPS)$(filter clean help,$(MAKECMDGOALS)),1)
ifneq ($(shell scripts/deps.sh >&2 && echo ok),ok)
$(error scripts/deps.sh failed: the build dependencies are not installed)
endif
endif

SYSTEMD ?= 1
PKGS := libsodium libcrypto liburing libmnl libnftnl yaml-0.1 jansson sqlite3 libmicrohttpd libcurl
ifeq ($(SYSTEMD),1)
PKGS += libsystemd
else
CPPFLAGS += -DNYM_NO_SYSTEMD
endif
PKG_CONFIG ?= pkg-config
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS)) -lpthread -lm
CRITERION_LIBS := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
# A tree outside git (the package build's copy) carries its commit in the file COMMIT.
COMMIT := $(shell cat COMMIT 2>/dev/null || git rev-parse --short HEAD 2>/dev/null || echo unknown)

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wformat=2 \
        -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -Ilib -Ikmod/uapi -MMD -MP -DNYM_VERSION='"$(VERSION)"' -DNYM_COMMIT='"$(COMMIT)"'
# The Debian package builds with NODE_DEFAULT_USER=nym: `nym-node init` then writes `user: nym`.
ifneq ($(NODE_DEFAULT_USER),)
CPPFLAGS += -DNYM_NODE_DEFAULT_USER='"$(NODE_DEFAULT_USER)"'
endif
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu17 $(WARN) -fstack-protector-strong -fno-strict-aliasing $(SAN_FLAGS) $(PKG_CFLAGS)
LDFLAGS += $(SAN_FLAGS)

LIB_SRC := $(sort $(wildcard lib/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(O)/obj/%.o)
LIBNYM := $(O)/lib/libnym.a

# program name : source folder
PROGRAM_DIRS := nym-node:nodectl nym-vpnd:vpnd nym-vpnc:vpnc nym-ntm:ntm
PROGRAMS :=
define program_rule
$(1)_SRC := $$(sort $$(wildcard $(2)/*.c $(2)/*/*.c))
ifneq ($$($(1)_SRC),)
$(1)_OBJ := $$($(1)_SRC:%.c=$(O)/obj/%.o)
# Role folders include each other by their path from the top: "nodectl/node/node_config.h".
$$($(1)_OBJ): CPPFLAGS += -I.
PROGRAMS += $(O)/bin/$(1)
$(O)/bin/$(1): $$($(1)_OBJ) $(LIBNYM)
	@mkdir -p $$(@D)
	$$(say) LD $$@
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$($(1)_OBJ) $(LIBNYM) $$(PKG_LIBS)
endif
endef
$(foreach p,$(PROGRAM_DIRS),$(eval $(call program_rule,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/unit/%)
TEST_SUPPORT_SRC := $(sort $(wildcard tests/support/*.c))
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(O)/obj/%.o)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%.c=%)
# Fuzz targets also build with the ordinary compiler against a replay driver, so `make check`
# compiles every harness and re-runs its seed corpus.
FUZZ_REPLAY_BIN := $(FUZZ_NAMES:%=$(O)/tests/fuzz/%)

ifeq ($(V),1)
Q :=
say := @true
else
Q := @
say := @printf '  %-7s %s\n'
endif

.PHONY: all check fuzz clean help demo check-musl deb check-packages
.SECONDARY:
all: $(LIBNYM) $(PROGRAMS) $(UNIT_BIN) $(FUZZ_REPLAY_BIN)

help:
	@sed -n '1,16p' Makefile

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(say) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The build time the node API reports: SOURCE_DATE_EPOCH when set (package builds are
# reproducible), else now.
BUILD_TIMESTAMP := $(shell date -u -d "@$${SOURCE_DATE_EPOCH:-$$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
$(O)/obj/nodectl/node/node_http.o: CPPFLAGS += -DNYM_BUILD_TIMESTAMP='"$(BUILD_TIMESTAMP)"'

# Library code must declare what it exports.
$(LIB_OBJ): CFLAGS += -Wmissing-prototypes
# The eight-lane X25519 ladder is unrolled by the compiler or it runs at a fifth of the speed.
$(O)/obj/lib/crypto/x25519_batch.o: CFLAGS += -O3 -funroll-loops

$(LIBNYM): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(say) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/tests/unit/%: $(O)/obj/tests/unit/%.o $(TEST_SUPPORT_OBJ) $(LIBNYM)
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(LIBNYM) $(PKG_LIBS) $(CRITERION_LIBS)

# Every fuzz target shares its set-up (LLVMFuzzerInitialize) through tests/fuzz/harness.c.
FUZZ_REPLAY_OBJ := $(O)/obj/tests/fuzz/replay_main.o $(O)/obj/tests/fuzz/harness.o
$(O)/tests/fuzz/%: $(O)/obj/tests/fuzz/%.o $(FUZZ_REPLAY_OBJ) $(LIBNYM)
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(FUZZ_REPLAY_OBJ) $(LIBNYM) $(PKG_LIBS)

check: all
	NYM_BUILD=$(O) tests/run.sh

demo: all
	NYM_BUILD=$(O) scripts/demo.sh

# Debian packages of the tree as it is (packaging/debian/) into build/deb/.
deb:
	scripts/deb.sh

# lintian, unit verification, install/upgrade/remove/purge in a throwaway root.
check-packages: deb
	tests/packages/check.sh

# libFuzzer: its own tree, built with clang, sanitizers on.
FO := build/fuzz
FUZZ_FLAGS := -std=gnu17 -O1 -g -D_GNU_SOURCE -Ilib -Ikmod/uapi -DNYM_VERSION='"$(VERSION)"' -DNYM_COMMIT='"$(COMMIT)"' $(PKG_CFLAGS) -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FO)/obj/%.o)

$(FO)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(say) FUZZCC $<
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FO)/bin/%: $(FO)/obj/tests/fuzz/%.o $(FO)/obj/tests/fuzz/harness.o $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(say) FUZZLD $@
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

fuzz: $(FUZZ_NAMES:%=$(FO)/bin/%)
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FO) $(FUZZ_NAMES)

# musl (OpenWrt's C library): every source of the library and the programs compiled with
# Debian's musl-gcc against musl's headers, the dependencies' and the kernel's made visible
# in build/musl/include (scripts/musl_headers.sh); no libsystemd. Then every symbol they use
# must resolve in musl's libc.a, libgcc or a dependency (scripts/musl_symbols.sh). Binaries
# linked against musl: check-musl-static below.
MUSL_CC ?= musl-gcc
MO := build/musl
MUSL_SRC := $(LIB_SRC) $(foreach p,$(PROGRAM_DIRS),$(sort $(wildcard $(word 2,$(subst :, ,$(p)))/*.c $(word 2,$(subst :, ,$(p)))/*/*.c)))
MUSL_OBJ := $(MUSL_SRC:%.c=$(MO)/obj/%.o)
MUSL_FLAGS := -std=gnu17 -O2 $(WARN) -D_GNU_SOURCE -DNYM_NO_SYSTEMD -Ilib -Ikmod/uapi -I. -isystem $(MO)/include \
              -DNYM_VERSION='"$(VERSION)"' -DNYM_COMMIT='"$(COMMIT)"'

$(MO)/include/.stamp: scripts/musl_headers.sh
	$(say) HEADERS $(MO)/include
	$(Q)scripts/musl_headers.sh $(MO)/include && touch $@

$(MO)/obj/%.o: %.c $(MO)/include/.stamp
	@mkdir -p $(@D)
	$(say) MUSLCC $<
	$(Q)$(MUSL_CC) $(MUSL_FLAGS) -MMD -MP -c -o $@ $<

check-musl: $(MUSL_OBJ)
	$(Q)scripts/musl_symbols.sh $(MUSL_OBJ)
	@echo "check-musl: $(words $(MUSL_OBJ)) sources compile with $(MUSL_CC) ($$($(MUSL_CC) -dumpversion 2>/dev/null), musl $$(dpkg-query -W -f='$${Version}' musl-dev 2>/dev/null))"

# Static musl binaries (issue 16): nym-vpnd and nym-vpnc linked with -static against musl and
# their dependencies built with musl-gcc from Debian's source packages
# (scripts/musl_static_deps.sh into $(MSO)/prefix), then run (scripts/musl_static.sh).
# Debian's sqlite3.h and microhttpd.h (and libmnl's and libnftnl's when the archive did not
# serve their sources) are seen, after the prefix, in $(MSO)/hdr only so that every module of
# the library compiles; a program linked pulls none of the objects that need them.
MSO := build/musl-static
MS_SRC := $(LIB_SRC) $(nym-vpnd_SRC) $(nym-vpnc_SRC)
MS_OBJ := $(MS_SRC:%.c=$(MSO)/obj/%.o)
MS_FLAGS := -std=gnu17 -O2 $(WARN) -D_GNU_SOURCE -DNYM_NO_SYSTEMD -Ilib -Ikmod/uapi -I. \
            -isystem $(MSO)/prefix/include -isystem $(MSO)/kinc -isystem $(MSO)/hdr \
            -ffunction-sections -fdata-sections -DNYM_VERSION='"$(VERSION)"' -DNYM_COMMIT='"$(COMMIT)"'
MS_LIBS_vpnc := -lsodium -ljansson
MS_LIBS_vpnd := -lcurl -lssl -lcrypto -lnftnl -lmnl -luring -lyaml -ljansson -lsodium -lpthread -lm
.PHONY: check-musl-static
check-musl-static:
	scripts/musl_static.sh $(MSO)

$(MSO)/obj/%.o: %.c $(MSO)/prefix.stamp
	@mkdir -p $(@D)
	$(say) MUSLCC $<
	$(Q)$(MUSL_CC) $(MS_FLAGS) -MMD -MP -c -o $@ $<

$(MSO)/lib/libnym.a: $(LIB_SRC:%.c=$(MSO)/obj/%.o)
	@mkdir -p $(@D)
	$(say) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(MSO)/bin/nym-vpnc: $(nym-vpnc_SRC:%.c=$(MSO)/obj/%.o) $(MSO)/lib/libnym.a
	@mkdir -p $(@D)
	$(say) MUSLLD $@
	$(Q)$(MUSL_CC) -static -Wl,--gc-sections -o $@ $^ -L$(MSO)/prefix/lib $(MS_LIBS_vpnc)

$(MSO)/bin/nym-vpnd: $(nym-vpnd_SRC:%.c=$(MSO)/obj/%.o) $(MSO)/lib/libnym.a
	@mkdir -p $(@D)
	$(say) MUSLLD $@
	$(Q)$(MUSL_CC) -static -Wl,--gc-sections -o $@ $^ -L$(MSO)/prefix/lib $(MS_LIBS_vpnd)

clean:
	rm -rf build

-include $(shell find $(O)/obj $(FO)/obj $(MO)/obj $(MSO)/obj -name '*.d' 2>/dev/null)

# nym_awg.ko (kmod/) for the VM's Debian kernel or KDIR. Kbuild writes next to its sources,
# so it builds in $(O)/kmod over symbolic links to them and the tree under git stays clean.
# Our O= (the build tree) means Kbuild's output tree too, so the sub-make gets an empty one.
KVER_DEFAULT := $(shell ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's,.*/vmlinuz-,,' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER_DEFAULT)/build
KMOD_SRC := $(wildcard kmod/*.c kmod/uapi/*.h) kmod/Kbuild
.PHONY: kmod
kmod: $(O)/kmod/nym_awg.ko
$(O)/kmod/nym_awg.ko: $(KMOD_SRC)
	@[ -d "$(KDIR)" ] || { echo "make kmod: no kernel build tree at $(KDIR) (scripts/deps.sh installs linux-headers-amd64; or KDIR=...)" >&2; exit 1; }
	@mkdir -p $(O)/kmod
	$(Q)for f in $(KMOD_SRC:kmod/%=%); do mkdir -p $(O)/kmod/$$(dirname $$f); ln -sf $(abspath kmod)/$$f $(O)/kmod/$$f; done
	$(say) KBUILD $@
	$(Q)$(MAKE) -C $(KDIR) O= M=$(abspath $(O)/kmod) W=1 $(if $(C),C=$(C)) modules $(if $(filter 1,$(V)),,>/dev/null)
