import CanopyCore
import Foundation

extension CPUBackend: MemoryLimitedBackend {
    /// Physical memory, for both the total and one buffer (a plan larger than the machine's memory cannot run).
    public var memoryLimits: DeviceMemoryLimits {
        let bytes = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        return DeviceMemoryLimits(totalBytes: bytes, largestBufferBytes: bytes, source: "physical memory")
    }
}
