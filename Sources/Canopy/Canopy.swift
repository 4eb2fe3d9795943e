@_exported import CanopyCore
@_exported import CanopyCPU
@_exported import CanopyOpenCL
@_exported import CanopyModel
@_exported import CanopyTrain
