# setup/install.mk — included by the Makefile.
#   make install [PREFIX=/usr/local] [DESTDIR=]   pff, libpff.a, libpff.so.*, pff.h, pff.pc, pff.1
#   make uninstall [PREFIX=...]                   removes exactly those files
#   make shared                                   build/release/libpff.so.VERSION only
#
# The shared library follows Debian's layout for C libraries: the real file
# libpff.so.MAJOR.MINOR.PATCH (from -fPIC objects in build/VARIANT/pic/), its
# soname libpff.so.0 as a symlink (what programs load at run time), and the
# development symlink libpff.so (what -lpff finds at link time). The soname's
# 0 changes when pff.h changes incompatibly.
#   make data-fashion                             Fashion-MNIST into data/fashion-mnist/
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
PFF_PKG_VERSION := $(shell sed -n 's/^\#define PFF_VERSION "\(.*\)"/\1/p' pff.h)
PFF_DEST = $(DESTDIR)$(PREFIX)
PFF_SONAME = libpff.so.0
PFF_SOFILE = libpff.so.$(PFF_PKG_VERSION)
PIC_OBJ = $(LIB_SRC:%.c=$(BUILD)/pic/%.o)

$(BUILD)/pic/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -c $< -o $@

$(BUILD)/$(PFF_SOFILE): $(PIC_OBJ)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(PFF_SONAME) -Wl,--no-undefined -o $@ $^ $(LIBS)

.PHONY: install uninstall data-fashion shared
shared: $(BUILD)/$(PFF_SOFILE)

install: all $(BUILD)/$(PFF_SOFILE)
	$(INSTALL) -d $(PFF_DEST)/bin $(PFF_DEST)/lib/pkgconfig $(PFF_DEST)/include \
	  $(PFF_DEST)/share/man/man1
	$(INSTALL) -m 755 pff $(PFF_DEST)/bin/pff
	$(INSTALL) -m 644 libpff.a $(PFF_DEST)/lib/libpff.a
	$(INSTALL) -m 644 $(BUILD)/$(PFF_SOFILE) $(PFF_DEST)/lib/$(PFF_SOFILE)
	ln -sf $(PFF_SOFILE) $(PFF_DEST)/lib/$(PFF_SONAME)
	ln -sf $(PFF_SONAME) $(PFF_DEST)/lib/libpff.so
	$(INSTALL) -m 644 pff.h $(PFF_DEST)/include/pff.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(PFF_PKG_VERSION)|g' setup/pff.pc.in \
	  >$(PFF_DEST)/lib/pkgconfig/pff.pc.tmp
	mv $(PFF_DEST)/lib/pkgconfig/pff.pc.tmp $(PFF_DEST)/lib/pkgconfig/pff.pc
	$(INSTALL) -m 644 setup/pff.1 $(PFF_DEST)/share/man/man1/pff.1
	@echo "installed pff $(PFF_PKG_VERSION) into $(PFF_DEST)"

uninstall:
	rm -f $(PFF_DEST)/bin/pff $(PFF_DEST)/lib/libpff.a $(PFF_DEST)/include/pff.h \
	  $(PFF_DEST)/lib/$(PFF_SOFILE) $(PFF_DEST)/lib/$(PFF_SONAME) $(PFF_DEST)/lib/libpff.so \
	  $(PFF_DEST)/lib/pkgconfig/pff.pc $(PFF_DEST)/share/man/man1/pff.1

data-fashion:
	@./setup/fetch-fashion.sh
