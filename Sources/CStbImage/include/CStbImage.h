// CStbImage: Sean Barrett's stb_image (v2.30, public domain / MIT, see stb_image.h), vendored unchanged from
// github.com/nothings/stb at commit 31c1ad37456438565541f4919958214b6e762fb4, configured for Canopy:
// PNG and JPEG only, decoding from memory only (Canopy reads files itself, through InputFile, with size limits),
// no HDR or linear-float paths, and images wider or taller than STBI_MAX_DIMENSIONS refused by the decoder itself.
#ifndef CSTBIMAGE_H
#define CSTBIMAGE_H

#define STBI_NO_STDIO
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 14)

#include "../stb_image.h"

#endif
