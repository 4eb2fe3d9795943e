import CanopyCore
import Foundation

/// Optimizer updates (optimizer.cl), in place: each work-item updates ``optimizerVector`` elements.
extension OpenCLBackend {
    /// Elements per work-item of the optimizer kernels (optimizer.cl's OPT_VEC).
    static let optimizerVector = 8

    private func update(_ kernel: CLKernelSignature, _ buffers: [DeviceBuffer], count: Int, extra: [CLArgument]) throws {
        let arguments = try buffers.map { CLArgument.buffer(try own($0)) }
        let items = (count + OpenCLBackend.optimizerVector - 1) / OpenCLBackend.optimizerVector
        try launch(kernel, arguments + extra + [.int(count)], global: [items], local: [tunables.elementwiseGroup])
    }

    func sgdUpdate(param: DeviceBuffer, grad: DeviceBuffer, velocity: DeviceBuffer, count: Int,
                   hyper: SGDHyperparameters) throws {
        try update(CLKernels.sgd, [param, grad, velocity], count: count,
                        extra: [.float(hyper.learningRate), .float(hyper.momentum), .float(hyper.weightDecay)])
    }

    func adamUpdate(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, count: Int,
                    hyper: AdamHyperparameters) throws {
        let correction1 = Float(1 - pow(Double(hyper.beta1), Double(hyper.step)))   // in double, as the CPU backend does
        let correction2 = Float(1 - pow(Double(hyper.beta2), Double(hyper.step)))
        try update(CLKernels.adamw, [param, grad, m, v], count: count,
                        extra: [.float(hyper.learningRate), .float(hyper.beta1), .float(hyper.beta2),
                                .float(hyper.epsilon), .float(hyper.weightDecay), .float(correction1), .float(correction2)])
    }

    func rmspropUpdate(param: DeviceBuffer, grad: DeviceBuffer, square: DeviceBuffer, buffer: DeviceBuffer,
                       count: Int, hyper: RMSpropHyperparameters) throws {
        try update(CLKernels.rmsprop, [param, grad, square, buffer], count: count,
                        extra: [.float(hyper.learningRate), .float(hyper.alpha), .float(hyper.epsilon),
                                .float(hyper.momentum), .float(hyper.weightDecay)])
    }
}
