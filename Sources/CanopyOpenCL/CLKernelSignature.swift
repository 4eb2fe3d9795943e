import CanopyCore

/// The kind of one kernel parameter, as its OpenCL C declaration states it.
enum CLParameterKind: Sendable, Equatable {
    /// `__global const float*`: a buffer the kernel only reads.
    case read
    /// `__global float*`: a buffer the kernel writes (and may read).
    case written
    /// `const int`, `const float`, `const uint`: a value.
    case int, float, uint
}

/// One kernel of `Kernels/*.cl`: its name, the file declaring it and its parameters in order.
///
/// The constants of ``CLKernels`` are generated at build time (by the EmbedKernels plugin) from the `__kernel`
/// signatures of the `.cl` files, so a kernel's name and parameter list are written once, in OpenCL C. At
/// program load the backend compares each kernel's argument count (`CL_KERNEL_NUM_ARGS`) with the table; at
/// launch the arguments set must match the parameters in number and kind.
struct CLKernelSignature: Sendable {
    let name: String
    let file: CLKernelFile
    let parameters: [(name: String, kind: CLParameterKind)]

    /// `canopy_fill(y, value, count)`, for messages.
    var description: String { "\(name)(\(parameters.map(\.name).joined(separator: ", ")))" }

    /// Throws unless `arguments` match the parameters in number and kind (a buffer for each pointer).
    func check(_ arguments: [CLArgument]) throws {
        guard arguments.count == parameters.count else {
            throw BackendError.deviceFailure(backend: "opencl", message: "launching \(name) of \(file.rawValue) with "
                + "\(arguments.count) arguments, but its signature declares \(parameters.count): \(description)")
        }
        for (index, (argument, parameter)) in zip(arguments, parameters).enumerated() where !argument.fits(parameter.kind) {
            throw BackendError.deviceFailure(backend: "opencl", message: "launching \(name) of \(file.rawValue): "
                + "argument \(index) (\(parameter.name)) is \(argument.kindName), the signature declares \(parameter.kind)")
        }
    }
}

extension CLKernels {
    /// The kernels by name, for checking a loaded program against the table.
    static let byName: [String: CLKernelSignature] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The forward kernel of a unary function.
    static func unary(_ function: UnaryFunction) -> CLKernelSignature {
        switch function {
        case .relu: return relu
        case .sigmoid: return sigmoid
        case .tanh: return tanh
        case .gelu: return gelu
        case .silu: return silu
        }
    }

    /// The derivative kernel of a unary function, `(x, y, dy, dx, count)`.
    static func unaryBackward(_ function: UnaryFunction) -> CLKernelSignature {
        switch function {
        case .relu: return reluBackward
        case .sigmoid: return sigmoidBackward
        case .tanh: return tanhBackward
        case .gelu: return geluBackward
        case .silu: return siluBackward
        }
    }

    /// The forward kernel of a parametric unary function, `(x, y, alpha, count)`.
    static func parametricUnary(_ function: ParametricUnaryFunction) -> CLKernelSignature {
        switch function {
        case .leakyRelu: return leakyRelu
        case .elu: return elu
        }
    }

    /// The derivative kernel of a parametric unary function, `(x, dy, dx, alpha, count)`.
    static func parametricUnaryBackward(_ function: ParametricUnaryFunction) -> CLKernelSignature {
        switch function {
        case .leakyRelu: return leakyReluBackward
        case .elu: return eluBackward
        }
    }

    /// The kernel of a binary function, `(a, b, y, count)`.
    static func binary(_ function: BinaryFunction) -> CLKernelSignature {
        switch function {
        case .add: return add
        case .subtract: return subtract
        case .multiply: return multiply
        }
    }
}
