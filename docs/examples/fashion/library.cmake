# The training code of jute-train-fashion as a library, shared by the program
# (docs/examples/CMakeLists.txt) and the test suite (tests/examples/fashion_test.cpp), so the tests
# build it even when the examples are off.
if(NOT TARGET jute_fashion)
  add_library(jute_fashion STATIC ${CMAKE_CURRENT_LIST_DIR}/data.cpp
                                  ${CMAKE_CURRENT_LIST_DIR}/report.cpp
                                  ${CMAKE_CURRENT_LIST_DIR}/train.cpp)
  target_include_directories(jute_fashion PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
  target_link_libraries(jute_fashion PUBLIC jute::jute PRIVATE jute_options)
endif()
