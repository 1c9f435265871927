import Diagnostics

/// Interprets a pickle with a fixed opcode set and allow-listed globals. It never calls anything:
/// REDUCE on an allowed global builds a value (an empty dict, a tensor description).
struct PickleMachine {
    static let maxStack = 1 << 20
    static let maxMarks = 1 << 16
    static let maxMemo = 1 << 22
    static let maxStringBytes = 16 << 20
    static let maxDepth = 64
    static let maxOpcodes = 1 << 28
    static let maxDimensions = 64

    let bytes: UnsafeRawBufferPointer
    let path: String
    let entry: String
    private var position = 0
    /// Where the opcode being executed starts, and which it is (for messages).
    private var opcodeStart = 0
    private var opcode = PickleOpcode.proto
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: UnsafeRawBufferPointer, path: String, entry: String) {
        self.bytes = bytes
        self.path = path
        self.entry = entry
    }

    private func fail(_ problem: String) -> ToolError {
        .invalidData(file: path, location: entry, problem: "byte \(opcodeStart): \(problem)")
    }

    private mutating func take(_ count: Int) throws(ToolError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else {
            throw fail("the pickle ends inside an opcode's argument (truncated?)")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    private mutating func unsigned(_ count: Int) throws(ToolError) -> UInt64 {
        let raw = try take(count)
        var value: UInt64 = 0
        for (shift, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }

    private mutating func text(_ count: Int) throws(ToolError) -> String {
        guard count <= Self.maxStringBytes else {
            throw fail("a string of \(count) bytes exceeds the \(Self.maxStringBytes)-byte limit")
        }
        guard let string = String(validating: try take(count), as: UTF8.self) else {
            throw fail("a string is not valid UTF-8")
        }
        return string
    }

    private mutating func line() throws(ToolError) -> String {
        var end = position
        while end < bytes.count, bytes[end] != 0x0A {
            end += 1
            if end - position > 1024 { throw fail("GLOBAL name longer than 1024 bytes") }
        }
        guard end < bytes.count else { throw fail("the pickle ends inside a GLOBAL name (truncated?)") }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[position..<end])
        position = end + 1
        guard let string = String(validating: raw, as: UTF8.self) else { throw fail("GLOBAL name is not valid UTF-8") }
        return string
    }

    private mutating func push(_ value: PickleValue) throws(ToolError) {
        guard stack.count < Self.maxStack else { throw fail("the stack exceeds \(Self.maxStack) values") }
        guard value.depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
        stack.append(value)
    }

    private mutating func pop() throws(ToolError) -> PickleValue {
        guard let value = stack.popLast(), stack.count >= (marks.last ?? 0) else {
            throw fail("\(opcode.name) pops from an empty stack")
        }
        return value
    }

    private mutating func popMark() throws(ToolError) -> [PickleValue] {
        guard let mark = marks.popLast() else {
            throw fail("\(opcode.name) without a MARK")
        }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func top() throws(ToolError) -> PickleValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) else {
            throw fail("\(opcode.name) needs a value on the stack")
        }
        return value
    }

    private mutating func memoize(_ index: Int) throws(ToolError) {
        let value = try top()
        guard memo[index] != nil || memo.count < Self.maxMemo else { throw fail("the memo exceeds \(Self.maxMemo) entries") }
        memo[index] = value
    }

    private mutating func recall(_ index: Int) throws(ToolError) {
        guard let value = memo[index] else { throw fail("memo entry \(index) was never stored") }
        try push(value)
    }

    private static func tuple(_ items: [PickleValue]) -> PickleValue {
        for item in items { item.freeze() }
        return .tuple(items, depth: 1 + (items.map(\.depth).max() ?? 0))
    }

    /// Runs to STOP and returns the pickled value.
    mutating func run() throws(ToolError) -> PickleValue {
        var executed = 0
        while true {
            guard position < bytes.count else { throw fail("the pickle ends without STOP (truncated?)") }
            executed += 1
            guard executed <= Self.maxOpcodes else { throw fail("more than \(Self.maxOpcodes) opcodes") }
            opcodeStart = position
            let byte = bytes[position]
            position += 1
            guard let known = PickleOpcode(rawValue: byte) else {
                throw fail("opcode 0x\(String(byte, radix: 16, uppercase: true)) (unknown opcode) is not allowed in a checkpoint")
            }
            opcode = known
            switch opcode {
            case .proto:
                let version = try unsigned(1)
                guard version >= 2, version <= 5 else { throw fail("pickle protocol \(version) is not supported") }
            case .frame: // A read-ahead hint; the frame's opcodes follow inline.
                let length = try unsigned(8)
                guard length <= UInt64(bytes.count - position) else { throw fail("FRAME of \(length) bytes runs past the end (truncated?)") }
            case .emptyDict: try push(.dict(PickledDict(isOrderedDict: false)))
            case .emptyList: try push(.list(PickledList()))
            case .emptyTuple: try push(Self.tuple([]))
            case .mark:
                guard marks.count < Self.maxMarks else { throw fail("more than \(Self.maxMarks) open MARKs") }
                marks.append(stack.count)
            case .binunicode: try push(.string(try text(Int(try unsigned(4)))))
            case .shortBinunicode: try push(.string(try text(Int(try unsigned(1)))))
            case .binint: try push(.int(Int(Int32(bitPattern: UInt32(try unsigned(4))))))
            case .binint1: try push(.int(Int(try unsigned(1))))
            case .binint2: try push(.int(Int(try unsigned(2))))
            case .long1: // Little-endian two's complement of n bytes
                let count = Int(try unsigned(1))
                guard count <= 8 else { throw fail("LONG1 of \(count) bytes does not fit in 64 bits") }
                var value = try unsigned(count)
                if count > 0, count < 8, value & (1 << (8 * UInt64(count) - 1)) != 0 {
                    value |= ~0 << (8 * UInt64(count))
                }
                try push(.int(Int(bitPattern: UInt(value))))
            case .binfloat: // Big-endian IEEE double
                let raw = try take(8)
                var bits: UInt64 = 0
                for byte in raw { bits = bits << 8 | UInt64(byte) }
                try push(.float(Double(bitPattern: bits)))
            case .newtrue: try push(.bool(true))
            case .newfalse: try push(.bool(false))
            case .none: try push(.none)
            case .tuple: try push(Self.tuple(try popMark()))
            case .tuple1: try push(Self.tuple([try pop()]))
            case .tuple2:
                let second = try pop(), first = try pop()
                try push(Self.tuple([first, second]))
            case .tuple3:
                let third = try pop(), second = try pop(), first = try pop()
                try push(Self.tuple([first, second, third]))
            case .global:
                let module = try line(), name = try line()
                try push(try global(module: module, name: name))
            case .stackGlobal:
                let name = try pop(), module = try pop()
                guard case .string(let moduleText) = module, case .string(let nameText) = name else {
                    throw fail("STACK_GLOBAL needs two strings, got \(module.kind) and \(name.kind)")
                }
                try push(try global(module: moduleText, name: nameText))
            case .reduce:
                let arguments = try pop(), callable = try pop()
                try push(try reduce(callable, arguments))
            case .build: // Only an OrderedDict's (ignored) state
                let state = try pop()
                guard case .dict(let target) = try top(), target.isOrderedDict else {
                    throw fail("BUILD on \(try top().kind) is not allowed (only on an OrderedDict)")
                }
                switch state {
                case .none, .dict: break
                case .tuple(let items, _) where items.isEmpty: break
                default: throw fail("BUILD with \(state.kind) as the state of an OrderedDict is not allowed")
                }
            case .binpersid:
                try push(try persistentLoad(try pop()))
            case .setitem:
                let value = try pop(), key = try pop()
                try insert([key, value])
            case .setitems:
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number (\(items.count)) of keys and values") }
                try insert(items)
            case .append:
                let value = try pop()
                try append([value])
            case .appends: try append(try popMark())
            case .binput: try memoize(Int(try unsigned(1)))
            case .longBinput: try memoize(Int(try unsigned(4)))
            case .binget: try recall(Int(try unsigned(1)))
            case .longBinget: try recall(Int(try unsigned(4)))
            case .memoize: try memoize(memo.count)
            case .stop:
                guard marks.isEmpty, stack.count == 1, let value = stack.last else {
                    throw fail("STOP with \(stack.count) values on the stack and \(marks.count) open MARKs; expected one value")
                }
                return value
            default:
                throw fail("opcode 0x\(String(byte, radix: 16, uppercase: true)) (\(opcode.name)) is not allowed in a checkpoint")
            }
        }
    }

    private func global(module: String, name: String) throws(ToolError) -> PickleValue {
        guard let allowed = AllowedGlobal.resolve(module: module, name: name) else {
            throw fail("global \(module).\(name) is not allowed; a checkpoint may only use collections.OrderedDict, "
                       + "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter "
                       + "and torch storage and dtype types (nothing is executed)")
        }
        return .global(allowed, "\(module).\(name)")
    }

    private mutating func insert(_ items: [PickleValue]) throws(ToolError) {
        guard case .dict(let dict) = try top() else {
            throw fail("\(opcode.name) on \(try top().kind), not a dict")
        }
        guard !dict.frozen else { throw fail("\(opcode.name) changes a dict that is already inside another value") }
        for item in items {
            if case .dict(let inner) = item, inner === dict { throw fail("a dict may not contain itself") }
            item.freeze()
        }
        var index = 0
        while index < items.count {
            dict.pairs.append((items[index], items[index + 1]))
            dict.depth = max(dict.depth, 1 + max(items[index].depth, items[index + 1].depth))
            index += 2
        }
        guard dict.depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
    }

    private mutating func append(_ items: [PickleValue]) throws(ToolError) {
        guard case .list(let list) = try top() else {
            throw fail("\(opcode.name) on \(try top().kind), not a list")
        }
        guard !list.frozen else { throw fail("\(opcode.name) changes a list that is already inside another value") }
        for item in items {
            if case .list(let inner) = item, inner === list { throw fail("a list may not contain itself") }
            item.freeze()
            list.items.append(item)
            list.depth = max(list.depth, 1 + item.depth)
        }
        guard list.depth <= Self.maxDepth else { throw fail("values nest deeper than \(Self.maxDepth) levels") }
    }

    /// `('storage', type, key, location, numel)`: a reference to the entry `data/<key>`.
    private func persistentLoad(_ identifier: PickleValue) throws(ToolError) -> PickleValue {
        guard case .tuple(let items, _) = identifier, items.count == 5, case .string("storage") = items[0] else {
            throw fail("persistent id \(identifier.kind) is not ('storage', type, key, location, numel)")
        }
        guard case .global(.elementType(let dtype), _) = items[1] else {
            throw fail("persistent id names storage type \(items[1].kind), not a torch storage or dtype")
        }
        guard case .string(let key) = items[2], !key.isEmpty, !key.contains("/"), key != ".", key != ".." else {
            throw fail("persistent id has storage key \(items[2].kind), not a plain name")
        }
        guard case .string = items[3], case .int(let count) = items[4], count >= 0 else {
            throw fail("persistent id for storage \(key) has no location string or a bad element count")
        }
        return .storage(PickledStorage(key: key, dtype: dtype, count: count))
    }

    private func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws(ToolError) -> PickleValue {
        guard case .global(let function, let name) = callable else {
            throw fail("REDUCE calls \(callable.kind), which is not an allowed global")
        }
        guard case .tuple(let args, _) = arguments else {
            throw fail("REDUCE of \(name) with \(arguments.kind) instead of an argument tuple")
        }
        switch function {
        case .orderedDict:
            guard args.isEmpty else { throw fail("collections.OrderedDict is only accepted with no arguments") }
            return .dict(PickledDict(isOrderedDict: true))
        case .rebuildTensorV2:
            guard args.count == 6 || args.count == 7 else {
                throw fail("torch._utils._rebuild_tensor_v2 with \(args.count) arguments; expected 6 or 7")
            }
            guard case .storage(let storage) = args[0] else { throw fail("_rebuild_tensor_v2: the storage is \(args[0].kind)") }
            guard case .int(let offset) = args[1] else { throw fail("_rebuild_tensor_v2: the storage offset is \(args[1].kind)") }
            let shape = try integers(args[2], what: "size"), strides = try integers(args[3], what: "stride")
            guard case .bool = args[4] else { throw fail("_rebuild_tensor_v2: requires_grad is \(args[4].kind)") }
            guard case .dict = args[5] else { throw fail("_rebuild_tensor_v2: backward_hooks is \(args[5].kind), not an OrderedDict") }
            return .tensor(PickledTensor(storage: storage, offset: offset, shape: shape, strides: strides))
        case .rebuildParameter:
            guard args.count == 3, case .tensor = args[0], case .bool = args[1], case .dict = args[2] else {
                throw fail("torch._utils._rebuild_parameter needs (tensor, requires_grad, backward_hooks)")
            }
            return args[0]
        case .elementType:
            throw fail("\(name) is a type tag and may not be called")
        }
    }

    private func integers(_ value: PickleValue, what: String) throws(ToolError) -> [Int] {
        guard case .tuple(let items, _) = value, items.count <= Self.maxDimensions else {
            throw fail("_rebuild_tensor_v2: the \(what) is \(value.kind), not a tuple of at most \(Self.maxDimensions) integers")
        }
        var result: [Int] = []
        for item in items {
            guard case .int(let number) = item else { throw fail("_rebuild_tensor_v2: the \(what) holds \(item.kind)") }
            result.append(number)
        }
        return result
    }
}
