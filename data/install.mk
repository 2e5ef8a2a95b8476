# data/install.mk — included by the Makefile.
#   make install [PREFIX=/usr/local] [DESTDIR=]   pff, libpff.a, pff.h, pff.pc, pff.1
#   make uninstall [PREFIX=...]                   removes exactly those files
#   make data-fashion                             Fashion-MNIST into data/fashion-mnist/
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
PFF_PKG_VERSION := $(shell sed -n 's/^\#define PFF_VERSION "\(.*\)"/\1/p' pff.h)
PFF_DEST = $(DESTDIR)$(PREFIX)

.PHONY: install uninstall data-fashion
install: all
	$(INSTALL) -d $(PFF_DEST)/bin $(PFF_DEST)/lib/pkgconfig $(PFF_DEST)/include \
	  $(PFF_DEST)/share/man/man1
	$(INSTALL) -m 755 pff $(PFF_DEST)/bin/pff
	$(INSTALL) -m 644 libpff.a $(PFF_DEST)/lib/libpff.a
	$(INSTALL) -m 644 pff.h $(PFF_DEST)/include/pff.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(PFF_PKG_VERSION)|g' data/pff.pc.in \
	  >$(PFF_DEST)/lib/pkgconfig/pff.pc.tmp
	mv $(PFF_DEST)/lib/pkgconfig/pff.pc.tmp $(PFF_DEST)/lib/pkgconfig/pff.pc
	$(INSTALL) -m 644 data/pff.1 $(PFF_DEST)/share/man/man1/pff.1
	@echo "installed pff $(PFF_PKG_VERSION) into $(PFF_DEST)"

uninstall:
	rm -f $(PFF_DEST)/bin/pff $(PFF_DEST)/lib/libpff.a $(PFF_DEST)/include/pff.h \
	  $(PFF_DEST)/lib/pkgconfig/pff.pc $(PFF_DEST)/share/man/man1/pff.1

data-fashion:
	@./data/fetch-fashion.sh
