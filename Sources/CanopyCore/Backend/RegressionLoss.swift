/// The element-wise penalty of a regression loss, a function of the difference `d = p − t` between a
/// prediction and its target: the one kernel family ``Kernel/regressionLoss(_:predictions:targets:mask:rowLoss:rows:cols:)``
/// and its gradient serve all of them.
///
/// | Case | Penalty | Derivative in d |
/// |---|---|---|
/// | ``meanSquaredError`` | `d²` | `2d` |
/// | ``l1`` | `|d|` | `sign(d)`, 0 at d = 0 (PyTorch's `L1Loss`) |
/// | ``huber(delta:)`` | `0.5·d²` if `|d| ≤ δ`, else `δ·(|d| − 0.5·δ)` | `d` if `|d| ≤ δ`, else `δ·sign(d)` (PyTorch's `HuberLoss`) |
public enum RegressionLoss: Equatable, Hashable, Sendable {
    /// `d²`: mean squared error (PyTorch's `MSELoss`).
    case meanSquaredError
    /// `|d|`: mean absolute error (PyTorch's `L1Loss`).
    case l1
    /// Quadratic within δ of the target and linear beyond (PyTorch's `HuberLoss(delta:)`); δ is finite and > 0.
    case huber(delta: Float)

    /// The function's name in kernel names and messages: `mse`, `l1` or `huber`.
    public var name: String {
        switch self {
        case .meanSquaredError: return "mse"
        case .l1: return "l1"
        case .huber: return "huber"
        }
    }
}

extension RegressionLoss {
    /// Throws unless the function's setting is in range (Huber's δ finite and > 0).
    func checkSettings() throws {
        switch self {
        case .meanSquaredError, .l1: return
        case let .huber(delta):
            guard delta.isFinite && delta > 0 else { throw ContractViolation("huber's delta must be finite and > 0, got \(delta)") }
        }
    }
}

extension Kernel {
    /// Throws unless a binary cross-entropy's positive weight is finite and > 0.
    func checkPositiveWeight(_ posWeight: Float) throws {
        guard posWeight.isFinite && posWeight > 0 else {
            throw ContractViolation("posWeight must be finite and > 0, got \(posWeight)")
        }
    }
}
