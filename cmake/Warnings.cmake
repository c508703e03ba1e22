# Warnings live in one INTERFACE target that every project target links privately.
add_library(eaglesense_warnings INTERFACE)
target_compile_options(eaglesense_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
if(EAGLESENSE_WERROR)
  target_compile_options(eaglesense_warnings INTERFACE -Werror)
endif()

if(EAGLESENSE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
