import CanopyCore
import CanopyCPU
import CanopyTestSupport

/// A convolution's three passes on `cpu` against the naive double-precision references (random operands, seeds
/// 5, 6 and 7); returns the largest absolute difference. Fails the calling test when a pass is out of tolerance.
func checkConvolutionPasses(_ g: ConvGeometry, on cpu: CPUBackend,
                            tolerance: Tolerance = KernelCalls.product) throws -> Float {
    let forward = KernelCalls.conv2d(g, seed: 5)
    let a = assertClose(try forward.run(on: cpu)["output"]!,
                        Naive.conv2d(input: forward.values("input"), weight: forward.values("weight"), g),
                        tolerance: tolerance, forward.name)
    let backInput = KernelCalls.conv2dBackwardInput(g, seed: 6)
    let b = assertClose(try backInput.run(on: cpu)["dInput"]!,
                        Naive.conv2dBackwardInput(dOutput: backInput.values("dOutput"),
                                                  weight: backInput.values("weight"), g),
                        tolerance: tolerance, backInput.name)
    let backWeight = KernelCalls.conv2dBackwardWeight(g, seed: 7)
    let c = assertClose(try backWeight.run(on: cpu)["dWeight"]!,
                        Naive.conv2dBackwardWeight(input: backWeight.values("input"),
                                                   dOutput: backWeight.values("dOutput"), g),
                        tolerance: tolerance, backWeight.name)
    return max(a.absolute, b.absolute, c.absolute)
}
