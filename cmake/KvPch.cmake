# Precompiled headers. Most sources include gRPC and Abseil, and every test GoogleTest and
# gMock: parsing those headers took 4-6 s per source, about a third of a clean build. Two
# precompiled headers hold them: kv_pch (gRPC, Abseil) for the libraries and programs that
# use gRPC, kv_test_pch (the same plus GoogleTest and gMock) for every test. Targets reuse
# one of them (kv_use_pch, kv_add_test). GCC falls back to the headers themselves if it
# cannot use a PCH (-Winvalid-pch says so), so this changes build time only.
option(KV_PRECOMPILED_HEADERS "Precompile the gRPC, Abseil and GoogleTest headers" ON)

set(KV_PCH_HEADERS
  <grpcpp/grpcpp.h>
  <absl/status/status.h> <absl/status/statusor.h> <absl/strings/str_cat.h>
  <absl/strings/str_format.h> <absl/synchronization/mutex.h> <absl/time/time.h>
  <map> <memory> <optional> <string> <thread> <vector>)

if(KV_PRECOMPILED_HEADERS)
  add_library(kv_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/pch_anchor.cc)
  target_link_libraries(kv_pch PUBLIC gRPC::grpc++ absl::status absl::statusor absl::strings
    absl::str_format absl::synchronization absl::time)
  target_precompile_headers(kv_pch PRIVATE ${KV_PCH_HEADERS})

  add_library(kv_test_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/pch_anchor.cc)
  target_link_libraries(kv_test_pch PUBLIC kv_pch GTest::gmock GTest::gtest)
  target_precompile_headers(kv_test_pch PRIVATE <gmock/gmock.h> <gtest/gtest.h> ${KV_PCH_HEADERS})
endif()

# kv_use_pch(<target>): compile <target> with kv_pch (for targets that use gRPC).
function(kv_use_pch target)
  if(KV_PRECOMPILED_HEADERS)
    target_precompile_headers(${target} REUSE_FROM kv_pch)
  endif()
endfunction()
