# Finds CAF 0.17 (libcaf-dev ships no CMake package) and defines the imported
# targets CAF::core, and CAF::io and CAF::openssl (BASP, and BASP over TLS)
# when their libraries are there. The io and openssl libraries are looked
# for next to the core one first, so that a core of a custom prefix (the
# ThreadSanitizer build) never pairs with the system's io.
find_path(CAF_INCLUDE_DIR NAMES caf/all.hpp)
find_library(CAF_CORE_LIBRARY NAMES caf_core)
if(CAF_CORE_LIBRARY)
  get_filename_component(_caf_library_dir "${CAF_CORE_LIBRARY}" DIRECTORY)
  find_library(CAF_IO_LIBRARY NAMES caf_io HINTS "${_caf_library_dir}")
  find_library(CAF_OPENSSL_LIBRARY NAMES caf_openssl
    HINTS "${_caf_library_dir}")
  unset(_caf_library_dir)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF REQUIRED_VARS CAF_CORE_LIBRARY CAF_INCLUDE_DIR)
if(CAF_FOUND AND NOT TARGET CAF::core)
  add_library(CAF::core UNKNOWN IMPORTED)
  set_target_properties(CAF::core PROPERTIES
    IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
endif()
if(CAF_FOUND AND CAF_IO_LIBRARY AND NOT TARGET CAF::io)
  add_library(CAF::io UNKNOWN IMPORTED)
  set_target_properties(CAF::io PROPERTIES
    IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
    INTERFACE_LINK_LIBRARIES CAF::core)
endif()
if(CAF_FOUND AND CAF_IO_LIBRARY AND CAF_OPENSSL_LIBRARY
   AND NOT TARGET CAF::openssl)
  find_package(OpenSSL QUIET)
  if(OpenSSL_FOUND)
    add_library(CAF::openssl UNKNOWN IMPORTED)
    set_target_properties(CAF::openssl PROPERTIES
      IMPORTED_LOCATION "${CAF_OPENSSL_LIBRARY}"
      INTERFACE_LINK_LIBRARIES "CAF::io;OpenSSL::SSL;OpenSSL::Crypto")
  endif()
endif()
mark_as_advanced(CAF_INCLUDE_DIR CAF_CORE_LIBRARY CAF_IO_LIBRARY
  CAF_OPENSSL_LIBRARY)
