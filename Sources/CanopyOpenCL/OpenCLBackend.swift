import CanopyCore
import COpenCL

let embeddedKernelFiles = EmbeddedKernels.sources
