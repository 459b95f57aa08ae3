#ifndef C_LEPTONICA_SHIM_H
#define C_LEPTONICA_SHIM_H

#include <leptonica/allheaders.h>

#endif
