import CanopyCore
import Foundation

/// Gradient reversal (Ganin & Lempitsky, 2015): the identity in the forward pass, `−λ·gradient` in the backward
/// pass: `gradient_reversal: 0.5`, `gradient_reversal: {lambda: 0.5}`, or the bare word for λ = 1; in a graph,
/// `{name: r, op: gradient_reversal, lambda: 0.5}`. A domain-discriminator head placed after it learns to tell the
/// domains apart while the shared layers before it are pushed to make the domains indistinguishable. No
/// parameters; the output shares its input's buffer, so it costs no memory and no kernel in the forward pass.
///
/// λ is a finite number ≥ 0 (0 blocks the gradient). By default it is constant; `schedule: ganin`
/// (`{gradient_reversal: {lambda: 1.0, schedule: ganin}}`) ramps it up over the run as ``ReversalSchedule``
/// says, through a one-element graph input the trainer sets before each step.
public struct GradientReversalLayer: Layer, Sendable {
    /// How strongly the gradient is reversed: the backward pass multiplies it by −λ (times the schedule's factor).
    public var lambda: Float
    /// How the factor on λ moves over training (``ReversalSchedule/constant`` by default).
    public var schedule: ReversalSchedule

    /// A gradient reversal layer with factor `lambda`, scheduled by `schedule`.
    public init(lambda: Float, schedule: ReversalSchedule = .constant) { self.lambda = lambda; self.schedule = schedule }

    public static let syntax = [
        LayerSyntax(keyword: "gradient_reversal",
                    settings: [.number("lambda", default: .number(1)),
                               .word("schedule", among: ReversalSchedule.words, default: "constant")],
                    shorthand: "lambda", example: "{lambda: 1.0}",
                    summary: "identity forward, −lambda × the gradient backward (a domain-adversarial head's input); "
                        + "schedule: ganin ramps lambda up over the run",
                    make: { .gradientReversal(lambda: $0.float("lambda"),
                                              schedule: ReversalSchedule(rawValue: $0.word("schedule"))!) }),
    ]

    public var keyword: String { "gradient_reversal" }
    public var description: String {
        switch schedule {
        case .constant: return "gradient_reversal λ=\(lambda)"
        case .ganin: return "gradient_reversal λ=\(lambda) ganin"
        }
    }
    public var hasParameters: Bool { false }
    public var keepsFeatures: Bool { true }

    public func check(input: [Int], at site: LayerSite) throws {
        guard lambda.isFinite && lambda >= 0 else {
            throw site.error(setting: "lambda", "gradient_reversal's lambda must be a finite number ≥ 0, got \(lambda)")
        }
    }

    public func parameters(input: [Int]) -> [LayerParameter] { [] }

    public func append(to x: Value, parameters: [Value], label: String, in graph: Graph) throws -> Value {
        guard let name = schedule.factorInput else { return try graph.gradientReversal(x, lambda: lambda, label: label) }
        return try graph.gradientReversal(x, lambda: lambda, factor: graph.input(name, shape: [1]), label: label)
    }
}

/// How gradient reversal's λ moves over a training run: the backward pass multiplies the gradient by
/// `−λ · factor(p)`, where p ∈ [0, 1] is the run's progress, `(step − 1) / total steps`.
public enum ReversalSchedule: String, CaseIterable, Hashable, Sendable {
    /// factor(p) = 1: λ throughout.
    case constant
    /// Ganin & Lempitsky's ramp, factor(p) = 2 / (1 + exp(−10·p)) − 1: 0 at the first step, rising to ≈ 1 by the
    /// end, so the domain head learns before the shared layers are pushed hard.
    case ganin

    /// The words a model file may write, in order.
    static var words: [String] { allCases.map(\.rawValue) }

    /// The factor on λ at progress `p` (clamped to [0, 1]).
    public func factor(atProgress p: Double) -> Float {
        switch self {
        case .constant: return 1
        case .ganin: return Float(2 / (1 + exp(-10 * min(max(p, 0), 1))) - 1)
        }
    }

    /// The name of the [1] graph input holding this schedule's factor, shared by every layer that follows it;
    /// nil for ``constant``, which needs none (its graph is as it was before schedules existed).
    public var factorInput: String? {
        switch self {
        case .constant: return nil
        case .ganin: return "gradient_reversal.ganin"
        }
    }
}

extension LayerKind {
    /// `gradient_reversal: {lambda, schedule}`.
    public static func gradientReversal(lambda: Float = 1, schedule: ReversalSchedule = .constant) -> LayerKind {
        LayerKind(GradientReversalLayer(lambda: lambda, schedule: schedule))
    }
}
