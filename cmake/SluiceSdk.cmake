# The plugin SDK: header-only over the C ABI, installed (component "sdk") with a CMake package
# (find_package(sluice) gives the imported target sluice::sdk and sluice_add_plugin()) and a
# pkg-config file (sluice.pc), so that a plugin builds with nothing of this source tree.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SLUICE_SDK_INCLUDE ${PROJECT_SOURCE_DIR}/agent/include)
set(SLUICE_SDK_HEADERS
    ${SLUICE_SDK_INCLUDE}/sluice/plugin_abi.h
    ${SLUICE_SDK_INCLUDE}/sluice/abi_metric.hpp
    ${SLUICE_SDK_INCLUDE}/sluice/sdk.hpp
    ${SLUICE_SDK_INCLUDE}/sluice/metric.hpp
    ${SLUICE_SDK_INCLUDE}/sluice/metric_block.hpp
    ${SLUICE_SDK_INCLUDE}/sluice/options.hpp
    ${SLUICE_SDK_INCLUDE}/sluice/plugin.hpp)

# The ABI version, as the header says, for the package's variables and the .pc file.
file(STRINGS ${SLUICE_SDK_INCLUDE}/sluice/plugin_abi.h SLUICE_ABI_LINES
     REGEX "^#define SLUICE_ABI_(MAJOR|MINOR) [0-9]+")
foreach(line IN LISTS SLUICE_ABI_LINES)
  if(line MATCHES "^#define SLUICE_ABI_(MAJOR|MINOR) ([0-9]+)")
    set(SLUICE_ABI_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
  endif()
endforeach()

# Plugins go where the agent looks by default (agent.plugin_dirs), under the prefix.
set(SLUICE_PLUGIN_INSTALL_DIR lib/sluice/plugins)
set(SLUICE_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_DATADIR}/cmake/sluice)

add_library(sluice_sdk INTERFACE)
add_library(sluice::sdk ALIAS sluice_sdk)
set_target_properties(sluice_sdk PROPERTIES EXPORT_NAME sdk)
target_include_directories(sluice_sdk INTERFACE $<BUILD_INTERFACE:${SLUICE_SDK_INCLUDE}>
                                                $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(sluice_sdk INTERFACE cxx_std_20)

# sluice_add_plugin() for projects inside this tree (the examples, tests and benchmarks).
include(${CMAKE_CURRENT_LIST_DIR}/sluicePlugin.cmake)

install(FILES ${SLUICE_SDK_HEADERS} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sluice COMPONENT sdk)
install(TARGETS sluice_sdk EXPORT sluiceTargets COMPONENT sdk)
install(EXPORT sluiceTargets NAMESPACE sluice:: DESTINATION ${SLUICE_CMAKE_INSTALL_DIR}
        COMPONENT sdk)
configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/sluiceConfig.cmake.in ${PROJECT_BINARY_DIR}/sdk/sluiceConfig.cmake
  INSTALL_DESTINATION ${SLUICE_CMAKE_INSTALL_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR SLUICE_PLUGIN_INSTALL_DIR)
# The package's version is the agent's; what a plugin depends on is the ABI major version,
# which the package reports and the agent checks at load time.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sdk/sluiceConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY AnyNewerVersion
                                 ARCH_INDEPENDENT)
configure_file(${CMAKE_CURRENT_LIST_DIR}/sluice.pc.in ${PROJECT_BINARY_DIR}/sdk/sluice.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/sdk/sluiceConfig.cmake
              ${PROJECT_BINARY_DIR}/sdk/sluiceConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/sluicePlugin.cmake
        DESTINATION ${SLUICE_CMAKE_INSTALL_DIR} COMPONENT sdk)
install(FILES ${PROJECT_BINARY_DIR}/sdk/sluice.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig
        COMPONENT sdk)
