// PyTorch checkpoints written by torch.save (the zip format, PyTorch >= 1.6):
//   <archive>/data.pkl        the pickled object, tensors as persistent ids naming their storage
//   <archive>/data/<key>      each storage's raw little-endian bytes
//   <archive>/byteorder       "little" (newer PyTorch; absent means little)
// The unpickler below is restricted: it knows the opcodes pickle protocols 2-5 use for containers,
// numbers and strings, and a fixed allow-list of globals (OrderedDict, the tensor rebuild functions,
// the storage types). It never imports or calls anything; any other global or opcode is an error.
// Objects live in an arena and are referred to by pointer, so reference cycles or deep chains
// built through the memo cannot overflow the stack or leak; their count is bounded.
#include <bit>
#include <cstring>
#include <memory>
#include <optional>

#include "io/printable.hpp"
#include "io/weights.hpp"
#include "io/zip_archive.hpp"

namespace ks::io {

namespace {

constexpr std::size_t kMaxObjects = 1 << 20;
constexpr std::size_t kMaxStack = 1 << 16;
constexpr std::size_t kMaxMemo = 1 << 20;

struct Value {
    enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
    Kind kind = Kind::None;
    std::int64_t integer = 0;
    double real = 0;
    std::string text;                                  // String; Global as "module.name"
    std::vector<Value*> items;                         // Tuple, List
    std::vector<std::pair<Value*, Value*>> entries;    // Dict, in insertion order
    // Storage: dtype taken from the storage type, key of its data entry, element count.
    std::string dtype;
    std::size_t elementBytes = 0;
    std::string key;
    std::int64_t numel = 0;
    // Tensor
    Value* storage = nullptr;
    std::int64_t offset = 0;
    std::vector<std::int64_t> sizes, strides;
};

const char* kindName(Value::Kind k) {
    switch (k) {
        case Value::Kind::None: return "None";
        case Value::Kind::Bool: return "bool";
        case Value::Kind::Int: return "int";
        case Value::Kind::Float: return "float";
        case Value::Kind::String: return "str";
        case Value::Kind::Tuple: return "tuple";
        case Value::Kind::List: return "list";
        case Value::Kind::Dict: return "dict";
        case Value::Kind::Global: return "global";
        case Value::Kind::Storage: return "storage";
        case Value::Kind::Tensor: return "tensor";
    }
    return "?";
}

struct StorageType {
    const char* global;
    const char* dtype;
    std::size_t bytes;
};
constexpr StorageType kStorageTypes[] = {{"torch.FloatStorage", "float32", 4},
                                         {"torch.HalfStorage", "float16", 2},
                                         {"torch.DoubleStorage", "float64", 8},
                                         {"torch.BFloat16Storage", "bfloat16", 2},
                                         // Integer buffers (BatchNorm's num_batches_tracked) load too.
                                         {"torch.LongStorage", "int64", 8},
                                         {"torch.IntStorage", "int32", 4}};

constexpr const char* kAllowedCallables[] = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                             "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter"};

class Unpickler {
public:
    Unpickler(std::string_view pickle, const std::string& what) : p_(pickle), what_(what) {}

    Value* run() {
        for (;;) {
            if (pos_ >= p_.size()) fail("ends without a STOP opcode (truncated)");
            const std::size_t at = pos_;
            const auto op = static_cast<unsigned char>(p_[pos_++]);
            switch (op) {
                case 0x80: byte(); break;                              // PROTO
                case 0x95: bytes(8); break;                            // FRAME: framing only
                case '.':                                              // STOP
                    if (stack_.size() != 1 || !marks_.empty()) fail("stack not balanced at STOP");
                    return stack_.back();
                case 'N': push(make(Value::Kind::None)); break;
                case 0x88: case 0x89: {                                // NEWTRUE, NEWFALSE
                    Value* v = make(Value::Kind::Bool);
                    v->integer = op == 0x88;
                    push(v);
                    break;
                }
                case 'K': pushInt(static_cast<std::int64_t>(byte())); break;      // BININT1
                case 'M': pushInt(static_cast<std::int64_t>(le(2))); break;       // BININT2
                case 'J': pushInt(static_cast<std::int32_t>(le(4))); break;       // BININT
                case 0x8a: {                                                       // LONG1
                    const std::size_t n = byte();
                    if (n > 8) fail("integer of " + std::to_string(n) + " bytes is too large", at);
                    std::uint64_t raw = le(n);
                    if (n > 0 && n < 8 && (raw >> (8 * n - 1)) & 1) raw |= ~std::uint64_t{0} << (8 * n);
                    pushInt(static_cast<std::int64_t>(raw));
                    break;
                }
                case 'G': {                                                        // BINFLOAT, big-endian
                    std::uint64_t raw = 0;
                    for (char c : bytes(8)) raw = (raw << 8) | static_cast<unsigned char>(c);
                    Value* v = make(Value::Kind::Float);
                    std::memcpy(&v->real, &raw, 8);
                    push(v);
                    break;
                }
                case 'X': pushString(bytes(le(4))); break;             // BINUNICODE
                case 0x8c: pushString(bytes(byte())); break;           // SHORT_BINUNICODE
                case 0x8d: pushString(bytes(le(8))); break;            // BINUNICODE8
                case 'T': pushString(bytes(le(4))); break;             // BINSTRING
                case 'U': pushString(bytes(byte())); break;            // SHORT_BINSTRING
                case 'B': pushString(bytes(le(4))); break;             // BINBYTES
                case 'C': pushString(bytes(byte())); break;            // SHORT_BINBYTES
                case ')': push(make(Value::Kind::Tuple)); break;
                case ']': push(make(Value::Kind::List)); break;
                case '}': push(make(Value::Kind::Dict)); break;
                case '(':
                    if (marks_.size() >= kMaxStack) fail("too many marks", at);
                    marks_.push_back(stack_.size());
                    break;
                case 't': case 'l': {                                  // TUPLE, LIST from the mark
                    Value* v = make(op == 't' ? Value::Kind::Tuple : Value::Kind::List);
                    v->items = popToMark(at);
                    push(v);
                    break;
                }
                case 'd': {                                            // DICT from the mark
                    Value* v = make(Value::Kind::Dict);
                    const auto items = popToMark(at);
                    if (items.size() % 2) fail("DICT with an odd number of items", at);
                    for (std::size_t i = 0; i < items.size(); i += 2) v->entries.emplace_back(items[i], items[i + 1]);
                    push(v);
                    break;
                }
                case 0x85: case 0x86: case 0x87: {                     // TUPLE1..3
                    const std::size_t n = op - 0x84u;
                    Value* v = make(Value::Kind::Tuple);
                    need(n, at);
                    v->items.assign(stack_.end() - static_cast<long>(n), stack_.end());
                    stack_.resize(stack_.size() - n);
                    push(v);
                    break;
                }
                case 'q': memoPut(byte(), at); break;                  // BINPUT
                case 'r': memoPut(le(4), at); break;                   // LONG_BINPUT
                case 0x94: memoPut(memo_.size(), at); break;           // MEMOIZE
                case 'h': push(memoGet(byte(), at)); break;            // BINGET
                case 'j': push(memoGet(le(4), at)); break;             // LONG_BINGET
                case 'c': {                                            // GLOBAL "module\nname\n"
                    const std::string module = line();
                    const std::string name = line();
                    push(global(module + "." + name, at));
                    break;
                }
                case 0x93: {                                           // STACK_GLOBAL
                    need(2, at);
                    Value* name = pop();
                    Value* module = pop();
                    if (name->kind != Value::Kind::String || module->kind != Value::Kind::String)
                        fail("STACK_GLOBAL needs two strings", at);
                    push(global(module->text + "." + name->text, at));
                    break;
                }
                case 'Q': {                                            // BINPERSID
                    need(1, at);
                    push(persistent(pop(), at));
                    break;
                }
                case 'R': {                                            // REDUCE
                    need(2, at);
                    Value* args = pop();
                    Value* callable = pop();
                    push(reduce(callable, args, at));
                    break;
                }
                case 'b': {                                            // BUILD: sets attributes (e.g. _metadata)
                    need(2, at);
                    pop();
                    const Value* target = stack_.back();
                    if (target->kind != Value::Kind::Dict && target->kind != Value::Kind::Tensor)
                        fail(std::string("BUILD on a ") + kindName(target->kind), at);
                    break;
                }
                case 's': {                                            // SETITEM
                    need(3, at);
                    Value* value = pop();
                    Value* key = pop();
                    dictAt(stack_.back(), at)->entries.emplace_back(key, value);
                    break;
                }
                case 'u': {                                            // SETITEMS
                    const auto items = popToMark(at);
                    if (items.size() % 2) fail("SETITEMS with an odd number of items", at);
                    need(1, at);
                    Value* dict = dictAt(stack_.back(), at);
                    for (std::size_t i = 0; i < items.size(); i += 2) dict->entries.emplace_back(items[i], items[i + 1]);
                    break;
                }
                case 'a': {                                            // APPEND
                    need(2, at);
                    Value* item = pop();
                    listAt(stack_.back(), at)->items.push_back(item);
                    break;
                }
                case 'e': {                                            // APPENDS
                    const auto items = popToMark(at);
                    need(1, at);
                    Value* list = listAt(stack_.back(), at);
                    list->items.insert(list->items.end(), items.begin(), items.end());
                    break;
                }
                default: {
                    static const char* hex = "0123456789abcdef";
                    fail(std::string("unsupported pickle opcode 0x") + hex[op >> 4] + hex[op & 15] +
                             " (not part of a state_dict of tensors)",
                         at);
                }
            }
        }
    }

private:
    [[noreturn]] void fail(const std::string& message, std::size_t at = std::string::npos) const {
        throw WeightFileError(what_ + ": data.pkl" +
                              (at == std::string::npos ? std::string() : " at byte " + std::to_string(at)) + ": " +
                              message);
    }

    Value* make(Value::Kind kind) {
        if (arena_.size() >= kMaxObjects) fail("more than " + std::to_string(kMaxObjects) + " objects");
        arena_.push_back(std::make_unique<Value>());
        arena_.back()->kind = kind;
        return arena_.back().get();
    }
    void push(Value* v) {
        if (stack_.size() >= kMaxStack) fail("stack deeper than " + std::to_string(kMaxStack));
        stack_.push_back(v);
    }
    void need(std::size_t n, std::size_t at) const {
        const std::size_t base = marks_.empty() ? 0 : marks_.back();
        if (stack_.size() < base + n) fail("stack underflow", at);
    }
    Value* pop() {
        Value* v = stack_.back();
        stack_.pop_back();
        return v;
    }
    std::vector<Value*> popToMark(std::size_t at) {
        if (marks_.empty()) fail("no MARK to pop to", at);
        const std::size_t mark = marks_.back();
        marks_.pop_back();
        std::vector<Value*> items(stack_.begin() + static_cast<long>(mark), stack_.end());
        stack_.resize(mark);
        return items;
    }
    void pushInt(std::int64_t i) {
        Value* v = make(Value::Kind::Int);
        v->integer = i;
        push(v);
    }
    void pushString(std::string_view s) {
        Value* v = make(Value::Kind::String);
        v->text = s;
        push(v);
    }
    std::size_t byte() { return static_cast<unsigned char>(bytes(1)[0]); }
    std::uint64_t le(std::size_t n) {
        std::uint64_t v = 0;
        const std::string_view b = bytes(n);
        for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
        return v;
    }
    std::string_view bytes(std::uint64_t n) {
        if (n > p_.size() - pos_) fail("an item of " + std::to_string(n) + " bytes runs past the end", pos_);
        const std::string_view b = p_.substr(pos_, static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return b;
    }
    std::string line() {
        const std::size_t end = p_.find('\n', pos_);
        if (end == std::string_view::npos || end - pos_ > 256) fail("malformed GLOBAL", pos_);
        std::string s(p_.substr(pos_, end - pos_));
        pos_ = end + 1;
        return s;
    }
    void memoPut(std::uint64_t index, std::size_t at) {
        need(1, at);
        if (index >= kMaxMemo) fail("memo index " + std::to_string(index) + " too large", at);
        if (index >= memo_.size()) memo_.resize(static_cast<std::size_t>(index) + 1, nullptr);
        memo_[static_cast<std::size_t>(index)] = stack_.back();
    }
    Value* memoGet(std::uint64_t index, std::size_t at) {
        if (index >= memo_.size() || !memo_[static_cast<std::size_t>(index)])
            fail("memo index " + std::to_string(index) + " was never stored", at);
        return memo_[static_cast<std::size_t>(index)];
    }
    Value* dictAt(Value* v, std::size_t at) {
        if (v->kind != Value::Kind::Dict) fail(std::string("SETITEM on a ") + kindName(v->kind), at);
        return v;
    }
    Value* listAt(Value* v, std::size_t at) {
        if (v->kind != Value::Kind::List) fail(std::string("APPEND on a ") + kindName(v->kind), at);
        return v;
    }

    Value* global(const std::string& name, std::size_t at) {
        bool allowed = false;
        for (const char* c : kAllowedCallables) allowed |= name == c;
        for (const auto& s : kStorageTypes) allowed |= name == s.global;
        if (!allowed)
            fail("refuses to load global '" + printable(name) +
                     "': only tensors, storages and OrderedDict are allowed", at);
        Value* v = make(Value::Kind::Global);
        v->text = name;
        return v;
    }

    Value* persistent(Value* pid, std::size_t at) {
        // ('storage', <storage type>, key, location, numel)
        if (pid->kind != Value::Kind::Tuple || pid->items.size() != 5 || pid->items[0]->kind != Value::Kind::String ||
            pid->items[0]->text != "storage" || pid->items[1]->kind != Value::Kind::Global ||
            pid->items[2]->kind != Value::Kind::String || pid->items[4]->kind != Value::Kind::Int)
            fail("persistent id is not ('storage', type, key, location, numel)", at);
        Value* s = make(Value::Kind::Storage);
        for (const auto& t : kStorageTypes)
            if (pid->items[1]->text == t.global) {
                s->dtype = t.dtype;
                s->elementBytes = t.bytes;
            }
        if (!s->elementBytes) fail("storage type '" + printable(pid->items[1]->text) + "' is not supported", at);
        s->key = pid->items[2]->text;
        s->numel = pid->items[4]->integer;
        if (s->numel < 0) fail("negative storage size", at);
        return s;
    }

    std::vector<std::int64_t> intTuple(const Value* v, const char* what, std::size_t at) {
        if (v->kind != Value::Kind::Tuple) fail(std::string(what) + " is not a tuple", at);
        std::vector<std::int64_t> out;
        for (const Value* i : v->items) {
            if (i->kind != Value::Kind::Int || i->integer < 0) fail(std::string(what) + " holds a non-integer", at);
            out.push_back(i->integer);
        }
        return out;
    }

    Value* reduce(Value* callable, Value* args, std::size_t at) {
        if (callable->kind != Value::Kind::Global) fail(std::string("REDUCE calls a ") + kindName(callable->kind), at);
        if (args->kind != Value::Kind::Tuple) fail("REDUCE arguments are not a tuple", at);
        const std::string& f = callable->text;
        const auto& a = args->items;
        if (f == "collections.OrderedDict") {
            if (!a.empty()) fail("OrderedDict with arguments", at);
            return make(Value::Kind::Dict);
        }
        if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor") {
            if (a.size() < 4 || a[0]->kind != Value::Kind::Storage || a[1]->kind != Value::Kind::Int)
                fail(f + " with unexpected arguments", at);
            Value* t = make(Value::Kind::Tensor);
            t->storage = a[0];
            t->offset = a[1]->integer;
            t->sizes = intTuple(a[2], "tensor size", at);
            t->strides = intTuple(a[3], "tensor stride", at);
            if (t->sizes.size() != t->strides.size()) fail("tensor size and stride differ in length", at);
            if (t->offset < 0) fail("negative storage offset", at);
            return t;
        }
        if (f == "torch._utils._rebuild_parameter") {
            if (a.empty() || a[0]->kind != Value::Kind::Tensor) fail(f + " without a tensor", at);
            return a[0];
        }
        fail("'" + printable(f) + "' cannot be called", at);
    }

    std::string_view p_;
    const std::string& what_;
    std::size_t pos_ = 0;
    std::vector<std::unique_ptr<Value>> arena_;
    std::vector<Value*> stack_;
    std::vector<std::size_t> marks_;
    std::vector<Value*> memo_;
};

bool isTensorDict(const Value* v) {
    if (v->kind != Value::Kind::Dict) return false;
    for (const auto& [k, value] : v->entries)
        if (value->kind == Value::Kind::Tensor) return true;
    return false;
}

/// a·b and a + b on sizes read from the file, or WeightFileError: a storage may claim up to 2^63 elements.
std::int64_t checkedMul(std::int64_t a, std::int64_t b, const std::string& where) {
    std::int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) throw WeightFileError(where + ": its sizes overflow 64 bits");
    return r;
}
std::int64_t checkedAdd(std::int64_t a, std::int64_t b, const std::string& where) {
    std::int64_t r;
    if (__builtin_add_overflow(a, b, &r)) throw WeightFileError(where + ": its sizes overflow 64 bits");
    return r;
}

TensorF materialise(const Value* t, const ZipArchive& zip, const std::string& prefix, const std::string& name,
                    const std::string& what) {
    const Value* s = t->storage;
    const std::string where = what + ": tensor '" + printable(name) + "'";
    const std::string storageName = "storage '" + printable(s->key) + "'";
    const ZipEntry* entry = zip.find(prefix + "data/" + s->key);
    if (!entry) throw WeightFileError(where + ": " + storageName + " is missing from the archive");
    if (entry->uncompressedSize / s->elementBytes < static_cast<std::uint64_t>(s->numel))
        throw WeightFileError(where + ": " + storageName + " claims " + std::to_string(s->numel) +
                              " elements but its entry holds " + std::to_string(entry->uncompressedSize) + " bytes");
    // From here numel ≤ the entry's size, but offsets, sizes and strides are the file's own 63-bit numbers.
    std::int64_t count = 1;
    for (std::size_t d = 0; d < t->sizes.size(); ++d) {
        const std::int64_t size = t->sizes[d];
        if (size > kMaxTensorElements || (size && count > kMaxTensorElements / size))
            throw WeightFileError(where + " is too large");
        count *= size;
    }
    // A view may repeat elements (stride 0), but a small file must not become a huge tensor.
    if (count > checkedAdd(checkedMul(64, s->numel, where), 4096, where))
        throw WeightFileError(where + ": its view has " + std::to_string(count) + " elements from a storage of " +
                              std::to_string(s->numel) + " (save a .contiguous() copy)");
    if (count > 0) {
        std::int64_t last = t->offset;  // the furthest element the view touches
        for (std::size_t d = 0; d < t->sizes.size(); ++d)
            last = checkedAdd(last, checkedMul(t->sizes[d] - 1, t->strides[d], where), where);
        if (last >= s->numel)
            throw WeightFileError(where + ": its view (offset " + std::to_string(t->offset) +
                                  ", sizes and strides) reaches element " + std::to_string(last) +
                                  ", outside its storage of " + std::to_string(s->numel) + " elements");
    }
    const std::string storageBytes = zip.read(*entry);
    const std::span<const std::byte> storage = std::as_bytes(std::span(storageBytes));

    Shape shape(t->sizes.begin(), t->sizes.end());
    TensorF out(shape);
    std::vector<std::int64_t> index(t->sizes.size(), 0);
    for (std::int64_t i = 0; i < count; ++i) {
        std::int64_t element = t->offset;
        for (std::size_t d = 0; d < index.size(); ++d) element += index[d] * t->strides[d];
        const std::byte* p = storage.data() + static_cast<std::size_t>(element) * s->elementBytes;
        float value;
        if (s->dtype == "float32") {
            std::memcpy(&value, p, 4);
        } else if (s->dtype == "float64") {
            double d;
            std::memcpy(&d, p, 8);
            value = static_cast<float>(d);
        } else if (s->dtype == "int64") {
            std::int64_t n;
            std::memcpy(&n, p, 8);
            value = static_cast<float>(n);
        } else if (s->dtype == "int32") {
            std::int32_t n;
            std::memcpy(&n, p, 4);
            value = static_cast<float>(n);
        } else {
            std::uint16_t bits;
            std::memcpy(&bits, p, 2);
            value = s->dtype == "float16" ? halfToFloat(bits) : bfloat16ToFloat(bits);
        }
        out[static_cast<std::size_t>(i)] = value;
        for (std::size_t d = index.size(); d-- > 0;) {  // row-major increment
            if (++index[d] < t->sizes[d]) break;
            index[d] = 0;
        }
    }
    return out;
}

}  // namespace

WeightSet parseTorchCheckpoint(std::span<const std::byte> bytes, const std::string& what) {
    static_assert(std::endian::native == std::endian::little, "the readers assume a little-endian host");
    try {
        const ZipArchive zip(bytes, what);
        const ZipEntry* pickle = nullptr;
        std::string prefix;
        for (const auto& e : zip.entries()) {
            if (e.name == "data.pkl" || (e.name.size() > 9 && e.name.compare(e.name.size() - 9, 9, "/data.pkl") == 0 &&
                                         e.name.find('/') == e.name.size() - 9)) {
                if (pickle) throw WeightFileError(what + ": more than one data.pkl in the archive");
                pickle = &e;
                prefix = e.name.substr(0, e.name.size() - 8);
            }
        }
        if (!pickle) throw WeightFileError(what + ": no data.pkl: not a torch.save checkpoint");
        if (const ZipEntry* order = zip.find(prefix + "byteorder")) {
            const std::string text = zip.read(*order);
            if (text != "little")
                throw WeightFileError(what + ": tensors stored with byte order '" + printable(text) + "'");
        }
        const std::string pickleBytes = zip.read(*pickle);
        Unpickler unpickler(pickleBytes, what);
        const Value* root = unpickler.run();
        if (root->kind == Value::Kind::Dict && !isTensorDict(root)) {
            // A training checkpoint: {"model_state_dict": {...}, "optimizer": ..., "epoch": ...}
            for (const auto& [key, value] : root->entries)
                if (key->kind == Value::Kind::String &&
                    (key->text == "state_dict" || key->text == "model_state_dict" || key->text == "model") &&
                    isTensorDict(value)) {
                    root = value;
                    break;
                }
        }
        if (!isTensorDict(root))
            throw WeightFileError(what + ": holds a " + kindName(root->kind) +
                                  " that is not a state_dict of tensors (save model.state_dict())");
        WeightSet set;
        set.format = WeightFormat::TorchCheckpoint;
        for (const auto& [key, value] : root->entries) {
            if (value->kind != Value::Kind::Tensor) continue;  // e.g. an int buffer stored as metadata
            if (key->kind != Value::Kind::String) throw WeightFileError(what + ": a tensor has a non-string name");
            std::string name = key->text;
            if (name.rfind("module.", 0) == 0) name.erase(0, 7);  // saved from DataParallel
            if (set.find(name)) throw WeightFileError(what + ": tensor '" + printable(name) + "' appears twice");
            set.tensors.push_back({name, materialise(value, zip, prefix, name, what), value->storage->dtype});
        }
        return set;
    } catch (const ZipError& e) {
        throw WeightFileError(e.what());
    }
}

}  // namespace ks::io
