#include "quantscope/io/TorchUnpickler.h"

#include "quantscope/Error.h"
#include "quantscope/tensor/TensorInfo.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace quantscope {
namespace {

// Pickle opcodes (Lib/pickletools.py), the subset state dicts are written with.
namespace op {
constexpr uint8_t Mark = '(', Stop = '.', Pop = '0', PopMark = '1', Dup = '2';
constexpr uint8_t BinInt = 'J', BinInt1 = 'K', BinInt2 = 'M', None = 'N', BinPersId = 'Q', Reduce = 'R';
constexpr uint8_t BinUnicode = 'X', Append = 'a', Build = 'b', Global = 'c', Appends = 'e', BinGet = 'h';
constexpr uint8_t LongBinGet = 'j', BinPut = 'q', LongBinPut = 'r', SetItem = 's', Tuple = 't';
constexpr uint8_t SetItems = 'u', BinFloat = 'G', EmptyDict = '}', EmptyList = ']', EmptyTuple = ')';
constexpr uint8_t Proto = 0x80, NewTrue = 0x88, NewFalse = 0x89, Long1 = 0x8a, Tuple1 = 0x85;
constexpr uint8_t Tuple2 = 0x86, Tuple3 = 0x87, ShortBinUnicode = 0x8c, BinUnicode8 = 0x8d;
constexpr uint8_t StackGlobal = 0x93, Memoize = 0x94, Frame = 0x95;
} // namespace op

enum class Kind { None, Bool, Int, Float, String, Global, List, Tuple, Dict, Tensor, Storage };

struct Value {
    Kind kind = Kind::None;
    int64_t integer = 0; // Bool, Int; the node / tensor / storage index for the others
    double real = 0.0;
    std::string text; // String; "module.name" for Global
};

// Containers live in one arena and refer to each other by index: a hostile pickle that nests a
// million lists, or puts a list inside itself, costs no recursion when it is destroyed.
struct Node {
    std::vector<Value> items;                     // List, Tuple
    std::vector<std::pair<Value, Value>> entries; // Dict, in insertion order
};

struct TensorView {
    std::size_t storage = 0;
    int64_t offset = 0;
    std::vector<int64_t> shape;
    std::vector<int64_t> strides;
};

struct StorageType {
    const char* global;
    DType dtype;
};

constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", DType::F32}, {"torch.DoubleStorage", DType::F64},
    {"torch.HalfStorage", DType::F16},  {"torch.BFloat16Storage", DType::BF16},
    {"torch.LongStorage", DType::I64},  {"torch.IntStorage", DType::I32},
    {"torch.ShortStorage", DType::I16}, {"torch.CharStorage", DType::I8},
    {"torch.ByteStorage", DType::U8},   {"torch.BoolStorage", DType::Bool},
};

constexpr const char* kOrderedDict = "collections.OrderedDict";
constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor_v2";
constexpr const char* kRebuildParameter = "torch._utils._rebuild_parameter";
constexpr const char* kRebuildParameterWithState = "torch._utils._rebuild_parameter_with_state";

std::optional<DType> storageDType(const std::string& global) {
    for (const auto& type : kStorageTypes)
        if (global == type.global)
            return type.dtype;
    return std::nullopt;
}

bool allowedGlobal(const std::string& name) {
    return name == kOrderedDict || name == kRebuildTensor || name == kRebuildParameter ||
           name == kRebuildParameterWithState || storageDType(name).has_value();
}

std::string kindName(Kind kind) {
    switch (kind) {
    case Kind::None:
        return "None";
    case Kind::Bool:
        return "bool";
    case Kind::Int:
        return "int";
    case Kind::Float:
        return "float";
    case Kind::String:
        return "str";
    case Kind::Global:
        return "global";
    case Kind::List:
        return "list";
    case Kind::Tuple:
        return "tuple";
    case Kind::Dict:
        return "dict";
    case Kind::Tensor:
        return "tensor";
    case Kind::Storage:
        return "storage";
    }
    return "value";
}

class Unpickler {
public:
    Unpickler(std::span<const std::byte> data, const std::string& subject)
        : m_data(data), m_subject(subject) {}

    TorchPickleContents run() {
        const Value root = execute();
        flatten(root, "", 0);
        std::unordered_set<std::string> names;
        for (const auto& tensor : m_contents.tensors)
            if (!names.insert(tensor.name).second)
                fail("names the tensor \"" + tensor.name + "\" twice");
        return std::move(m_contents);
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw Error(m_subject, "data.pkl " + what); }

    [[noreturn]] void failAt(const std::string& what) const {
        fail("at byte " + std::to_string(m_opcodeStart) + ": " + what);
    }

    // ---- reading the byte stream ----
    const std::byte* take(uint64_t count) {
        if (count > m_data.size() - m_position)
            failAt("is truncated (an opcode needs " + std::to_string(count) + " more bytes, " +
                   std::to_string(m_data.size() - m_position) + " remain)");
        const std::byte* bytes = m_data.data() + m_position;
        m_position += static_cast<std::size_t>(count);
        return bytes;
    }
    uint64_t readUnsigned(int count) {
        const std::byte* bytes = take(static_cast<uint64_t>(count));
        uint64_t value = 0;
        for (int i = count - 1; i >= 0; --i)
            value = (value << 8) | static_cast<uint8_t>(bytes[i]);
        return value;
    }
    std::string readText(uint64_t length) {
        const std::byte* bytes = take(length);
        return std::string(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(length));
    }
    std::string readLine() {
        std::string line;
        while (true) {
            const char c = static_cast<char>(*take(1));
            if (c == '\n')
                return line;
            if (line.size() > 1024)
                failAt("has a GLOBAL name longer than 1024 bytes");
            line.push_back(c);
        }
    }

    // ---- the stack ----
    Value pop() {
        if (m_stack.size() <= markBase())
            failAt("pops from an empty stack");
        Value value = std::move(m_stack.back());
        m_stack.pop_back();
        return value;
    }
    Value& top() {
        if (m_stack.size() <= markBase())
            failAt("uses the top of an empty stack");
        return m_stack.back();
    }
    std::size_t markBase() const { return m_marks.empty() ? 0 : m_marks.back(); }
    std::vector<Value> popToMark() {
        if (m_marks.empty())
            failAt("ends a MARK that was never set");
        const std::size_t base = m_marks.back();
        m_marks.pop_back();
        std::vector<Value> items(std::make_move_iterator(m_stack.begin() + static_cast<std::ptrdiff_t>(base)),
                                 std::make_move_iterator(m_stack.end()));
        m_stack.resize(base);
        return items;
    }

    Value makeNode(Kind kind, std::vector<Value> items = {}) {
        Value value;
        value.kind = kind;
        value.integer = static_cast<int64_t>(m_nodes.size());
        m_nodes.push_back(Node{std::move(items), {}});
        return value;
    }
    Node& node(const Value& value) { return m_nodes[static_cast<std::size_t>(value.integer)]; }

    static Value integerValue(int64_t integer) {
        Value value;
        value.kind = Kind::Int;
        value.integer = integer;
        return value;
    }

    void memoPut(uint64_t index) {
        if (m_memo.size() >= torchpickle::kMaxMemoEntries && !m_memo.count(index))
            failAt("stores more than " + std::to_string(torchpickle::kMaxMemoEntries) + " memo entries");
        m_memo[index] = top();
    }
    void memoGet(uint64_t index) {
        const auto found = m_memo.find(index);
        if (found == m_memo.end())
            failAt("reads memo index " + std::to_string(index) + ", which was never stored");
        m_stack.push_back(found->second);
    }

    void pushGlobal(const std::string& module, const std::string& name) {
        const std::string full = module + "." + name;
        if (!allowedGlobal(full))
            failAt(
                "refers to the global '" + full +
                "', which is not allowed: only tensors (torch._utils._rebuild_tensor_v2, "
                "_rebuild_parameter), storages (torch.FloatStorage...) and plain containers "
                "(collections.OrderedDict, dict, list, tuple) are read, and nothing in the file is executed");
        Value value;
        value.kind = Kind::Global;
        value.text = full;
        m_stack.push_back(std::move(value));
    }

    void addToDict(Value& dict, std::vector<Value>&& keysAndValues) {
        if (dict.kind != Kind::Dict)
            failAt("sets items on a " + kindName(dict.kind) + ", not a dict");
        if (keysAndValues.size() % 2 != 0)
            failAt("sets items from an odd number of keys and values");
        Node& target = node(dict);
        for (std::size_t i = 0; i < keysAndValues.size(); i += 2)
            target.entries.emplace_back(std::move(keysAndValues[i]), std::move(keysAndValues[i + 1]));
    }
    void addToList(Value& list, std::vector<Value>&& items) {
        if (list.kind != Kind::List)
            failAt("appends to a " + kindName(list.kind) + ", not a list");
        Node& target = node(list);
        for (auto& item : items)
            target.items.push_back(std::move(item));
    }

    const std::vector<Value>& tupleItems(const Value& value, const char* what) {
        if (value.kind != Kind::Tuple)
            failAt(std::string(what) + " is a " + kindName(value.kind) + ", not a tuple");
        return node(value).items;
    }
    std::vector<int64_t> integerTuple(const Value& value, const char* what) {
        std::vector<int64_t> numbers;
        for (const Value& item : tupleItems(value, what)) {
            if (item.kind != Kind::Int)
                failAt(std::string(what) + " holds a " + kindName(item.kind) + ", not an int");
            numbers.push_back(item.integer);
        }
        return numbers;
    }

    Value persistentLoad(const Value& id) {
        const auto& parts = tupleItems(id, "a persistent id");
        if (parts.size() != 5 || parts[0].kind != Kind::String || parts[0].text != "storage")
            failAt("has a persistent id that is not ('storage', type, key, location, size)");
        if (parts[1].kind != Kind::Global || !storageDType(parts[1].text))
            failAt("has a storage whose type is a " + kindName(parts[1].kind) + " " + parts[1].text +
                   ", not a torch storage class");
        if (parts[2].kind != Kind::String || parts[4].kind != Kind::Int || parts[4].integer < 0)
            failAt("has a storage without a string key and a non-negative size");
        const DType dtype = *storageDType(parts[1].text);
        const auto elements = static_cast<uint64_t>(parts[4].integer);
        const auto [found, inserted] = m_storageByKey.emplace(parts[2].text, m_contents.storages.size());
        if (inserted) {
            m_contents.storages.push_back({parts[2].text, dtype, elements});
        } else {
            const TorchStorageRecord& known = m_contents.storages[found->second];
            if (known.dtype != dtype || known.elements != elements)
                failAt("describes storage \"" + parts[2].text + "\" twice, differently");
        }
        Value value;
        value.kind = Kind::Storage;
        value.integer = static_cast<int64_t>(found->second);
        return value;
    }

    Value rebuildTensor(const std::vector<Value>& args) {
        if (args.size() < 4 || args[0].kind != Kind::Storage || args[1].kind != Kind::Int)
            failAt("calls _rebuild_tensor_v2 without (storage, offset, size, stride, ...)");
        TensorView view;
        view.storage = static_cast<std::size_t>(args[0].integer);
        view.offset = args[1].integer;
        view.shape = integerTuple(args[2], "a tensor's size");
        view.strides = integerTuple(args[3], "a tensor's stride");
        Value value;
        value.kind = Kind::Tensor;
        value.integer = static_cast<int64_t>(m_views.size());
        m_views.push_back(std::move(view));
        return value;
    }

    Value reduce(const Value& callable, const Value& argsValue) {
        if (callable.kind != Kind::Global)
            failAt("calls a " + kindName(callable.kind) + ", which is not callable");
        const auto& args = tupleItems(argsValue, "the arguments of a call");
        if (callable.text == kOrderedDict) {
            if (!args.empty())
                failAt("builds an OrderedDict from arguments (only an empty one is read)");
            return makeNode(Kind::Dict);
        }
        if (callable.text == kRebuildTensor)
            return rebuildTensor(args);
        if (callable.text == kRebuildParameter || callable.text == kRebuildParameterWithState) {
            if (args.empty() || args[0].kind != Kind::Tensor)
                failAt("calls " + callable.text + " without a tensor");
            return args[0];
        }
        failAt("calls " + callable.text + ", which builds nothing a checkpoint of tensors needs");
    }

    Value execute() {
        while (true) {
            m_opcodeStart = m_position;
            const auto code = static_cast<uint8_t>(*take(1));
            switch (code) {
            case op::Proto:
                if (const uint64_t version = readUnsigned(1); version > 5)
                    failAt("uses pickle protocol " + std::to_string(version) + " (at most 5 is read)");
                break;
            case op::Frame:
                readUnsigned(8); // framing is a hint for buffered readers; the data is all here
                break;
            case op::Stop: {
                Value result = pop();
                if (!m_stack.empty() || !m_marks.empty())
                    failAt("stops with values left on the stack");
                return result;
            }
            case op::Mark:
                m_marks.push_back(m_stack.size());
                break;
            case op::Pop:
                if (m_stack.size() > markBase())
                    m_stack.pop_back();
                else
                    popToMark(); // POP with an empty frame discards the mark, as CPython does
                break;
            case op::PopMark:
                popToMark();
                break;
            case op::Dup:
                m_stack.push_back(top());
                break;
            case op::None:
                m_stack.emplace_back();
                break;
            case op::NewTrue:
            case op::NewFalse: {
                Value value;
                value.kind = Kind::Bool;
                value.integer = code == op::NewTrue ? 1 : 0;
                m_stack.push_back(std::move(value));
                break;
            }
            case op::BinInt:
                m_stack.push_back(integerValue(static_cast<int32_t>(static_cast<uint32_t>(readUnsigned(4)))));
                break;
            case op::BinInt1:
                m_stack.push_back(integerValue(static_cast<int64_t>(readUnsigned(1))));
                break;
            case op::BinInt2:
                m_stack.push_back(integerValue(static_cast<int64_t>(readUnsigned(2))));
                break;
            case op::Long1: {
                const auto length = static_cast<int>(readUnsigned(1));
                if (length > 8)
                    failAt("holds an integer of " + std::to_string(length) + " bytes (at most 8 are read)");
                uint64_t bits = length == 0 ? 0 : readUnsigned(length);
                if (length > 0 && length < 8 && (bits >> (8 * length - 1)) & 1)
                    bits |= ~uint64_t{0} << (8 * length); // sign-extend
                m_stack.push_back(integerValue(static_cast<int64_t>(bits)));
                break;
            }
            case op::BinFloat: {
                uint64_t bits = 0;
                const std::byte* bytes = take(8);
                for (int i = 0; i < 8; ++i) // big endian
                    bits = (bits << 8) | static_cast<uint8_t>(bytes[i]);
                Value value;
                value.kind = Kind::Float;
                std::memcpy(&value.real, &bits, sizeof bits);
                m_stack.push_back(std::move(value));
                break;
            }
            case op::BinUnicode:
            case op::ShortBinUnicode:
            case op::BinUnicode8: {
                const int lengthBytes = code == op::ShortBinUnicode ? 1 : code == op::BinUnicode ? 4 : 8;
                Value value;
                value.kind = Kind::String;
                value.text = readText(readUnsigned(lengthBytes));
                m_stack.push_back(std::move(value));
                break;
            }
            case op::EmptyDict:
                m_stack.push_back(makeNode(Kind::Dict));
                break;
            case op::EmptyList:
                m_stack.push_back(makeNode(Kind::List));
                break;
            case op::EmptyTuple:
                m_stack.push_back(makeNode(Kind::Tuple));
                break;
            case op::Tuple:
                m_stack.push_back(makeNode(Kind::Tuple, popToMark()));
                break;
            case op::Tuple1:
            case op::Tuple2:
            case op::Tuple3: {
                const std::size_t count = code - op::Tuple1 + 1u;
                std::vector<Value> items(count);
                for (std::size_t i = count; i-- > 0;)
                    items[i] = pop();
                m_stack.push_back(makeNode(Kind::Tuple, std::move(items)));
                break;
            }
            case op::Append: {
                Value item = pop();
                std::vector<Value> items;
                items.push_back(std::move(item));
                addToList(top(), std::move(items));
                break;
            }
            case op::Appends: {
                std::vector<Value> items = popToMark();
                addToList(top(), std::move(items));
                break;
            }
            case op::SetItem: {
                Value item = pop();
                Value key = pop();
                std::vector<Value> pair;
                pair.push_back(std::move(key));
                pair.push_back(std::move(item));
                addToDict(top(), std::move(pair));
                break;
            }
            case op::SetItems: {
                std::vector<Value> pairs = popToMark();
                addToDict(top(), std::move(pairs));
                break;
            }
            case op::BinPut:
                memoPut(readUnsigned(1));
                break;
            case op::LongBinPut:
                memoPut(readUnsigned(4));
                break;
            case op::Memoize:
                memoPut(m_memo.size());
                break;
            case op::BinGet:
                memoGet(readUnsigned(1));
                break;
            case op::LongBinGet:
                memoGet(readUnsigned(4));
                break;
            case op::Global: {
                const std::string module = readLine();
                const std::string name = readLine();
                pushGlobal(module, name);
                break;
            }
            case op::StackGlobal: {
                const Value name = pop();
                const Value module = pop();
                if (module.kind != Kind::String || name.kind != Kind::String)
                    failAt("names a global with a " + kindName(module.kind) + " and a " +
                           kindName(name.kind));
                pushGlobal(module.text, name.text);
                break;
            }
            case op::BinPersId: {
                const Value id = pop();
                m_stack.push_back(persistentLoad(id));
                break;
            }
            case op::Reduce: {
                const Value args = pop();
                const Value callable = pop();
                m_stack.push_back(reduce(callable, args));
                break;
            }
            case op::Build: {
                pop(); // the state: an OrderedDict's __dict__ (a state dict's _metadata), not needed
                const Kind kind = top().kind;
                if (kind != Kind::Dict && kind != Kind::Tensor)
                    failAt("sets the state of a " + kindName(kind) + " (only dicts and tensors accept one)");
                break;
            }
            default: {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", code);
                failAt(std::string("has the opcode ") + hex +
                       ", which a state dict of tensors never uses (refused, nothing was executed)");
            }
            }
        }
    }

    // ---- flattening into dotted names ----
    std::string keyText(const Value& key, const std::string& prefix) {
        std::string text;
        if (key.kind == Kind::String)
            text = key.text;
        else if (key.kind == Kind::Int)
            text = std::to_string(key.integer);
        else
            fail("has a dict key of type " + kindName(key.kind) + " under \"" + prefix +
                 "\" (str or int expected)");
        return prefix.empty() ? text : prefix + "." + text;
    }

    void flatten(const Value& value, const std::string& name, int depth) {
        if (depth > torchpickle::kMaxDepth)
            fail("nests containers deeper than " + std::to_string(torchpickle::kMaxDepth) + " levels (at \"" +
                 name.substr(0, 200) + "\")");
        switch (value.kind) {
        case Kind::Dict:
            for (const auto& [key, item] : node(value).entries)
                flatten(item, keyText(key, name), depth + 1);
            break;
        case Kind::List:
        case Kind::Tuple: {
            const auto& items = node(value).items;
            for (std::size_t i = 0; i < items.size(); ++i)
                flatten(items[i], name.empty() ? std::to_string(i) : name + "." + std::to_string(i),
                        depth + 1);
            break;
        }
        case Kind::Tensor:
            addTensor(m_views[static_cast<std::size_t>(value.integer)], name.empty() ? "tensor" : name);
            break;
        case Kind::Bool:
            m_contents.scalars[name] = value.integer ? "True" : "False";
            break;
        case Kind::Int:
            m_contents.scalars[name] = std::to_string(value.integer);
            break;
        case Kind::Float: {
            char text[32];
            std::snprintf(text, sizeof text, "%.17g", value.real);
            m_contents.scalars[name] = text;
            break;
        }
        case Kind::String:
            m_contents.scalars[name] = value.text.substr(0, 1024);
            break;
        case Kind::None:
        case Kind::Global:
        case Kind::Storage:
            break;
        }
    }

    void addTensor(const TensorView& view, const std::string& name) {
        const std::string subject = m_subject + ": " + name;
        const TorchStorageRecord& storage = m_contents.storages[view.storage];
        if (view.shape.size() != view.strides.size())
            throw Error(subject, "size " + shapeToString(view.shape) + " and stride " +
                                     shapeToString(view.strides) + " have different lengths");
        uint64_t elements = 0;
        if (!checkedElementCount(view.shape, elements))
            throw Error(subject, "size " + shapeToString(view.shape) + " is negative or overflows");
        if (view.offset < 0)
            throw Error(subject, "storage offset " + std::to_string(view.offset) + " is negative");
        for (const int64_t stride : view.strides)
            if (stride < 0)
                throw Error(subject, "stride " + shapeToString(view.strides) + " is negative");
        if (elements > 0) {
            // The last element the view reaches, with every product checked against overflow.
            uint64_t last = static_cast<uint64_t>(view.offset);
            constexpr uint64_t kLimit = uint64_t{1} << 62;
            for (std::size_t i = 0; i < view.shape.size(); ++i) {
                const auto extent = static_cast<uint64_t>(view.shape[i] - 1);
                const auto stride = static_cast<uint64_t>(view.strides[i]);
                if (stride != 0 && extent > (kLimit - last) / stride)
                    throw Error(subject, "stride " + shapeToString(view.strides) + " overflows");
                last += extent * stride;
            }
            if (last >= storage.elements)
                throw Error(subject, "view (offset " + std::to_string(view.offset) + ", size " +
                                         shapeToString(view.shape) + ", stride " +
                                         shapeToString(view.strides) + ") reaches element " +
                                         std::to_string(last) + " past the end of storage \"" + storage.key +
                                         "\" (" + std::to_string(storage.elements) + " elements)");
        }
        m_contents.tensors.push_back(
            {name, view.storage, static_cast<uint64_t>(view.offset), view.shape, view.strides});
    }

    std::span<const std::byte> m_data;
    const std::string& m_subject;
    std::size_t m_position = 0;
    std::size_t m_opcodeStart = 0;
    std::vector<Value> m_stack;
    std::vector<std::size_t> m_marks;
    std::unordered_map<uint64_t, Value> m_memo;
    std::vector<Node> m_nodes;
    std::vector<TensorView> m_views;
    std::unordered_map<std::string, std::size_t> m_storageByKey;
    TorchPickleContents m_contents;
};

} // namespace

TorchPickleContents unpickleTorchCheckpoint(std::span<const std::byte> pickle, const std::string& subject) {
    return Unpickler(pickle, subject).run();
}

} // namespace quantscope
