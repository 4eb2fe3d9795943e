import CanopyCore
import CanopyModel
import Foundation

/// The device memory a training run needs: its parameters, the optimizer's state and the planned activations
/// (values, gradients and the inputs of the training step and of evaluation, after buffer reuse).
///
/// Measured, not estimated: the run's parameter store, optimizer, training step and evaluator are planned on a
/// ``MeasuringBackend``, which counts every buffer they would allocate and allocates none. ``check(against:)``
/// then refuses, with the numbers, a plan that does not fit the device, before any real allocation.
public struct MemoryPlan: Sendable, Equatable {
    /// Rows per step the plan was made for (the batch size, no more than the training rows).
    public var batchSize: Int
    /// Bytes of the parameters.
    public var parameterBytes: Int
    /// Bytes of the optimizer's state (SGD's velocity, Adam's two moments).
    public var optimizerBytes: Int
    /// Bytes of the training step's and the evaluator's planned buffers.
    public var activationBytes: Int
    /// Bytes of the largest single buffer.
    public var largestBufferBytes: Int

    /// Everything together.
    public var totalBytes: Int { parameterBytes + optimizerBytes + activationBytes }

    /// Plans a training run of a training graph on a backend that only counts.
    ///
    /// - Throws: what planning its step throws (a ``ModelFileError`` for a weighting method the scheme cannot
    ///   use, for example).
    public static func measure(_ model: ModelGraph) throws -> MemoryPlan {
        let spec = model.spec
        let counter = MeasuringBackend()
        let parameters = try ParameterStore(graph: model.graph, backend: counter)
        let parameterElements = counter.totalElements
        _ = try Optimizer(spec.train.optimizer, parameters: parameters)
        let optimizerElements = counter.totalElements - parameterElements
        let weighting = TaskWeighting(spec.train.weighting, fileWeights: spec.tasks.map(\.weight),
                                      learningRate: spec.train.optimizer.learningRate)
        _ = try StepRunner(model: model, parameters: parameters, weighting: weighting,
                           classWeights: model.tasks.map { _ in nil })
        _ = try Evaluator(model: model, parameters: parameters)
        let activationElements = counter.totalElements - parameterElements - optimizerElements
        let bytes = MemoryLayout<Float>.size
        return MemoryPlan(batchSize: model.batchSize, parameterBytes: parameterElements * bytes,
                          optimizerBytes: optimizerElements * bytes, activationBytes: activationElements * bytes,
                          largestBufferBytes: counter.largestBufferElements * bytes)
    }

    /// Throws when the plan does not fit `backend`'s device; backends that do not report their memory
    /// (``MemoryLimitedBackend``) are not checked.
    ///
    /// - Throws: ``ModelFileError`` at `train.batch_size` with the plan's and the device's numbers.
    public func check(against backend: Backend, spec: ModelSpec) throws {
        guard let limited = backend as? MemoryLimitedBackend else { return }
        let limits = limited.memoryLimits
        var problem: String?
        if totalBytes > limits.totalBytes {
            problem = "the run needs \(Self.format(totalBytes)) (\(summary)) but the \(backend.name) device has "
                + "\(Self.format(limits.totalBytes)) (\(limits.source))"
        } else if largestBufferBytes > limits.largestBufferBytes {
            problem = "the run's largest buffer takes \(Self.format(largestBufferBytes)) but the \(backend.name) "
                + "device allows \(Self.format(limits.largestBufferBytes)) in one buffer (\(limits.source))"
        }
        if let problem {
            throw ModelFileError(location: spec.location(of: "train.batch_size"), keyPath: "train.batch_size",
                                 message: problem + "; lower train.batch_size or the model's size")
        }
    }

    /// `parameters 68.2 KiB, optimizer 136.4 KiB, activations 1.2 MiB`.
    public var summary: String {
        "parameters \(Self.format(parameterBytes)), optimizer \(Self.format(optimizerBytes)), "
            + "activations \(Self.format(activationBytes)) at \(batchSize) rows per step"
    }

    /// Bytes in the largest binary unit that keeps the number at or above 1 (`512 B`, `1.5 MiB`, `3.0 GiB`).
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f ", value) + units[unit]
    }
}
