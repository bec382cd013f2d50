# Checks the README's two commands against the repository: .ci/run finds the test command, and
# every workflow preset the README names exists in CMakePresets.json.
# Run as: cmake -DSOURCE_DIR=... -P readme_commands.cmake
execute_process(COMMAND "${SOURCE_DIR}/.ci/run" --print OUTPUT_VARIABLE test_command
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR ".ci/run --print failed: it cannot find the README's test command")
endif()
if(NOT test_command MATCHES "^scripts/setup.sh test && ")
  message(FATAL_ERROR "the README's test command must start by installing the test packages "
                      "(scripts/setup.sh test && ...), not: ${test_command}")
endif()

file(READ "${SOURCE_DIR}/README.md" readme)
string(REGEX MATCH "\n(scripts/setup.sh && cmake --workflow --preset demo)\n" _ "${readme}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "README.md lacks the main-job command "
                      "'scripts/setup.sh && cmake --workflow --preset demo'")
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" --list-presets=workflow
                WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE presets RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --list-presets=workflow failed in the source tree")
endif()
string(REGEX MATCHALL "--preset [A-Za-z0-9_-]+" used "${test_command} ${CMAKE_MATCH_1}")
foreach(use IN LISTS used)
  string(REPLACE "--preset " "" name "${use}")
  if(NOT presets MATCHES "\"${name}\"")
    message(FATAL_ERROR "the README runs workflow preset '${name}', which CMakePresets.json lacks")
  endif()
endforeach()
list(LENGTH used count)
message(STATUS "README commands use ${count} workflow presets, all defined")
