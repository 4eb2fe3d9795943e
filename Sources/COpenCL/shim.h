// Canopy targets the OpenCL 1.2 API so that every OpenCL 1.2+ device and driver works.
#ifndef CANOPY_COPENCL_SHIM_H
#define CANOPY_COPENCL_SHIM_H
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#endif
