# The installation layout, one per distribution family, for `cmake --install` and the
# packages alike: LB_PACKAGE_LAYOUT deb (Debian, Ubuntu), rpm (RHEL, Fedora, SUSE) or
# plain (lib/odbc), by default this system's. Sets, relative to the prefix:
#   LB_INSTALL_ODBCDIR  the driver and its setup library (the distribution's ODBC driver
#                       directory: lib/<multiarch>/odbc on Debian, lib64 on RHEL)
#   LB_INSTALL_BINDIR, LB_INSTALL_MANDIR, LB_INSTALL_DOCDIR, LB_INSTALL_LICENSEDIR
#   LB_INSTALL_LIB_PERMISSIONS  the libraries' mode
set(LB_PACKAGE_LAYOUT "" CACHE STRING "Installation layout: deb, rpm or plain (default: this system's)")
if(LB_PACKAGE_LAYOUT STREQUAL "")
  if(EXISTS /etc/debian_version)
    set(LB_PACKAGE_LAYOUT deb)
  elseif(EXISTS /etc/redhat-release OR EXISTS /etc/SUSE-brand)
    set(LB_PACKAGE_LAYOUT rpm)
  else()
    set(LB_PACKAGE_LAYOUT plain)
  endif()
endif()

set(LB_INSTALL_BINDIR bin)
set(LB_INSTALL_MANDIR share/man)
set(LB_INSTALL_DOCDIR share/doc/${PROJECT_NAME})
if(LB_PACKAGE_LAYOUT STREQUAL "deb")
  set(lb_multiarch "${CMAKE_LIBRARY_ARCHITECTURE}")
  if(lb_multiarch STREQUAL "")
    execute_process(COMMAND dpkg-architecture -qDEB_HOST_MULTIARCH OUTPUT_VARIABLE lb_multiarch
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
  endif()
  if(lb_multiarch STREQUAL "")
    message(FATAL_ERROR "LB_PACKAGE_LAYOUT=deb needs the multiarch triplet (dpkg-architecture)")
  endif()
  set(LB_INSTALL_ODBCDIR lib/${lb_multiarch}/odbc)
  set(LB_INSTALL_LICENSEDIR ${LB_INSTALL_DOCDIR}) # Debian: /usr/share/doc/<package>/copyright
elseif(LB_PACKAGE_LAYOUT STREQUAL "rpm")
  if(CMAKE_SIZEOF_VOID_P EQUAL 8)
    set(LB_INSTALL_ODBCDIR lib64)
  else()
    set(LB_INSTALL_ODBCDIR lib)
  endif()
  set(LB_INSTALL_LICENSEDIR share/licenses/${PROJECT_NAME})
elseif(LB_PACKAGE_LAYOUT STREQUAL "plain")
  set(LB_INSTALL_ODBCDIR lib/odbc)
  set(LB_INSTALL_LICENSEDIR ${LB_INSTALL_DOCDIR})
else()
  message(FATAL_ERROR "LB_PACKAGE_LAYOUT must be deb, rpm or plain")
endif()
# Shared libraries: 0644 on Debian (Policy 8.1), 0755 on RPM systems (rpmbuild reads the
# dependencies of executable files only).
set(LB_INSTALL_LIB_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
if(LB_PACKAGE_LAYOUT STREQUAL "rpm")
  list(APPEND LB_INSTALL_LIB_PERMISSIONS OWNER_EXECUTE GROUP_EXECUTE WORLD_EXECUTE)
endif()
message(STATUS "Install layout: ${LB_PACKAGE_LAYOUT} (driver in <prefix>/${LB_INSTALL_ODBCDIR})")
