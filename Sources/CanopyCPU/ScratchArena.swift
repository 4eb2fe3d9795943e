/// Host memory the CPU backend reuses between kernel calls, one growing region per purpose.
///
/// A region only grows, so once the largest call has run no kernel allocates. Contents are not preserved
/// between calls, and a region must not be requested again while a pointer from it is still in use.
final class ScratchArena {
    /// What a region is used for; two live regions must have different slots.
    enum Slot: Int, CaseIterable {
        case partialSums, columns, product, rowSums
    }

    private var regions: [UnsafeMutablePointer<Float>?] = Array(repeating: nil, count: Slot.allCases.count)
    private var capacities: [Int] = Array(repeating: 0, count: Slot.allCases.count)
    private var pointerRegion: UnsafeMutablePointer<UnsafePointer<Float>?>?
    private var pointerCapacity = 0

    /// A region of at least `count` floats, with unspecified contents.
    func floats(_ count: Int, slot: Slot) -> UnsafeMutablePointer<Float> {
        let index = slot.rawValue
        if let region = regions[index], capacities[index] >= count { return region }
        regions[index]?.deallocate()
        let capacity = max(count, 1)
        let region = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        region.initialize(repeating: 0, count: capacity)
        regions[index] = region
        capacities[index] = capacity
        return region
    }

    /// A region of at least `count` float pointers (a convolution's window rows), with unspecified contents.
    func pointers(_ count: Int) -> UnsafeMutablePointer<UnsafePointer<Float>?> {
        if let region = pointerRegion, pointerCapacity >= count { return region }
        pointerRegion?.deallocate()
        let capacity = max(count, 1)
        let region = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: capacity)
        region.initialize(repeating: nil, count: capacity)
        pointerRegion = region
        pointerCapacity = capacity
        return region
    }

    deinit {
        for region in regions { region?.deallocate() }
        pointerRegion?.deallocate()
    }
}
