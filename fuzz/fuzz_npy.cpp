// libFuzzer target: see FuzzTargets.h for what it does with each input.
#include "FuzzFile.h"

QUANTSCOPE_FUZZ_TARGET(kNpy)
