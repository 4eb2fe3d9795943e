import CanopyCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Optimizer updates, element by element and in place on the parameter and its state.
//
// Each update is written once, over ``Lanes`` (eight floats: two SSE or one AVX register, see Lanes.swift), and the loop
// runs it on whole vectors, then once more on the last `count % 8` elements loaded into a zero-padded vector, so
// the body and the tail do the same arithmetic in the same order as the OpenCL kernels (Kernels/optimizer.cl).
// Large updates are split over the backend's threads in chunks of ``CPUBackend/elementGrain``.

extension CPUBackend {
    /// PyTorch's SGD (dampening 0, not Nesterov): `g = grad + wd·param`, `velocity = momentum·velocity + g`,
    /// `param −= lr·velocity`.
    func sgdUpdate(param: DeviceBuffer, grad: DeviceBuffer, velocity: DeviceBuffer, count: Int,
                   hyper: SGDHyperparameters) throws {
        let grad = reading(grad)
        let param = writing(param)
        let velocity = writing(velocity)
        let lr = hyper.learningRate, momentum = hyper.momentum, wd = hyper.weightDecay
        @inline(__always) func update(_ i: Int, _ rest: Int) {
            let p = Lanes(param + i, rest), g = Lanes(grad + i, rest) + wd * p
            let v = momentum * Lanes(velocity + i, rest) + g
            v.store(to: velocity + i, rest)
            (p - lr * v).store(to: param + i, rest)
        }
        parallelRanges(count: count) { range in forEachLanes(range, update) }
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
        let lr = hyper.learningRate, b1 = hyper.beta1, b2 = hyper.beta2, eps = hyper.epsilon
        let decay = lr * hyper.weightDecay
        let correction1 = Float(1 - pow(Double(b1), Double(hyper.step)))
        let correction2 = Float(1 - pow(Double(b2), Double(hyper.step)))
        @inline(__always) func update(_ i: Int, _ rest: Int) {
            let g = Lanes(grad + i, rest)
            var p = Lanes(param + i, rest)
            p -= decay * p
            let mi = b1 * Lanes(m + i, rest) + (1 - b1) * g
            let vi = b2 * Lanes(v + i, rest) + (1 - b2) * g * g
            mi.store(to: m + i, rest)
            vi.store(to: v + i, rest)
            (p - lr * (mi / correction1) / ((vi / correction2).nonNegativeSquareRoot() + eps))
                .store(to: param + i, rest)
        }
        parallelRanges(count: count) { range in forEachLanes(range, update) }
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
        let lr = hyper.learningRate, alpha = hyper.alpha, eps = hyper.epsilon
        let momentum = hyper.momentum, wd = hyper.weightDecay
        @inline(__always) func update(_ i: Int, _ rest: Int) {
            let p = Lanes(param + i, rest)
            let g = Lanes(grad + i, rest) + wd * p
            let s = alpha * Lanes(square + i, rest) + (1 - alpha) * g * g
            s.store(to: square + i, rest)
            let step = g / (s.nonNegativeSquareRoot() + eps)
            if momentum > 0 {
                let b = momentum * Lanes(buffer + i, rest) + step
                b.store(to: buffer + i, rest)
                (p - lr * b).store(to: param + i, rest)
            } else {
                (p - lr * step).store(to: param + i, rest)
            }
        }
        parallelRanges(count: count) { range in forEachLanes(range, update) }
    }
}
