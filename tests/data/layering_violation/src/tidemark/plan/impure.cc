// The planner reaching into a backend: refused, plan/ is pure.
#include "tidemark/backend/backend.h"
