// A core header reaching up into exec: the layering check must refuse it.
#include "tidemark/exec/executor.h"
