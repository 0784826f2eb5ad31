# kv_add_test(NAME <name> LABEL <unit|integration|e2e> SOURCES <...> DEPS <...> [TIMEOUT <s>])
#
# One ctest entry per test binary: starting a process per TEST would pay gRPC and
# prometheus start-up costs hundreds of times.
function(kv_add_test)
  cmake_parse_arguments(T "" "NAME;LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main)
  if(KV_PRECOMPILED_HEADERS)
    target_precompile_headers(${T_NAME} REUSE_FROM kv_test_pch)
  endif()
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} --gtest_color=no)
  set_tests_properties(${T_NAME} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "KV_BIN_DIR=${CMAKE_BINARY_DIR}/bin;KV_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()
