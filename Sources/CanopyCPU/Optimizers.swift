import CanopyCore
import CCPUKernels
import Foundation

// Optimizer updates, element by element and in place on the parameter and its state: C kernels on the processor's
// widest vectors (CCPUKernels, each update written once, the same arithmetic in the same order as the OpenCL
// kernels in Kernels/optimizer.cl). Large updates are split over the backend's threads in chunks of
// ``CPUBackend/elementGrain``.

extension CPUBackend {
    /// PyTorch's SGD (dampening 0, not Nesterov): `g = grad + wd·param`, `velocity = momentum·velocity + g`,
    /// `param −= lr·velocity`.
    func sgdUpdate(param: DeviceBuffer, grad: DeviceBuffer, velocity: DeviceBuffer, count: Int,
                   hyper: SGDHyperparameters) throws {
        let grad = reading(grad)
        let param = writing(param)
        let velocity = writing(velocity)
        parallelRanges(count: count) { range in
            let i = range.lowerBound
            canopy_sgd_update(param + i, grad + i, velocity + i, range.count, hyper.learningRate, hyper.momentum,
                              hyper.weightDecay)
        }
    }

    /// PyTorch's AdamW: decay `param −= lr·wd·param` first, then the moment updates and the bias-corrected step
    /// `param −= lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + ε)`. The corrections `1−βᵗ` are computed once per
    /// call in double and rounded to float32 once, as the OpenCL backend's host does.
    func adamUpdate(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, count: Int,
                    hyper: AdamHyperparameters) throws {
        let grad = reading(grad)
        let param = writing(param)
        let m = writing(m)
        let v = writing(v)
        let lr = hyper.learningRate, b1 = hyper.beta1, b2 = hyper.beta2
        let decay = lr * hyper.weightDecay
        let correction1 = Float(1 - pow(Double(b1), Double(hyper.step)))
        let correction2 = Float(1 - pow(Double(b2), Double(hyper.step)))
        parallelRanges(count: count) { range in
            let i = range.lowerBound
            canopy_adam_update(param + i, grad + i, m + i, v + i, range.count, lr, b1, b2, hyper.epsilon, decay,
                               correction1, correction2)
        }
    }

    /// PyTorch's RMSprop (not centered): `g = grad + wd·param`, `square = α·square + (1−α)·g²`, then
    /// `buffer = μ·buffer + g / (sqrt(square) + ε)` and `param −= lr·buffer` with momentum, or
    /// `param −= lr · g / (sqrt(square) + ε)` without (the buffer is then left as it is).
    func rmspropUpdate(param: DeviceBuffer, grad: DeviceBuffer, square: DeviceBuffer, buffer: DeviceBuffer,
                       count: Int, hyper: RMSpropHyperparameters) throws {
        let grad = reading(grad)
        let param = writing(param)
        let square = writing(square)
        let buffer = writing(buffer)
        parallelRanges(count: count) { range in
            let i = range.lowerBound
            canopy_rmsprop_update(param + i, grad + i, square + i, buffer + i, range.count, hyper.learningRate,
                                  hyper.alpha, hyper.epsilon, hyper.momentum, hyper.weightDecay)
        }
    }
}
