# The Debian package (`cpack -G DEB` in a build tree configured with
# SIGNOFF_INSTALL): the server, the CLI, the library with its headers and
# CMake package, a systemd unit installed disabled, and the settings file
# the first install copies to /etc/signoff. Its paths assume /usr, where
# Debian packages live.
install(FILES packaging/signoffd.service
  DESTINATION lib/systemd/system)
install(FILES packaging/signoffd.toml README.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/signoff)

set(CPACK_PACKAGE_NAME signoff)
set(CPACK_PACKAGE_VENDOR "signoff")
set(CPACK_PACKAGE_CONTACT "signoff maintainers <signoff@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Human-in-the-loop durable workflows on CAF actors, with LMDB")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# The library's users build against these; the programs run on them.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "adduser, libcaf-dev (>= 0.17.6), libboost-json1.81-dev, libboost-url1.81-dev, liblmdb-dev, libssl-dev")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_CURRENT_SOURCE_DIR}/packaging/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
