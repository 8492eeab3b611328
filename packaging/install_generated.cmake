# Part of `cmake --install` (see CMakeLists.txt beside this file): has the binary being
# installed write its completions and, through help2man, its man page, then installs them.
# Set by the caller: SAFEINSTALL_BINARY, SAFEINSTALL_HELP2MAN (may be empty),
# SAFEINSTALL_MAN_INCLUDE, SAFEINSTALL_GENERATED_DIR, SAFEINSTALL_GZIP.
# A directory of this run's own: `cmake --install` and cpack may run at the same time.
string(RANDOM LENGTH 12 run)
set(SAFEINSTALL_GENERATED_DIR ${SAFEINSTALL_GENERATED_DIR}/${run})
file(MAKE_DIRECTORY ${SAFEINSTALL_GENERATED_DIR})

function(generate_completion shell output)
  execute_process(COMMAND ${SAFEINSTALL_BINARY} completions ${shell}
                  OUTPUT_FILE ${SAFEINSTALL_GENERATED_DIR}/${output}
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "`safeinstall completions ${shell}` failed: ${status}")
  endif()
endfunction()

generate_completion(bash safeinstall)
generate_completion(zsh _safeinstall)
generate_completion(fish safeinstall.fish)
file(INSTALL DESTINATION ${CMAKE_INSTALL_PREFIX}/share/bash-completion/completions TYPE FILE
     FILES ${SAFEINSTALL_GENERATED_DIR}/safeinstall)
# Debian's zsh reads packaged completions from vendor-completions; site-functions is the
# place for everything else (/usr/local and other prefixes).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(zsh_dir share/zsh/vendor-completions)
else()
  set(zsh_dir share/zsh/site-functions)
endif()
file(INSTALL DESTINATION ${CMAKE_INSTALL_PREFIX}/${zsh_dir} TYPE FILE
     FILES ${SAFEINSTALL_GENERATED_DIR}/_safeinstall)
file(INSTALL DESTINATION ${CMAKE_INSTALL_PREFIX}/share/fish/vendor_completions.d TYPE FILE
     FILES ${SAFEINSTALL_GENERATED_DIR}/safeinstall.fish)

if(SAFEINSTALL_HELP2MAN)
  execute_process(
    COMMAND ${SAFEINSTALL_HELP2MAN} --no-info --section=1
            "--name=run package managers as hostile code: sandboxed, staged, judged"
            --include=${SAFEINSTALL_MAN_INCLUDE}
            --output=${SAFEINSTALL_GENERATED_DIR}/safeinstall.1 ${SAFEINSTALL_BINARY}
    RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "help2man failed: ${status}")
  endif()
  # Compressed, as Debian policy (12.1) asks and man reads everywhere: gzip -9n, so that the
  # same page makes the same bytes (no name, no time stamp).
  execute_process(COMMAND ${SAFEINSTALL_GZIP} -9n ${SAFEINSTALL_GENERATED_DIR}/safeinstall.1
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "gzip of the man page failed: ${status}")
  endif()
  file(INSTALL DESTINATION ${CMAKE_INSTALL_PREFIX}/share/man/man1 TYPE FILE
       FILES ${SAFEINSTALL_GENERATED_DIR}/safeinstall.1.gz)
endif()

file(REMOVE_RECURSE ${SAFEINSTALL_GENERATED_DIR})
