import CanopyCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Optimizer updates, element by element and in place on the parameter and its state.

extension CPUBackend {
    /// PyTorch's SGD (dampening 0, not Nesterov): `g = grad + wd·param`, `velocity = momentum·velocity + g`,
    /// `param −= lr·velocity`.
    func sgdUpdate(param: DeviceBuffer, grad: DeviceBuffer, velocity: DeviceBuffer, count: Int,
                   hyper: SGDHyperparameters) throws {
        let grad = reading(grad)
        let param = writing(param)
        let velocity = writing(velocity)
        let lr = hyper.learningRate, momentum = hyper.momentum, wd = hyper.weightDecay
        parallelRanges(count: count) { range in
            for i in range {
                let g = grad[i] + wd * param[i]
                let v = momentum * velocity[i] + g
                velocity[i] = v
                param[i] -= lr * v
            }
        }
    }

    /// PyTorch's AdamW: decay `param −= lr·wd·param` first, then the moment updates and the bias-corrected step
    /// `param −= lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + ε)`. The corrections `1−βᵗ` are computed in double
    /// and rounded to float32 once.
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
        parallelRanges(count: count, grain: 8192) { range in
            for i in range {
                let g = grad[i]
                let p = param[i] - decay * param[i]
                let mi = b1 * m[i] + (1 - b1) * g
                let vi = b2 * v[i] + (1 - b2) * g * g
                m[i] = mi
                v[i] = vi
                param[i] = p - lr * (mi / correction1) / (sqrtf(vi / correction2) + eps)
            }
        }
    }

    /// PyTorch's RMSprop (not centered): `g = grad + wd·param`, `square = α·square + (1−α)·g²`, then
    /// `buffer = μ·buffer + g / (sqrt(square) + ε)` and `param −= lr·buffer` with momentum, or
    /// `param −= lr · g / (sqrt(square) + ε)` without.
    func rmspropUpdate(param: DeviceBuffer, grad: DeviceBuffer, square: DeviceBuffer, buffer: DeviceBuffer,
                       count: Int, hyper: RMSpropHyperparameters) throws {
        let grad = reading(grad)
        let param = writing(param)
        let square = writing(square)
        let buffer = writing(buffer)
        let lr = hyper.learningRate, alpha = hyper.alpha, eps = hyper.epsilon
        let momentum = hyper.momentum, wd = hyper.weightDecay
        parallelRanges(count: count, grain: 8192) { range in
            for i in range {
                let g = grad[i] + wd * param[i]
                let s = alpha * square[i] + (1 - alpha) * g * g
                square[i] = s
                let step = g / (sqrtf(s) + eps)
                if momentum > 0 {
                    let b = momentum * buffer[i] + step
                    buffer[i] = b
                    param[i] -= lr * b
                } else {
                    param[i] -= lr * step
                }
            }
        }
    }
}
