# Writes build_info.cpp (the git commit the program is built from) into the build tree. Run at every
# build by the es_build_info target; configure_file rewrites the file only when the commit changed, so
# an unchanged tree rebuilds nothing. Outside a git checkout (a source tarball) the commit is "".
execute_process(
  COMMAND git -C "${SOURCE_DIR}" rev-parse HEAD
  OUTPUT_VARIABLE EAGLESENSE_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET
  RESULT_VARIABLE git_result)
if(NOT git_result EQUAL 0)
  set(EAGLESENSE_GIT_COMMIT "")
endif()
configure_file("${SOURCE_DIR}/cmake/build_info.cpp.in" "${OUTPUT}" @ONLY)
