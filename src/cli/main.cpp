// Placeholder entry point until the CLI lands (issue: `eaglesense run`).
#include <cstdio>

int main() {
  std::fputs("eaglesense: not yet: the export command lands with the export issue\n", stderr);
  return 1;
}
