import Dispatch

/// The working memory and the filling of Argon2 (RFC 9106 §3.2-3.4).
struct Argon2State: @unchecked Sendable {
    // Safety: lanes of one slice write disjoint blocks and read only blocks finished in earlier
    // slices, exactly as the algorithm's synchronisation points require.
    static let wordsPerBlock = 128

    let parameters: Argon2.Parameters
    let lanes: Int
    let laneLength: Int
    let segmentLength: Int
    let blockCount: Int
    let memory: UnsafeMutablePointer<UInt64>

    init(parameters: Argon2.Parameters) {
        self.parameters = parameters
        self.lanes = Int(parameters.parallelism)
        let blocks = 4 * self.lanes * (Int(parameters.memoryKiB) / (4 * self.lanes))
        self.blockCount = blocks
        self.laneLength = blocks / self.lanes
        self.segmentLength = self.laneLength / 4
        // Left uninitialised (UInt64 is trivial): every block is written before it is read,
        // so the first pass touches each page once instead of twice.
        // Aligned to 64 bytes so every 1 KiB block spans exactly 16 cache lines.
        self.memory = UnsafeMutableRawPointer.allocate(byteCount: blocks * 1024, alignment: 64)
            .bindMemory(to: UInt64.self, capacity: blocks * Self.wordsPerBlock)
    }

    /// Clears and frees the working memory.
    func release() {
        self.memory.update(repeating: 0, count: self.blockCount * Self.wordsPerBlock)
        self.memory.deallocate()
    }

    @inline(__always)
    func block(_ index: Int) -> UnsafeMutablePointer<UInt64> {
        self.memory + index * Self.wordsPerBlock
    }

    func initialize(seed: [UInt8]) {
        for lane in 0..<self.lanes {
            for column in 0..<2 {
                var input = seed
                for value in [UInt32(column), UInt32(lane)] {
                    input += [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
                              UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24)]
                }
                let bytes = Argon2.variableHash(input, length: 1024)
                let target = self.block(lane * self.laneLength + column)
                for word in 0..<Self.wordsPerBlock {
                    var value: UInt64 = 0
                    for byte in 0..<8 { value |= UInt64(bytes[word * 8 + byte]) << UInt64(8 * byte) }
                    target[word] = value
                }
            }
        }
    }

    func fill() {
        for pass in 0..<Int(self.parameters.iterations) {
            for slice in 0..<4 {
                if self.lanes == 1 {
                    self.fillSegment(pass: pass, lane: 0, slice: slice)
                } else {
                    DispatchQueue.concurrentPerform(iterations: self.lanes) { lane in
                        self.fillSegment(pass: pass, lane: lane, slice: slice)
                    }
                }
            }
        }
    }

    func finalTag() -> [UInt8] {
        var final = [UInt64](repeating: 0, count: Self.wordsPerBlock)
        for lane in 0..<self.lanes {
            let last = self.block(lane * self.laneLength + self.laneLength - 1)
            for word in 0..<Self.wordsPerBlock { final[word] ^= last[word] }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        for word in final {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return Argon2.variableHash(bytes, length: self.parameters.tagLength)
    }

    func fillSegment(pass: Int, lane: Int, slice: Int) {
        let variant = self.parameters.variant
        let dataIndependent = variant == .argon2i || (variant == .argon2id && pass == 0 && slice < 2)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 4 * 1024, alignment: 64)
            .bindMemory(to: UInt64.self, capacity: 4 * Self.wordsPerBlock)
        defer { scratch.deallocate() }
        let input = scratch, addresses = scratch + 128, zero = scratch + 256, work = scratch + 384
        input.initialize(repeating: 0, count: 4 * Self.wordsPerBlock)
        if dataIndependent {
            input[0] = UInt64(pass)
            input[1] = UInt64(lane)
            input[2] = UInt64(slice)
            input[3] = UInt64(self.blockCount)
            input[4] = UInt64(self.parameters.iterations)
            input[5] = UInt64(variant.typeCode)
        }
        func nextAddresses() {
            input[6] &+= 1
            Argon2Compression.compress(previous: zero, reference: input, into: addresses, xorInto: false, scratch: work, zeroBlock: zero)
            Argon2Compression.compress(previous: zero, reference: addresses, into: addresses, xorInto: false, scratch: work, zeroBlock: zero)
        }
        let start = pass == 0 && slice == 0 ? 2 : 0
        if dataIndependent && start == 2 { nextAddresses() }
        var current = lane * self.laneLength + slice * self.segmentLength + start
        var previous = current % self.laneLength == 0 ? current + self.laneLength - 1 : current - 1
        let withXor = pass > 0 && self.parameters.version == 0x13
        for index in start..<self.segmentLength {
            if current % self.laneLength == 1 { previous = current - 1 }
            let pseudoRandom: UInt64
            if dataIndependent {
                if index % 128 == 0 { nextAddresses() }
                pseudoRandom = addresses[index % 128]
            } else {
                pseudoRandom = self.block(previous)[0]
            }
            let referenceLane = pass == 0 && slice == 0 ? lane : Int((pseudoRandom >> 32) % UInt64(self.lanes))
            let referenceIndex = self.referenceIndex(
                pass: pass, slice: slice, index: index, j1: pseudoRandom & 0xFFFF_FFFF, sameLane: referenceLane == lane)
            Argon2Compression.compress(
                previous: self.block(previous), reference: self.block(referenceLane * self.laneLength + referenceIndex),
                into: self.block(current), xorInto: withXor, scratch: work, zeroBlock: zero)
            current += 1
            previous += 1
        }
        work.update(repeating: 0, count: Self.wordsPerBlock)
    }

    @inline(__always)
    func referenceIndex(pass: Int, slice: Int, index: Int, j1: UInt64, sameLane: Bool) -> Int {
        let areaSize: Int
        if pass == 0 {
            if slice == 0 {
                areaSize = index - 1
            } else if sameLane {
                areaSize = slice * self.segmentLength + index - 1
            } else {
                areaSize = slice * self.segmentLength - (index == 0 ? 1 : 0)
            }
        } else if sameLane {
            areaSize = self.laneLength - self.segmentLength + index - 1
        } else {
            areaSize = self.laneLength - self.segmentLength - (index == 0 ? 1 : 0)
        }
        var relative = (j1 &* j1) >> 32
        relative = UInt64(areaSize) - 1 - ((UInt64(areaSize) &* relative) >> 32)
        let startPosition = pass != 0 && slice != 3 ? (slice + 1) * self.segmentLength : 0
        return (startPosition + Int(relative)) % self.laneLength
    }
}
