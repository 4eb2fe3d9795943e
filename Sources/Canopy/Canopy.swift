@_exported import CanopyCore
@_exported import CanopyCPU
@_exported import CanopyModel
@_exported import CanopyOpenCL
@_exported import CanopyTrain
@_exported import CanopyONNX
