// The one translation unit that compiles stb_image's implementation, with the configuration of CStbImage.h.
#define STB_IMAGE_IMPLEMENTATION
#include "include/CStbImage.h"
