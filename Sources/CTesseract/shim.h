#ifndef C_TESSERACT_SHIM_H
#define C_TESSERACT_SHIM_H

#include <tesseract/capi.h>

#endif
