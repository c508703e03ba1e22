# Warnings live in one INTERFACE target that every project target links privately.
add_library(eaglesense_warnings INTERFACE)
target_compile_options(eaglesense_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
# Not -Wnull-dereference: at -O3 GCC 12 reports it inside libstdc++'s inlined streambuf code.
# GCC 12's -Wrestrict misfires on inlined std::string copies (GCC bug 105329): fixed in GCC 13.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(eaglesense_warnings INTERFACE -Wno-restrict)
endif()
if(EAGLESENSE_WERROR)
  target_compile_options(eaglesense_warnings INTERFACE -Werror)
endif()

if(EAGLESENSE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
