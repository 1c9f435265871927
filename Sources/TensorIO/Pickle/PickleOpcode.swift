/// Every opcode of pickle protocols 0–5, named as Python's `pickletools` names them and valued by
/// its byte: the case `shortBinunicode = 0x8C` is `SHORT_BINUNICODE` (see `name`). The machine
/// executes only the few a state dict needs; the others are known so that a refusal can name them.
enum PickleOpcode: UInt8, CaseIterable {
    // Protocol 0 and 1.
    case mark = 0x28
    case stop = 0x2E
    case pop = 0x30
    case popMark = 0x31
    case dup = 0x32
    case float = 0x46
    case int = 0x49
    case binint = 0x4A
    case binint1 = 0x4B
    case long = 0x4C
    case binint2 = 0x4D
    case none = 0x4E
    case persid = 0x50
    case binpersid = 0x51
    case reduce = 0x52
    case string = 0x53
    case binstring = 0x54
    case shortBinstring = 0x55
    case unicode = 0x56
    case binunicode = 0x58
    case append = 0x61
    case build = 0x62
    case global = 0x63
    case dict = 0x64
    case emptyDict = 0x7D
    case appends = 0x65
    case get = 0x67
    case binget = 0x68
    case inst = 0x69
    case longBinget = 0x6A
    case list = 0x6C
    case emptyList = 0x5D
    case obj = 0x6F
    case put = 0x70
    case binput = 0x71
    case longBinput = 0x72
    case setitem = 0x73
    case tuple = 0x74
    case emptyTuple = 0x29
    case setitems = 0x75
    case binfloat = 0x47
    // Protocol 2.
    case proto = 0x80
    case newobj = 0x81
    case ext1 = 0x82
    case ext2 = 0x83
    case ext4 = 0x84
    case tuple1 = 0x85
    case tuple2 = 0x86
    case tuple3 = 0x87
    case newtrue = 0x88
    case newfalse = 0x89
    case long1 = 0x8A
    case long4 = 0x8B
    // Protocol 3.
    case binbytes = 0x42
    case shortBinbytes = 0x43
    // Protocol 4.
    case shortBinunicode = 0x8C
    case binunicode8 = 0x8D
    case binbytes8 = 0x8E
    case emptySet = 0x8F
    case additems = 0x90
    case frozenset = 0x91
    case newobjEx = 0x92
    case stackGlobal = 0x93
    case memoize = 0x94
    case frame = 0x95
    // Protocol 5.
    case bytearray8 = 0x96
    case nextBuffer = 0x97
    case readonlyBuffer = 0x98

    /// The name `pickletools` gives the opcode, for error messages: the case's name in upper case
    /// with an underscore before each inner word (`longBinget` → `LONG_BINGET`).
    var name: String {
        var name = ""
        for character in String(describing: self) {
            if character.isUppercase { name.append("_") }
            name += character.uppercased()
        }
        return name
    }
}
