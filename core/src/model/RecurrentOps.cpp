#include "model/Ops.h"
namespace quantscope::ops {
void addRecurrentOps(OpTable&) {}
}
