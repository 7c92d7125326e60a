/*
 * The one list of kernels. Adding a kernel is one file in kernels/ that
 * defines `const parkit_kernel parkit_kernel_NAME` plus one X(NAME) here.
 * Listed in the order `parkit list` shows them.
 */
#ifndef PARKIT_REGISTRY_H
#define PARKIT_REGISTRY_H

#define PARKIT_KERNEL_LIST(X)                                                  \
  X(matmul)                                                                    \
  X(montecarlo)                                                                \
  X(stencil)                                                                   \
  X(stream)                                                                    \
  X(transpose)                                                                 \
  X(io)                                                                        \
  X(wait)                                                                      \
  X(spawn)                                                                     \
  X(sync)                                                                      \
  X(pingpong)                                                                  \
  X(footprint)                                                                 \
  X(context_switch)                                                            \
  X(isolation)                                                                 \
  X(sharing)

#endif
