#include "registry.h"

#include "cli.h"

#include <string.h>

#define DECLARE_KERNEL(name) extern const parkit_kernel parkit_kernel_##name;
PARKIT_KERNEL_LIST(DECLARE_KERNEL)
#undef DECLARE_KERNEL

#define KERNEL_ENTRY(name) &parkit_kernel_##name,
static const parkit_kernel *const all_kernels[] = {
    PARKIT_KERNEL_LIST(KERNEL_ENTRY)};
#undef KERNEL_ENTRY

int parkit_kernel_count(void) {
  return (int)(sizeof all_kernels / sizeof all_kernels[0]);
}

const parkit_kernel *parkit_kernel_at(int index) {
  return all_kernels[index];
}

const parkit_kernel *parkit_kernel_find(const char *name) {
  for (int i = 0; i < parkit_kernel_count(); ++i)
    if (strcmp(all_kernels[i]->name, name) == 0)
      return all_kernels[i];
  return NULL;
}
