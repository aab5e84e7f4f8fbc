#pragma once

#include "quantscope/kernels/KernelTable.h"

// Each path's table, defined in that path's source file; a path whose file was compiled without
// its ISA (the compiler refused the flags) returns null and is never selected.
namespace quantscope::kernels {
const KernelTable* scalarKernelTable();
const KernelTable* avx2KernelTable();
const KernelTable* avx512KernelTable();
} // namespace quantscope::kernels
