// The one source of kv_pch and kv_test_pch: those targets exist to build precompiled
// headers (cmake/KvPch.cmake).
