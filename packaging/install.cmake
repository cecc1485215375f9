# What `cmake --install` puts beside the binaries (the README, the changelog, an example
# odbc.ini, the copyright/licence file), and CPack's .deb and .rpm of the same files with
# the maintainer scripts that register the driver (scripts/package.sh drives it). The
# layout comes from packaging/layout.cmake; the version from project() alone.

# One version: packaging/changelog's newest entry must be project()'s.
file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/changelog lb_changelog_top LIMIT_COUNT 1)
if(NOT lb_changelog_top MATCHES "^${PROJECT_NAME} \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/changelog starts with \"${lb_changelog_top}\": its newest entry must be "
                      "${PROJECT_NAME} (${PROJECT_VERSION}), the version of project()")
endif()

# The licence. PLACEHOLDER until the project chooses one: the repository has no LICENSE, so
# packaging/copyright says so. Add LICENSE at the top and set LB_LICENSE_NAME (an SPDX id).
set(LB_LICENSE_NAME "LicenseRef-not-yet-chosen" CACHE STRING "The licence's SPDX identifier (RPM's License:)")
if(EXISTS ${PROJECT_SOURCE_DIR}/LICENSE)
  set(lb_license_file ${PROJECT_SOURCE_DIR}/LICENSE)
else()
  set(lb_license_file ${CMAKE_CURRENT_LIST_DIR}/copyright)
endif()
if(LB_PACKAGE_LAYOUT STREQUAL "rpm")
  install(FILES ${lb_license_file} DESTINATION ${LB_INSTALL_LICENSEDIR} RENAME LICENSE)
else()
  install(FILES ${lb_license_file} DESTINATION ${LB_INSTALL_LICENSEDIR} RENAME copyright)
endif()

# The changelog, compressed as Debian wants it (changelog.gz: the package is native).
set(lb_changelog_gz ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
add_custom_command(OUTPUT ${lb_changelog_gz}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
  COMMAND gzip -9 -n -c ${CMAKE_CURRENT_LIST_DIR}/changelog > ${lb_changelog_gz}
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/changelog VERBATIM)
add_custom_target(lakebase-odbc-changelog ALL DEPENDS ${lb_changelog_gz})
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${lb_changelog_gz} DESTINATION ${LB_INSTALL_DOCDIR})
install(FILES ${CMAKE_CURRENT_LIST_DIR}/odbc.ini.example DESTINATION ${LB_INSTALL_DOCDIR}/examples RENAME odbc.ini)

# ---- CPack: scripts/package.sh runs `cpack -G DEB` on a deb layout, `cpack -G RPM` on rpm.
set(CPACK_PACKAGE_NAME ${PROJECT_NAME})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "lakebase-odbc")
set(CPACK_PACKAGE_CONTACT "lakebase-odbc maintainers <lakebase-odbc@example.com>" CACHE STRING
    "PLACEHOLDER: the packages' Maintainer/Packager until the project names one")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ODBC driver for Databricks Lakebase (OAuth credentials, via psqlODBC)")
set(CPACK_PACKAGE_DESCRIPTION
  "An ODBC driver for Databricks Lakebase, the managed PostgreSQL service. It
connects with a fresh OAuth database credential for every connection (service
principal client credentials) and forwards every other ODBC call to psqlODBC.
The package registers the driver as Lakebase in odbcinst.ini and installs the
lakebase-odbc tool, which lists and checks DSNs.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(LB_PACKAGE_DIR ${CMAKE_BINARY_DIR}/packages CACHE PATH "Where cpack writes the packages")
set(CPACK_OUTPUT_FILE_PREFIX ${LB_PACKAGE_DIR})

# The maintainer scripts, with this layout's paths (the same registration in both families).
set(LB_PKG_TOOL lakebase-odbc) # on the scripts' PATH (/usr/bin)
set(LB_PKG_ODBCDIR ${CPACK_PACKAGING_INSTALL_PREFIX}/${LB_INSTALL_ODBCDIR})
foreach(script deb/postinst deb/prerm rpm/post rpm/preun)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${script}.in ${CMAKE_BINARY_DIR}/packaging/${script}
                 @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                 WORLD_READ WORLD_EXECUTE)
endforeach()

# .deb: shared-library dependencies from dpkg-shlibdeps (libc6, libcurl4, libjson-c5,
# libssl3, libodbc2, libodbcinst2), plus psqlODBC and the odbcinst tool.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "odbc-postgresql, odbcinst")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "unixodbc")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_BINARY_DIR}/packaging/deb/postinst ${CMAKE_BINARY_DIR}/packaging/deb/prerm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# .rpm: RHEL's package names; rpmbuild adds the shared-library requirements itself.
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_PACKAGE_LICENSE ${LB_LICENSE_NAME})
set(CPACK_RPM_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
set(CPACK_RPM_PACKAGE_GROUP "Applications/Databases")
set(CPACK_RPM_PACKAGE_REQUIRES "unixODBC, postgresql-odbc, libcurl, json-c, openssl-libs")
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${CMAKE_BINARY_DIR}/packaging/rpm/post)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${CMAKE_BINARY_DIR}/packaging/rpm/preun)
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
  /usr/share/man /usr/share/man/man1 /usr/share/licenses /usr/lib64 /usr/lib/${lb_multiarch})

include(CPack)
