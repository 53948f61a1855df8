# newlib.mk: the hypervisor's libc, a trimmed integer-only newlib built once per
# machine by kernel/libc/build-newlib.sh (included by the top-level Makefile).
#
# Defines NEWLIB_LIBC (libc.a) and NEWLIB_INC (its headers). The cache directory
# is named after newlib's version and a hash of the build script (which holds the
# flags and the file list) and of the compiler, so a changed recipe builds anew
# and an unchanged one is never rebuilt, not even after `make clean`.

# This file is included before the Makefile's first rule: keep its default goal.
newlib_saved_goal := $(.DEFAULT_GOAL)

NEWLIB_VERSION := 3.3.0
NEWLIB_TARBALL := /usr/src/newlib/newlib-$(NEWLIB_VERSION).tar.xz
NEWLIB_SCRIPT := $(patsubst ./%,%,$(dir $(lastword $(MAKEFILE_LIST)))build-newlib.sh)
NEWLIB_CACHE ?= $(HOME)/.cache/bulkhead
NEWLIB_HASH := $(shell { cat $(NEWLIB_SCRIPT) && $(CC) --version | head -n 1; } | \
	sha256sum | cut -c 1-12)
NEWLIB_DIR := $(NEWLIB_CACHE)/newlib-$(NEWLIB_VERSION)-$(NEWLIB_HASH)
NEWLIB_LIBC := $(NEWLIB_DIR)/lib/libc.a
NEWLIB_INC := $(NEWLIB_DIR)/include

$(NEWLIB_LIBC):
	@CC="$(CC)" $(NEWLIB_SCRIPT) $(NEWLIB_TARBALL) $(NEWLIB_VERSION) $(NEWLIB_DIR)

.PHONY: newlib
newlib: $(NEWLIB_LIBC)

.DEFAULT_GOAL := $(newlib_saved_goal)
