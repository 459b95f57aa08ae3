#ifndef C_VECTORSCAN_SHIM_H
#define C_VECTORSCAN_SHIM_H

#include <hs.h>

#endif
